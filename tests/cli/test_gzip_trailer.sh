#!/usr/bin/env bash
# test_gzip_trailer.sh - bytes after the gzip stream of a gzip file in a
# layer (`cat app.gz key.pem >backup.gz`), or after the end of a tar
# (`cat app.tar key.pem`, also inside a gzip stream), or after a zstd
# or xz stream (`cat x.tar.zst key.pem`), are no member's:
# they are scanned as they are, at the file's own path, with one note naming
# the file and their count; zero padding after a stream is left alone. A
# .gz, a .tgz, a multi-member .gz and a .gz inside a tar (depth 2), made
# with gzip(1), tar(1) and cat. The .gz with a trailer is never an archive
# cache record (the cache replays findings, not notes), nor is the tar
# holding one: met again, both are walked again, the note comes back.
. "$(dirname "$0")/lib.sh"

T="$WORKDIR/tree"
mkdir -p "$T/srv" "$T/var/cache" "$T/opt" "$WORKDIR/w"
cd "$WORKDIR/w"
KEY="$SRCDIR/fixtures/keys/ec.pem"
# A GitHub token with a valid checksum and a Google API key, minted as
# nested_fixtures.py mints them: the shape of real ones, granting nothing.
python3 - <<'PY'
from nested_fixtures import mint
import random
with open("token.txt", "w") as f:
    f.write("GITHUB_TOKEN=%s\n" % mint("ghp", 7))
with open("b.txt", "w") as f:
    f.write("maps key=%s\n" % mint("google", 7))
# 96 KiB that gzip cannot shrink: the .gz is big enough for the cache.
with open("noise.bin", "wb") as f:
    f.write(random.Random("stowaway-gz-trailer").randbytes(96 << 10))
PY
KEYLEN=$(stat -c %s "$KEY")
TOKLEN=$(stat -c %s token.txt)

# cat real.gz secret > backup.gz
gzip -c noise.bin >noise.gz
cat noise.gz "$KEY" >"$T/srv/backup.gz"
# tape-style padding: zeros after the stream (of a tar: a single .gz is
# never cached, its member being named after its own path)
tar -czf noise.tgz --owner=0 --group=0 noise.bin
{ cat noise.tgz; head -c 10240 /dev/zero; } >"$T/srv/padded.tgz"
# a package tarball with a token after it
mkdir -p pkg/package
echo '{"name": "acme", "version": "1.0.0"}' >pkg/package/package.json
tar -czf pkg.tgz --owner=0 --group=0 -C pkg package
cat pkg.tgz token.txt >"$T/var/cache/pkg.tgz"
# two members (the second holding a key of its own), then the token
echo "started" >a.txt
gzip -c a.txt >a.gz
gzip -c b.txt >b.gz
cat a.gz b.gz token.txt >"$T/srv/multi.gz"
# a whole gzip header, no deflate data, then the token: a damaged stream.
# Damaged within the first read of a small file, it cannot be opened and
# is scanned whole; after 96 KiB of members, what follows the last whole
# member is scanned.
printf '\037\213\010\000\000\000\000\000\000\003' >fakehdr
cat a.gz fakehdr token.txt >"$T/srv/fake.gz"
cat noise.gz fakehdr token.txt >"$T/srv/fake-big.gz"
FAKENOTE="srv/fake-big.gz: $((10 + TOKLEN)) bytes after the last whole"
FAKENOTE+=" member of the damaged gzip stream; scanned as they are"
# `cat a.tar key.pem`: after the tar's end-of-archive blocks (a.txt is one
# block of header and one of data, then two blocks of zeros end it)
tar -cf a.tar --owner=0 --group=0 a.txt
cat a.tar "$KEY" >"$T/srv/plain.tar"
TARNOTE="srv/plain.tar: $(($(stat -c %s a.tar) - 2048 + KEYLEN)) bytes after"
TARNOTE+=" the end of the tar archive; scanned as they are"
# `cat x.tar.zst key.pem`: after the zstd stream's last frame; the tar in
# it (holding the token) is still walked
tar -cf tok.tar --owner=0 --group=0 token.txt
zstd -q -c tok.tar >tok.tar.zst
cat tok.tar.zst "$KEY" >"$T/srv/backup.tar.zst"
# the same after an xz stream (made by Python's lzma: no xz(1) needed)
python3 -c 'import lzma, sys; sys.stdout.buffer.write(lzma.compress(open("tok.tar", "rb").read()))' >tok.tar.xz
cat tok.tar.xz "$KEY" >"$T/srv/backup.tar.xz"
# `cat a.tar key.pem | gzip`: after the tar's end inside the gzip stream
cat a.tar "$KEY" | gzip -c >"$T/srv/inside.tgz"
TGZNOTE="srv/inside.tgz: $(($(stat -c %s a.tar) - 2048 + KEYLEN)) bytes after"
TGZNOTE+=" the end of the tar archive in its gzip stream; scanned as they are"
# depth 2: the .gz with the key after it, inside a tar in the layer
mkdir -p dump/db
cp "$T/srv/backup.gz" dump/db/backup.gz
tar -cf "$T/opt/dump.tar" --owner=0 --group=0 -C dump db
tar -cf "$WORKDIR/layer.tar" --owner=0 --group=0 -C "$T" .

# noted FILE BYTES: a cj_all line - the report's errors hold the note for
# BYTES bytes after the gzip stream of FILE.
noted() {
    local m="$1: $2 bytes after the gzip stream; scanned as they are"
    echo "eval any(e[\"message\"].endswith(\"$m\") for e in r[\"errors\"]) \
# no note for $1"
}

note "gzip trailer: found at the .gz path, with a note"
scan_json t --no-db "$WORKDIR/layer.tar"
expect_rc 1 "findings"
check_no_plaintext "$WORKDIR/t.json"
cj_all "$WORKDIR/t.json" <<EOF
has path=srv/backup.gz kind=private-key # the key after backup.gz's stream
has path=var/cache/pkg.tgz rule=github-pat # the token after pkg.tgz
has path=srv/multi.gz rule=github-pat # the token after the two members
has path='srv/multi.gz!/multi' rule=google-api-key \\
    # the second member's key (a multi-member stream is one file)
has path='opt/dump.tar!/db/backup.gz' kind=private-key \\
    # the key after the stream of a .gz inside a tar
none path=srv/padded.tgz # zero padding after a stream was scanned
has path=srv/fake.gz rule=github-pat \\
    # the token behind a gzip header with no deflate data after it
has path=srv/plain.tar kind=private-key # the key after the tar's end
eval any(e["message"].endswith("$TARNOTE") for e in r["errors"]) \\
    # no note for the bytes after the tar's end
has path=srv/backup.tar.zst kind=private-key \\
    # the key after the zstd stream
has path='srv/backup.tar.zst!/token.txt' rule=github-pat \\
    # the tar before a trailer in a zstd stream was not walked
eval any(e["message"].endswith("srv/backup.tar.zst: $KEYLEN bytes after the zstd stream; scanned as they are") for e in r["errors"]) \\
    # no note for the bytes after the zstd stream
has path=srv/backup.tar.xz kind=private-key \\
    # the key after the xz stream
has path='srv/backup.tar.xz!/token.txt' rule=github-pat \\
    # the tar before a trailer in an xz stream was not walked
eval any(e["message"].endswith("srv/backup.tar.xz: $KEYLEN bytes after the xz stream; scanned as they are") for e in r["errors"]) \\
    # no note for the bytes after the xz stream
has path=srv/inside.tgz kind=private-key \\
    # the key after the tar's end inside the gzip stream
eval any(e["message"].endswith("$TGZNOTE") for e in r["errors"]) \\
    # no note for the bytes after the tar's end in the gzip stream
has path=srv/fake-big.gz rule=github-pat \\
    # the token behind a gzip header after 96 KiB of a good member
eval any(e["message"].endswith("$FAKENOTE") for e in r["errors"]) \\
    # no note for the damaged stream's tail
$(noted srv/backup.gz "$KEYLEN")
$(noted var/cache/pkg.tgz "$TOKLEN")
$(noted 'opt/dump.tar!/db/backup.gz' "$KEYLEN")
eval sum("after the gzip stream" in e["message"] for e in r["errors"]) == 4 \\
    # one note per file with bytes after its stream, none for padded.tgz
eval not any("padded.tgz" in e["message"] for e in r["errors"]) \\
    # zero padding after a stream was noted
EOF
grep -q 'srv/backup.gz: [0-9]* bytes after the gzip stream' "$WORKDIR/t.err" ||
    fail "the note is not on the terminal"

note "gzip trailer: the archive cache"
DB="$WORKDIR/c.db"
scan_json c1 --db "$DB" "$WORKDIR/layer.tar"
# What the cache holds, by the sha256 of each file's bytes.
cached() {
    python3 - "$DB" "$1" <<'PY'
import hashlib, sqlite3, sys
sha = hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
n = sqlite3.connect(sys.argv[1]).execute(
    "SELECT count(*) FROM archives WHERE sha256 = ?", (sha,)).fetchone()[0]
print(n)
PY
}
[ "$(cached "$T/srv/backup.gz")" = 0 ] ||
    fail "a .gz with bytes after its stream was cached"
[ "$(cached "$T/srv/padded.tgz")" = 1 ] ||
    fail "a .tgz with zero padding after its stream was not cached"
[ "$(cached "$T/opt/dump.tar")" = 0 ] ||
    fail "the tar holding a .gz with a trailer was cached (its note is lost)"
# The same files in a new layer under other names: the padded .tgz (from
# the cache) stays without a note; the tar is walked again, with its
# finding and its note.
mkdir -p "$WORKDIR/again/srv"
cp "$T/srv/padded.tgz" "$WORKDIR/again/srv/p.tgz"
tar -cf "$WORKDIR/again0.tar" -C "$WORKDIR/again" .
scan_json c2 --db "$DB" "$WORKDIR/again0.tar"
cj_all "$WORKDIR/c2.json" <<'EOF'
eval not r["errors"] # the padded .tgz met again has a note
EOF
rm "$WORKDIR/again/srv/p.tgz"
cp "$T/opt/dump.tar" "$WORKDIR/again/srv/d.tar"
tar -cf "$WORKDIR/again1.tar" -C "$WORKDIR/again" .
scan_json c2b --db "$DB" "$WORKDIR/again1.tar"
cj_all "$WORKDIR/c2b.json" <<EOF
has path='srv/d.tar!/db/backup.gz' kind=private-key \\
    # the tar met again lost the trailer's finding
$(noted 'srv/d.tar!/db/backup.gz' "$KEYLEN")
EOF
rm "$WORKDIR/again/srv/d.tar"
cp "$T/srv/backup.gz" "$WORKDIR/again/srv/b.gz"
tar -cf "$WORKDIR/again2.tar" -C "$WORKDIR/again" .
scan_json c3 --db "$DB" "$WORKDIR/again2.tar"
cj_all "$WORKDIR/c3.json" <<EOF
has path=srv/b.gz kind=private-key # the .gz met again lost its trailer
$(noted srv/b.gz "$KEYLEN")
EOF
echo "gzip trailer: ok"
