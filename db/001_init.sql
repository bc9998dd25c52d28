-- 001_init.sql - the first stowaway schema. Findings belong to a blob (a
-- layer digest, or an image config digest), so a layer shared by many images
-- is scanned and stored once; images map to ordered layers, and visibility
-- of each finding is decided per image in image_findings. No column ever
-- holds a plaintext secret: only its redacted excerpt and its sha256.

-- One run of the scanner. Timestamps are ISO 8601 UTC text.
CREATE TABLE scans (
    id            INTEGER PRIMARY KEY,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    tool_version  TEXT NOT NULL,
    rules_version TEXT NOT NULL,
    args          TEXT
);

-- A scanned layer blob. pathset is the serialised stw_pathset (pathset.h):
-- what this layer does to the paths below it, so visibility can be decided
-- for any image without reading the blob again. rules_version tells whether
-- its findings can be reused by a later scan.
CREATE TABLE layers (
    digest        TEXT PRIMARY KEY,
    diff_id       TEXT,
    media_type    TEXT,
    size          INTEGER NOT NULL,
    uncompressed  INTEGER NOT NULL,
    entries       INTEGER NOT NULL,
    pathset       BLOB NOT NULL,
    rules_version TEXT NOT NULL,
    scanned_at    TEXT NOT NULL
);

-- A fact about one blob. Config findings (in_config = 1) belong to the config
-- digest and have path '<config>'. The fingerprint is stable across scans
-- (rule, blob, path, secret hash), so a rescan updates rows in place and the
-- image_findings of earlier scans keep pointing at them. kind and severity
-- are the names used in reports ("private-key", "high"). line and offset are
-- NULL when unknown; mode, uid and gid only for metadata findings.
CREATE TABLE findings (
    id            INTEGER PRIMARY KEY,
    blob_digest   TEXT NOT NULL,
    in_config     INTEGER NOT NULL DEFAULT 0 CHECK (in_config IN (0, 1)),
    path          TEXT NOT NULL,
    is_dir        INTEGER NOT NULL DEFAULT 0 CHECK (is_dir IN (0, 1)),
    kind          TEXT NOT NULL,
    rule          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    line          INTEGER,
    "offset"      INTEGER,
    mode          INTEGER,
    uid           INTEGER,
    gid           INTEGER,
    validated     INTEGER NOT NULL DEFAULT 0 CHECK (validated IN (0, 1)),
    fingerprint   TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL DEFAULT '',
    excerpt       TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT '',
    UNIQUE (blob_digest, in_config, fingerprint)
);

-- An image seen by a scan; position keeps the order the scan met them in.
CREATE TABLE images (
    id              INTEGER PRIMARY KEY,
    scan_id         INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    ref             TEXT NOT NULL,
    manifest_digest TEXT NOT NULL DEFAULT '',
    config_digest   TEXT NOT NULL,
    platform        TEXT NOT NULL DEFAULT '',
    position        INTEGER NOT NULL
);
CREATE INDEX images_by_scan ON images (scan_id, position);

-- The ordered layers of an image. The same digest may appear at two indexes.
CREATE TABLE image_layers (
    image_id     INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    layer_digest TEXT NOT NULL REFERENCES layers (digest),
    created_by   TEXT NOT NULL DEFAULT '',
    cached       INTEGER NOT NULL DEFAULT 0 CHECK (cached IN (0, 1)),
    PRIMARY KEY (image_id, idx)
);
CREATE INDEX image_layers_by_digest ON image_layers (layer_digest);

-- Every finding of an image with its visibility in the final filesystem.
-- layer_idx is NULL for config findings; removed_in_layer is the index of
-- the first later layer that deleted or replaced the path, NULL if visible.
CREATE TABLE image_findings (
    image_id         INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    finding_id       INTEGER NOT NULL REFERENCES findings (id)
                         ON DELETE CASCADE,
    layer_idx        INTEGER,
    visible          INTEGER NOT NULL CHECK (visible IN (0, 1)),
    removed_in_layer INTEGER
);
CREATE INDEX image_findings_by_image ON image_findings (image_id, layer_idx);
CREATE INDEX image_findings_by_finding ON image_findings (finding_id);

-- Input errors of a scan, so a report can list what could not be read.
CREATE TABLE errors (
    id      INTEGER PRIMARY KEY,
    scan_id INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    target  TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX errors_by_scan ON errors (scan_id);
