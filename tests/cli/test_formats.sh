#!/usr/bin/env bash
# test_formats.sh - one image in every input format stowaway reads gives the
# same findings, the right layer digests and history; single layer blobs in
# tar, tar+gzip and tar+zstd agree; -o, table output and -j do not change
# results; no secret is printed in full.
. "$(dirname "$0")/lib.sh"
gen_fixtures
EXP="$FX/expected.json"

declare -A FILE=(
    [docker-legacy]=base.docker.tar
    [docker-stream]=base-stream.docker.tar
    [docker-oci]=base-oci.docker.tar
    [oci-gzip]=base.oci
    [oci-zstd]=base-zstd.oci
    [oci-archive]=base.oci.tar
)
# One table for every format: its own checks, then the base findings;
# norm files (plain and with fingerprints) for the comparisons below.
FORMATS="docker-legacy docker-stream docker-oci oci-gzip oci-zstd oci-archive"
for fmt in $FORMATS; do
    note "format $fmt (${FILE[$fmt]})" >&2
    scan_json "$fmt" --no-db "$FX/${FILE[$fmt]}"
    check_no_plaintext "$WORKDIR/$fmt.json"
    printf 'report %s.json\n' "$fmt"
    printf 'eval len(I) == 1 # %s: want exactly one image\n' "$fmt"
    printf 'layers %q %s # %s: layer digests/history\n' "$EXP" "$fmt" "$fmt"
    case $fmt in docker-*)
        printf 'eval I[0]["ref"] == "fixture/base:1" # %s: ref is not the RepoTag\n' "$fmt"
    esac
    printf 'norm %s.norm\nnorm %s.fpnorm --fingerprints\n' "$fmt" "$fmt"
    base_findings_table
done >"$WORKDIR/formats.table"
cat >>"$WORKDIR/formats.table" <<'EOF'
report docker-legacy.json
eval len({f["fingerprint"] for f in F}) == len(F) # fingerprints are not unique
EOF
cj_all "$WORKDIR/docker-legacy.json" <"$WORKDIR/formats.table"
W=$WORKDIR
for fmt in docker-stream docker-oci oci-gzip oci-zstd oci-archive; do
    norm_diff "$W/docker-legacy.norm" "$W/$fmt.norm" "docker-legacy vs $fmt"
done
# Same blobs, so even fingerprints (rule, blob digest, path, secret) agree.
norm_diff "$W/docker-legacy.fpnorm" "$W/docker-oci.fpnorm" \
    "fingerprints docker-legacy vs docker-oci"
norm_diff "$W/oci-gzip.fpnorm" "$W/oci-archive.fpnorm" \
    "fingerprints oci-gzip vs oci-archive"

note "single layer blobs"
for ext in tar tar.gz tar.zst; do
    scan_json "blob-$ext" --no-db "$FX/layer1.$ext"
    printf 'report blob-%s.json\nnorm blob-%s.norm\n' "$ext" "$ext"
    cat <<'EOF'
eval len(I) == 1 and len(I[0]["layers"]) == 1 # want one image of one layer
has path=app/id_rsa kind=private-key layer=0 visible=true # app/id_rsa
has path=app/keep/key.pem kind=private-key layer=0 visible=true \
    # app/keep/key.pem
has path=app/data/x kind=setuid layer=0 visible=true # app/data/x
has path=app/big.bin kind=private-key 'offset>=1047876' 'offset<=1047940' \
    # big.bin key
none visible=false # nothing can be hidden
EOF
done >"$WORKDIR/blobs.table"
printf 'report blob-tar.gz.json\neval I[0]["layers"][0]["digest"] == %s%s\n' \
    "__import__('json').load(open('$EXP'))" \
    '["layer_blob"]["digest_gzip"] # layer1.tar.gz: digest is not the blob'"'"'s sha256' \
    >>"$WORKDIR/blobs.table"
cj_all "$WORKDIR/blob-tar.json" <"$WORKDIR/blobs.table"
norm_diff "$W/blob-tar.norm" "$W/blob-tar.gz.norm" "tar vs gz"
norm_diff "$W/blob-tar.norm" "$W/blob-tar.zst.norm" "tar vs zst"

note "-o FILE, -j, table"
run "$WORKDIR/o.stdout" "$WORKDIR/o.err" scan --no-db --format json \
    -o "$WORKDIR/o.json" "$FX/base.oci"
[ "$RC" -le 1 ] || fail "-o: exit $RC"
same_findings "$WORKDIR/oci-gzip.json" "$WORKDIR/o.json" "-o FILE" \
    --fingerprints
scan_json j1 --no-db -j 1 "$FX/base.oci"
scan_json j4 --no-db -j 4 "$FX/base.oci"
same_findings "$WORKDIR/j1.json" "$WORKDIR/j4.json" "-j 1 vs -j 4" \
    --fingerprints
run "$WORKDIR/table.txt" "$WORKDIR/table.err" scan --no-db --format table \
    "$FX/base.docker.tar"
[ "$RC" -le 1 ] || fail "table: exit $RC"
grep -q 'app/id_rsa' "$WORKDIR/table.txt" || fail "table lacks app/id_rsa"
grep -q 'usr/bin/su' "$WORKDIR/table.txt" &&
    fail "table lists the stock setuid binary usr/bin/su (folded without -v)"
grep -q -x '  layer 0: 2 setuid/setgid binaries (su, wall) - -v lists them' \
    "$WORKDIR/table.txt" || fail "table lacks the folded stock setuid line"
# The folded line comes after every finding that matters.
tail -n +2 "$WORKDIR/table.txt" | grep -n -E '^    |^  layer 0: 2' | tail -1 |
    grep -q 'layer 0: 2 setuid' || fail "folded line is not after the findings"
run "$WORKDIR/tablev.txt" "$WORKDIR/tablev.err" scan --no-db -v \
    "$FX/base.docker.tar"
[ "$RC" -le 1 ] || fail "table -v: exit $RC"
grep -q -E '^    low       setuid/setuid-file  usr/bin/su  ' \
    "$WORKDIR/tablev.txt" || fail "-v does not list usr/bin/su"
grep -q -E '^    low       setgid/setgid-file  usr/bin/wall  ' \
    "$WORKDIR/tablev.txt" || fail "-v does not list usr/bin/wall"
grep -q 'lists them' "$WORKDIR/tablev.txt" && fail "-v still folds"
# Most severe first: no critical after a high, no high after a low.
awk '/^    (critical|high|medium|low|info) /{print $1}' "$WORKDIR/tablev.txt" |
    awk 'BEGIN{r["critical"]=5;r["high"]=4;r["medium"]=3;r["low"]=2;r["info"]=1;p=9}
         {if (r[$1] > p) bad=1; p=r[$1]} END{exit bad}' ||
    fail "table not ordered by severity"
check_no_plaintext "$WORKDIR/table.txt" "$WORKDIR/table.err" \
    "$WORKDIR/o.json"
echo "PASS $TEST_NAME"
