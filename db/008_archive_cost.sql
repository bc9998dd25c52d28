-- 008_archive_cost.sql - what the walk of a cached archive used of its
-- outer file's budget (bytes decompressed out of members, bytes out of
-- gzip streams, members) and how many archives deep below it it met
-- archives. A record is replayed only where its cost fits what is left
-- of the outer file's budget and of --max-depth, as the scan's memory of
-- archives (archmemo) already does, and the replay charges it: a jar met
-- first loose in a layer no longer escapes --max-nested-bytes,
-- --max-nested-members or --max-depth when met again deep inside another
-- archive. Records kept before have no cost: they are dropped (their
-- archives are walked again once).
DELETE FROM archive_findings;
DELETE FROM archives;
ALTER TABLE archives ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE archives ADD COLUMN inflated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE archives ADD COLUMN members INTEGER NOT NULL DEFAULT 0;
ALTER TABLE archives ADD COLUMN levels INTEGER NOT NULL DEFAULT 0;
