#!/usr/bin/env bash
# test_nested.sh - secrets inside archives inside layers: a fat jar with
# stored nested jars, a war, a wheel, an npm cache entry without a suffix,
# a .tgz in a yarn mirror, a tar.gz backup a later layer deletes, a zip in
# a zip, a data-descriptor zip, a zip64 archive, single gzip and zstd
# streams (tests/cli/nested_fixtures.py, made with zip, tar, gzip, zstd and
# Python's zipfile). umoci builds the image, skopeo converts it; every form
# and standard input give the same '!/' findings. Then the bounds (depth,
# bytes, bombs), the archive cache, and Debian's own jars and wheels.
# `cat F |` on purpose: standard input must be a pipe.
# shellcheck disable=SC2002
. "$(dirname "$0")/lib.sh"
command -v umoci >/dev/null && command -v skopeo >/dev/null &&
    command -v zip >/dev/null || skip "umoci, skopeo and zip are needed"

N="$WORKDIR/nested"
mkdir -p "$N"
cd "$N"
ROOTLESS=()
[ "$(id -u)" -eq 0 ] || ROOTLESS=(--rootless)
q() { "$@" >>"$N/tools.log" 2>&1 || { cat "$N/tools.log" >&2; fail "$*"; }; }
check() { python3 "$SRCDIR/tests/cli/nested_check.py" "$@"; }

python3 "$SRCDIR/tests/cli/nested_fixtures.py" "$N/tree" "$N/expected.tsv" ||
    fail "fixture generator"
python3 "$SRCDIR/tests/cli/nested_fixtures.py" --bombs "$N/bombs" ||
    fail "bomb generator"

q umoci init --layout img
q umoci new --image img:v1
q umoci unpack "${ROOTLESS[@]}" --image img:v1 b0
cp -a "$N/tree/." b0/rootfs/
q umoci repack --image img:v1 --history.created_by 'COPY . /' b0
q umoci unpack "${ROOTLESS[@]}" --image img:v1 b1
rm b1/rootfs/opt/backup.tar.gz
q umoci repack --image img:v1 --history.created_by 'RUN rm /opt/backup.tar.gz' b1
q skopeo copy oci:img:v1 docker-archive:nested.docker.tar:fixture/nested:v1
q skopeo copy oci:img:v1 oci-archive:nested.oci.tar:v1
q skopeo copy --dest-compress-format zstd oci:img:v1 oci:zimg:v1
cd "$WORKDIR"

FORMS=(img nested.docker.tar nested.oci.tar zimg)
for t in "${FORMS[@]}"; do
    note "nested: $t"
    scan_json "$t" --no-db "$N/$t"
    check_no_plaintext "$WORKDIR/$t.json"
done

note "nested: docker-archive from standard input"
set +e
cat "$N/nested.docker.tar" | "$STOWAWAY" scan --no-db --format json - \
    >"$WORKDIR/pipe.json" 2>"$WORKDIR/pipe.err"
RC=$?
set -e
expect_rc 1 "stdin"
# Every form and stdin (pipe): all the planted secrets, and the same
# findings (what same_findings checks, one process for all).
args=() table=""
for t in "${FORMS[@]}" pipe; do
    args+=(+ "$WORKDIR/$t.json" "$N/expected.tsv" all)
    table+="report $t.json"$'\n'"norm $t.norm"$'\n'
done
check "${args[@]:1}" || fail "planted secrets (see above)"
cj_all "$WORKDIR/img.json" <<<"$table"
for t in nested.docker.tar nested.oci.tar zimg pipe; do
    norm_diff "$WORKDIR/img.norm" "$WORKDIR/$t.norm" "oci vs $t"
done

note "nested: the terminal, SARIF and HTML name the whole chain"
run "$WORKDIR/table.txt" "$WORKDIR/table.err" scan --no-db "$N/img"
expect_rc 1 "table"
grep -q -F 'BOOT-INF/lib/payments-client.jar!/client.properties' \
    "$WORKDIR/table.txt" || fail "table does not show the '!/' chain"
run "$WORKDIR/n.sarif" "$WORKDIR/sarif.err" scan --no-db --format sarif \
    "$N/img"
grep -q -F 'opt/bundle.zip!/config-bundle.zip!/config/payments.yml' \
    "$WORKDIR/n.sarif" || fail "SARIF artifact location lacks the chain"
run "$WORKDIR/html.out" "$WORKDIR/html.err" scan --no-db --format html \
    -o "$WORKDIR/n.html" "$N/img"
grep -q -F 'opt/bundle.zip!/config-bundle.zip!/config/payments.yml' \
    "$WORKDIR/n.html" || fail "HTML report lacks the chain"

note "nested: --max-depth"
scan_json depth0 --no-db --max-depth 0 "$N/img"
scan_json depth1 --no-db --max-depth 1 "$N/img"

note "nested: a byte bound is an error line, the rest stays reported"
# app.jar: its manifest and application.properties come first (about 200
# bytes), its nested jar after them.
scan_json capped --no-db --max-nested-bytes 400 "$N/img"
# depth 0, depth 1, and the byte bound reported (see the messages)
check "$WORKDIR/depth0.json" "$N/expected.tsv" depth 0 + \
    "$WORKDIR/depth1.json" "$N/expected.tsv" depth 1 + \
    "$WORKDIR/capped.json" "$N/expected.tsv" capped --max-nested-bytes ||
    fail "--max-depth 0 or 1, or the byte bound (see above)"
grep -q -e '--max-nested-bytes' "$WORKDIR/capped.err" ||
    fail "byte bound not on the terminal"
cj_all "$WORKDIR/capped.json" <<'EOF'
has path='app/app.jar!/BOOT-INF/classes/application.properties' \
    # what was read before the bound is not reported
none rule=stripe-secret-key # the nested jar past the bound was read
EOF

note "nested: bombs end in bounded time and memory, the rest is found"
mkdir -p "$N/bl/opt"
cp "$N/bombs/"* "$N/bl/opt/"
cp "$SRCDIR/fixtures/keys/ec.pem" "$N/bl/opt/after.pem"
tar -cf "$N/bombs.tar" -C "$N/bl" .
SECONDS=0
run "$WORKDIR/bombs.json" "$WORKDIR/bombs.err" scan --no-db --format json \
    "$N/bombs.tar"
note "bombs: scanned in ${SECONDS} s"
[ "$SECONDS" -le 60 ] || fail "bombs: ${SECONDS} s, not bounded"
expect_rc 1 "bombs"
# ASan's quarantine would otherwise hold freed memory and blur the figure.
rss=$(ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=8:malloc_context_size=4" python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' \
    "$STOWAWAY" scan --no-db --exit-zero "$N/bombs.tar")
note "bombs: peak RSS ${rss} MB"
[ "$rss" -le 256 ] || fail "bombs: peak RSS ${rss} MB, want <= 256"
cj_all "$WORKDIR/bombs.json" <<'EOF'
has path=opt/after.pem kind=private-key # bombs: the key beside them is lost
eval sum(1 for e in r["errors"] if "deep42.zip" in e["message"] \
    and "ratio" in e["message"]) == 1 \
    # bombs: deep42.zip is not one error line naming it and the ratio
# The overlapping bomb's 4000 entries share one local header: libarchive's
# seekable zip reader keeps one entry per header, so its 16 MiB kernel is
# inflated once, not 4000 times (64 GB): no bound is even reached.
eval not any("overlap.zip" in e["message"] for e in r["errors"]) \
    # bombs: overlap.zip inflated more than once
EOF

note "nested: a layer scanned with --max-depth 0 is no answer for a default scan"
# The cache key holds the options that change what a layer's scan finds
# (depth, bounds, git history), so the database never answers a default
# scan with a layer whose archives were left closed.
DB0="$WORKDIR/depth0.db"
scan_json d0 --db "$DB0" --max-depth 0 "$N/img"
scan_json d1 --db "$DB0" "$N/img"
cj_all "$WORKDIR/d1.json" <<'EOF'
eval not any(l["cached"] for i in r["images"] for l in i["layers"]) \
    # a layer of a --max-depth 0 scan answered a default one
norm d1.norm
EOF
norm_diff "$WORKDIR/img.norm" "$WORKDIR/d1.norm" "--max-depth 0 then default, from one database"
scan_json d2 --db "$DB0" "$N/img"
cj_all "$WORKDIR/d2.json" <<'EOF'
eval all(l["cached"] for i in r["images"] for l in i["layers"]) \
    # the same options again: answered from the cache
EOF

note "nested: the archive cache - a known jar is not inflated again"
DB="$WORKDIR/n.db"
scan_json c1 --db "$DB" "$N/img"
# The same jar, in a new layer of another image, under another name.
mkdir -p "$N/again/srv"
cp "$N/tree/app/app.jar" "$N/again/srv/orders.jar"
tar -cf "$N/again.tar" -C "$N/again" .
# Mark the stored records: a replay shows the mark, a walk cannot.
python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE archive_findings SET detail = ?", ("from the cache",))
c.commit()' "$DB" || fail "mark the archive cache"
scan_json c2 --db "$DB" "$N/again.tar"
cj_all "$WORKDIR/c2.json" <<'EOF'
has path='srv/orders.jar!/BOOT-INF/lib/payments-client.jar!/client.properties' \
    rule=stripe-secret-key detail='from the cache' \
    # cached archive findings not reused
EOF
# Where its walk would reach a bound, a cached archive is walked, as
# without a database: the bound's line, and nothing past it.
scan_json c3 --db "$DB" --max-nested-bytes 100 "$N/again.tar"
scan_json c4 --no-db --max-nested-bytes 100 "$N/again.tar"
cj_all "$WORKDIR/c3.json" <<'EOF'
eval any("--max-nested-bytes" in e["message"] for e in r["errors"]) \
    # a cached archive escaped the byte bound
none detail='from the cache' # replayed past a bound
norm c3.norm --fingerprints
report c4.json
norm c4.norm --fingerprints
EOF
# (Under so small a bound neither may report anything: no norm_diff.)
diff -u "$WORKDIR/c3.norm" "$WORKDIR/c4.norm" >&2 ||
    fail "a cached archive under a byte bound it would reach: findings differ"

note "nested: the archive cache - one path twice in a layer"
# A tar may hold a path twice (the later entry wins on extraction; the
# earlier still ships). Each copy's findings are its own: a later layer
# holding only the first jar must not be told of the second jar's secret.
python3 - "$N" <<'EOF' || fail "twice fixture"
import io, random, sys, zipfile, nested_fixtures as nf, tarlib
def jar(tok, seed):
    b = io.BytesIO()
    pad = random.Random(seed).randbytes(80 << 10)  # over the cache's minimum
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("config/app.properties", "github.token=%s\n" % tok)
        z.writestr("lib/blob.bin", pad, zipfile.ZIP_STORED)
    return b.getvalue()
a, b = jar(nf.mint("ghp", 1), 1), jar(nf.mint("ghp", 2), 2)
d = sys.argv[1]
open(d + "/twice.tar", "wb").write(
    tarlib.tar_bytes([("srv/app.jar", a), ("srv/app.jar", b)]))
open(d + "/one.tar", "wb").write(tarlib.tar_bytes([("opt/first.jar", a)]))
EOF
DB="$WORKDIR/twice.db"
scan_json tw1 --db "$DB" "$N/twice.tar"
scan_json tw2 --no-db "$N/one.tar"
scan_json tw3 --db "$DB" "$N/one.tar"
cj_all "$WORKDIR/tw1.json" <<'EOF'
eval len({f["secret_sha256"] for f in r["findings"] \
    if f["path"] == "srv/app.jar!/config/app.properties"}) == 2 \
    # both copies' tokens
report tw2.json
count 1 rule=github-pat
norm tw2.norm --fingerprints
report tw3.json
norm tw3.norm --fingerprints
EOF
norm_diff "$WORKDIR/tw2.norm" "$WORKDIR/tw3.norm" \
    "a jar from the cache after a layer held its path twice"

note "nested: a jar member whose name is not ASCII"
# jar(1) and Java flag such names UTF-8; in the "C" locale libarchive
# could not convert them and the member went unread.
python3 - "$N" <<'EOF' || fail "utf-8 names fixture"
import io, sys, zipfile, nested_fixtures as nf, tarlib
b = io.BytesIO()
with zipfile.ZipFile(b, "w") as z:
    z.writestr("config/verm\u00f6gen.env", "GITHUB_TOKEN=%s\n" % nf.mint("ghp", 9))
open(sys.argv[1] + "/utf8.tar", "wb").write(
    tarlib.tar_bytes([("app/app.jar", b.getvalue())]))
EOF
scan_json utf8 --no-db "$N/utf8.tar"
cj_all "$WORKDIR/utf8.json" <<'EOF'
count 1 rule=github-pat # the member with a non-ASCII name was not read
eval not r["errors"] # a note about the name
EOF

note "nested: a Debian package left in the apt cache"
# dpkg-deb builds it (ar: debian-binary, control.tar.*, data.tar.xz); the
# file inside data.tar.xz is found at its path through both.
mkdir -p "$N/debpkg/pkg/DEBIAN" "$N/debpkg/pkg/etc/acme" "$N/debpkg/layer/var/cache/apt/archives"
printf 'Package: acme-agent\nVersion: 1.0\nArchitecture: all\nMaintainer: ops <ops@example.net>\nDescription: agent\n' \
    >"$N/debpkg/pkg/DEBIAN/control"
python3 -c 'import nested_fixtures as nf; print("GITHUB_TOKEN=" + nf.mint("ghp", 11))' \
    >"$N/debpkg/pkg/etc/acme/agent.env" || fail "token"
q dpkg-deb --root-owner-group --build "$N/debpkg/pkg" \
    "$N/debpkg/layer/var/cache/apt/archives/acme-agent_1.0_all.deb"
tar -cf "$N/debpkg.tar" -C "$N/debpkg/layer" .
scan_json debpkg --no-db "$N/debpkg.tar"
cj_all "$WORKDIR/debpkg.json" <<'EOF'
has path='var/cache/apt/archives/acme-agent_1.0_all.deb!/data.tar.xz!/etc/acme/agent.env' \
    rule=github-pat # the token inside the .deb's data.tar.xz
eval not r["errors"] # the .deb gave a note
EOF

note "nested: the same jar loose, copied and in a fat jar, in one layer"
# Walked once and replayed from the scan's memory for the others (the
# database keeps a layer's archives only when the layer ends); what each
# copy reports must be what its own walk would report.
mkdir -p "$N/dup/srv/a" "$N/dup/srv/b" "$N/dupfat/BOOT-INF/lib"
cp "$N/tree/app/app.jar" "$N/dup/srv/a/orders.jar"
cp "$N/tree/app/app.jar" "$N/dup/srv/b/orders-copy.jar"
cp "$N/tree/app/app.jar" "$N/dupfat/BOOT-INF/lib/orders.jar"
(cd "$N/dupfat" && zip -q0r "$N/dup/srv/fat.jar" BOOT-INF) || fail "zip"
tar -cf "$N/dup.tar" -C "$N/dup" .
for j in 1 4; do
    scan_json "dup$j" --no-db -j "$j" "$N/dup.tar"
    cj_all "$WORKDIR/dup$j.json" <<'EOF'
has path='srv/a/orders.jar!/BOOT-INF/lib/payments-client.jar!/client.properties' \
    rule=stripe-secret-key # first copy
has path='srv/b/orders-copy.jar!/BOOT-INF/lib/payments-client.jar!/client.properties' \
    rule=stripe-secret-key # second copy
has path='srv/fat.jar!/BOOT-INF/lib/orders.jar!/BOOT-INF/lib/payments-client.jar!/client.properties' \
    rule=stripe-secret-key # copy in a fat jar
eval len({(f["rule"], f["line"], f["excerpt"], f["path"].split("orders", 1)[1].split("!/", 1)[1]) \
    for f in r["findings"]}) * 3 == len(r["findings"]) \
    # the copies report different findings
eval not r["errors"] # copies of a jar gave errors
EOF
done

note "nested: Debian's jars and wheels give no false alarm"
if ls /usr/share/java/*.jar >/dev/null 2>&1 &&
    ls /usr/share/python-wheels/*.whl >/dev/null 2>&1; then
    mkdir -p "$N/deb/usr/share"
    cp -rL /usr/share/java /usr/share/python-wheels "$N/deb/usr/share/"
    tar -cf "$N/deb.tar" -C "$N/deb" .
    scan_json deb --no-db "$N/deb.tar"
    cj_all "$WORKDIR/deb.json" <<'EOF'
none 'severity~^(low|medium|high|critical)$' \
    # false alarm in Debian's jars or wheels
eval not r["errors"] # Debian's jars or wheels gave errors
EOF
else
    fail "Debian jars and wheels missing (tools/install-deps.sh --test)"
fi
echo "nested: ok"
