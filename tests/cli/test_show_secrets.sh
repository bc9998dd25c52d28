#!/usr/bin/env bash
# test_show_secrets.sh - --show-secrets reveals secrets in the terminal table
# only: never without the flag, never in JSON/SARIF/files, never in the
# database (even while shown), and a layer reused from the database says it
# cannot show what was never stored.
. "$(dirname "$0")/lib.sh"
DEMO="$SRCDIR/fixtures/demo/demo.docker.tar"
# The demo's planted GitHub token in the image config (see fixtures/README.md).
TOKEN=$(python3 - "$DEMO" <<'PY'
import json, re, sys, tarfile
t = tarfile.open(sys.argv[1])
m = json.load(t.extractfile("manifest.json"))
cfg = t.extractfile(m[0]["Config"]).read().decode()
print(re.search(r"ghp_[A-Za-z0-9]{36}", cfg).group(0))
PY
)
[ -n "$TOKEN" ] || fail "no token in the demo config"

run "$WORKDIR/plain.txt" "$WORKDIR/err" scan --db "$WORKDIR/s.db" "$DEMO"
grep -qF "$TOKEN" "$WORKDIR/plain.txt" && fail "secret printed without --show-secrets"
rm -f "$WORKDIR/s.db"*

run "$WORKDIR/shown.txt" "$WORKDIR/err" scan --db "$WORKDIR/s.db" --show-secrets "$DEMO"
[ "$RC" = 1 ] || fail "exit $RC: $(cat "$WORKDIR/err")"
grep -qF "secret: $TOKEN" "$WORKDIR/shown.txt" || fail "--show-secrets did not show the token"
for f in "$WORKDIR"/s.db*; do
    grep -qaF "$TOKEN" "$f" && fail "plaintext secret stored in $f"
done

run "$WORKDIR/cached.txt" "$WORKDIR/err" scan --db "$WORKDIR/s.db" --show-secrets "$DEMO"
grep -q "secret: (not shown: layer reused from the database" "$WORKDIR/cached.txt" ||
    fail "a cached layer's secret should say why it is not shown"

for fmt in json sarif html; do
    run "$WORKDIR/x.$fmt" "$WORKDIR/err" scan --no-db --show-secrets --format "$fmt" "$DEMO"
    [ "$RC" = 2 ] || fail "--show-secrets --format $fmt: exit $RC, want 2"
done
run "$WORKDIR/x" "$WORKDIR/err" scan --no-db --show-secrets -o "$WORKDIR/out.txt" "$DEMO"
[ "$RC" = 2 ] || fail "--show-secrets -o FILE: exit $RC, want 2"

# The same jar twice in one layer: the second is a replay of the first's
# walk (the scan's memory of archives), and still shows its secret.
mkdir -p "$WORKDIR/jar/app" "$WORKDIR/jarsrc/conf"
cp "$SRCDIR/fixtures/keys/ec.pem" "$WORKDIR/jarsrc/conf/id_ec"
head -c 100000 /dev/urandom >"$WORKDIR/jarsrc/pad.bin" # past 64 KiB: cached
python3 -c 'import shutil, sys; shutil.make_archive(sys.argv[1], "zip", sys.argv[2])' \
    "$WORKDIR/jar/app/a" "$WORKDIR/jarsrc"
mv "$WORKDIR/jar/app/a.zip" "$WORKDIR/jar/app/a.jar"
cp "$WORKDIR/jar/app/a.jar" "$WORKDIR/jar/app/b.jar"
tar -cf "$WORKDIR/jar.tar" -C "$WORKDIR/jar" .
run "$WORKDIR/jar.txt" "$WORKDIR/err" scan --no-db --show-secrets "$WORKDIR/jar.tar"
[ "$RC" = 1 ] || fail "jar: exit $RC: $(cat "$WORKDIR/err")"
[ "$(grep -c '^ *secret: MHcC' "$WORKDIR/jar.txt")" = 2 ] ||
    fail "a jar met twice in one layer did not show both secrets"
grep -q "not shown" "$WORKDIR/jar.txt" && fail "--no-db said a secret was not shown"
echo "PASS [$TEST_NAME]"
