-- 005_running_scans.sql - what keeps `db prune` off a scan that is still
-- running. A scan commits each layer as soon as it is read, and stores its
-- image (which is what refers to the layers) only at the end; so until it
-- ends, the layers it wrote or reused are held for it here, and
-- scans.active_at says when it last wrote, so that prune can tell a running
-- scan from one that was killed.

ALTER TABLE scans ADD COLUMN active_at TEXT;

-- The layers a scan that has not ended wrote or reused; end_scan empties
-- them, and a scan pruned (one killed long ago) takes its rows with it.
CREATE TABLE scan_layers (
    scan_id      INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    layer_digest TEXT NOT NULL,
    PRIMARY KEY (scan_id, layer_digest)
) WITHOUT ROWID;
CREATE INDEX scan_layers_by_digest ON scan_layers (layer_digest);
