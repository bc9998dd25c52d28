-- 007_diff_id_verified.sql - a layer's diff_id (the SHA-256 of its tar) is
-- computed only where it is the blob's own digest (an uncompressed layer)
-- or when the scan is asked to (--verify-diff-ids); otherwise layers.diff_id
-- is '' and the row says it was never verified. Rows stored before this
-- migration always had it computed. Only a verified diff_id may be relied
-- on (as a cache key, or to match another image's layer).
ALTER TABLE layers ADD COLUMN diff_id_verified INTEGER NOT NULL DEFAULT 1
    CHECK (diff_id_verified IN (0, 1));
-- What the image's config claims the layer's diff_id is (NULL when it has
-- no config). A claim belongs to the image that makes it, never to the
-- shared layer row, so one image's lying config shows only in its own
-- report.
ALTER TABLE image_layers ADD COLUMN diff_id TEXT;
ALTER TABLE deferred_image_layers ADD COLUMN diff_id TEXT;
