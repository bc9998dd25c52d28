"""db_norm.py DB - prints a stowaway database's images, layers, findings
and per-image visibility as sorted text lines without row ids, scan rows,
positions, timestamps or the per-scan `cached` flag: what must be equal
between a single-process scan and the `db merge` of its shards."""
import sqlite3, sys

db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
rows = []
Q = {
    "image": "SELECT ref, manifest_digest, config_digest, platform FROM images",
    "image_layer": "SELECT i.ref, i.platform, il.idx, il.layer_digest, "
                   "il.created_by FROM image_layers il JOIN images i "
                   "ON i.id = il.image_id",
    "layer": "SELECT digest, diff_id, media_type, size, uncompressed, "
             "entries, hex(pathset), rules_version FROM layers",
    "finding": "SELECT blob_digest, in_config, path, is_dir, kind, rule, "
               "severity, line, \"offset\", mode, uid, gid, validated, "
               "fingerprint, secret_sha256, excerpt, detail FROM findings",
    "visibility": "SELECT i.ref, i.platform, i.config_digest, f.blob_digest, "
                  "f.fingerprint, x.layer_idx, x.visible, x.removed_in_layer "
                  "FROM image_findings x JOIN images i ON i.id = x.image_id "
                  "JOIN findings f ON f.id = x.finding_id",
}
for name, q in Q.items():
    for r in db.execute(q):
        rows.append(name + "\t" + "\t".join("" if v is None else str(v)
                                            for v in r))
print("\n".join(sorted(rows)))
