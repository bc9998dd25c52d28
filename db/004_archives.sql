-- 004_archives.sql - files inside files. An archive found in a layer (a
-- jar, a wheel, a tarball) is keyed by the sha256 of its own bytes, so the
-- same log4j jar in a thousand images of a registry is inflated once: a
-- later occurrence, in any layer of any image, copies these findings under
-- its own path instead. Only archives scanned whole (no bound reached) are
-- kept, and only for the rules and detectors they were scanned with.

CREATE TABLE archives (
    sha256        TEXT NOT NULL,
    rules_version TEXT NOT NULL,
    size          INTEGER NOT NULL,
    scanned_at    TEXT NOT NULL,
    PRIMARY KEY (sha256, rules_version)
);

-- A finding inside an archive, its path relative to the archive ("BOOT-INF/
-- classes/application.properties", or "lib/a.jar!/x.properties" for a
-- deeper one). Like findings: never a plaintext secret.
CREATE TABLE archive_findings (
    sha256        TEXT NOT NULL,
    rules_version TEXT NOT NULL,
    path          TEXT NOT NULL,
    is_dir        INTEGER NOT NULL DEFAULT 0 CHECK (is_dir IN (0, 1)),
    kind          TEXT NOT NULL,
    rule          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    line          INTEGER,
    "offset"      INTEGER,
    validated     INTEGER NOT NULL DEFAULT 0 CHECK (validated IN (0, 1)),
    generic       INTEGER NOT NULL DEFAULT 0 CHECK (generic IN (0, 1)),
    secret_sha256 TEXT NOT NULL DEFAULT '',
    excerpt       TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (sha256, rules_version) REFERENCES archives
        ON DELETE CASCADE
);
CREATE INDEX archive_findings_by_archive
    ON archive_findings (sha256, rules_version);

-- What a layer's scan skipped or cut short without failing (a bound of
-- nested archives, a damaged inner archive): kept with the layer so a scan
-- that reuses the layer reports it again, as the first scan did.
CREATE TABLE layer_notes (
    layer_digest TEXT NOT NULL REFERENCES layers (digest) ON DELETE CASCADE,
    message      TEXT NOT NULL
);
CREATE INDEX layer_notes_by_layer ON layer_notes (layer_digest);
