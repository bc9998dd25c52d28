-- 003_shards.sql - images recorded by one shard of a split scan
-- (--shard K/N). The layers an image needs are spread over the shards'
-- databases, so its visibility cannot be decided where it is recorded:
-- `stowaway db merge` copies these rows into the merged database and, once
-- every layer they name is there, turns each into an images row with its
-- image_findings (the same computation a single process does), then drops
-- it from here. Nothing here is a finding; findings stay keyed by blob.

CREATE TABLE deferred_images (
    id              INTEGER PRIMARY KEY,
    scan_id         INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    ref             TEXT NOT NULL,
    manifest_digest TEXT NOT NULL DEFAULT '',
    config_digest   TEXT NOT NULL,
    platform        TEXT NOT NULL DEFAULT '',
    position        INTEGER NOT NULL
);
CREATE INDEX deferred_images_by_scan ON deferred_images (scan_id, position);

-- The ordered layers of a deferred image. No reference to layers: a layer
-- may be stored in another shard's file until the merge.
CREATE TABLE deferred_image_layers (
    image_id     INTEGER NOT NULL REFERENCES deferred_images (id)
                     ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    layer_digest TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    cached       INTEGER NOT NULL DEFAULT 0 CHECK (cached IN (0, 1)),
    PRIMARY KEY (image_id, idx)
);

-- Resuming a batch run looks images up by scan and ref.
CREATE INDEX images_by_scan_ref ON images (scan_id, ref);
CREATE INDEX deferred_images_by_scan_ref ON deferred_images (scan_id, ref);
