#!/usr/bin/env bash
# test_registry.sh - the registry client against a real registry server
# (Debian's docker-registry on 127.0.0.1, images pushed by skopeo): anonymous
# pulls by tag and by digest, a multi-platform index, Docker schema 2,
# htpasswd basic auth (options, docker config.json, a credential helper),
# the bearer-token flow, TLS with a CA made here, redirects to blob storage
# (no credentials leak to it), 503 + Retry-After and a connection cut
# mid-blob. The module is driven through tests/regfetch ($REGFETCH); once
# `stowaway scan` knows registries the same images are also scanned through
# the CLI. Skipped (77) without docker-registry, skopeo, openssl, htpasswd.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/registry_lib.sh
. "$(dirname "$0")/registry_lib.sh"
reg_require
: "${REGFETCH:=$(dirname "$STOWAWAY")/tests/regfetch}"
[ -x "$REGFETCH" ] || fail "REGFETCH ($REGFETCH) is not built"
gen_fixtures

# rf NAME ARGS...: runs regfetch, stdout to $WORKDIR/NAME.out, stderr to
# NAME.err; sets RC. A sanitizer report fails the test.
rf() {
    local name=$1
    shift
    set +e
    "$REGFETCH" "$@" >"$WORKDIR/$name.out" 2>"$WORKDIR/$name.err"
    RC=$?
    set -e
    if [ "$RC" -ge 90 ] || grep -q -e 'AddressSanitizer' \
        -e 'LeakSanitizer' -e 'runtime error:' "$WORKDIR/$name.err"; then
        cat "$WORKDIR/$name.err" >&2
        fail "$name: sanitizer report or crash (exit $RC)"
    fi
}

# rf_ok NAME ARGS...: regfetch must succeed.
rf_ok() {
    local name=$1
    rf "$@"
    [ "$RC" -eq 0 ] || { cat "$WORKDIR/$name.err" >&2; fail "$name: exit $RC"; }
}

# rf_err NAME PATTERN ARGS...: regfetch must fail with exit 2 and exactly
# one line on stderr matching PATTERN (grep -E).
rf_err() {
    local name=$1 pat=$2
    shift 2
    rf "$name" "$@"
    [ "$RC" -eq 2 ] || { cat "$WORKDIR/$name.err" >&2; fail "$name: exit $RC, want 2"; }
    [ "$(grep -c '' "$WORKDIR/$name.err")" -eq 1 ] ||
        { cat "$WORKDIR/$name.err" >&2; fail "$name: want one line on stderr"; }
    grep -q -E -- "$pat" "$WORKDIR/$name.err" ||
        { cat "$WORKDIR/$name.err" >&2; fail "$name: stderr does not match /$pat/"; }
}

# Expected layer digests of the gzip OCI base image, in order.
python3 -c 'import json,sys
for l in json.load(open(sys.argv[1]))["formats"]["oci-gzip"]["layers"]:
    print(l["digest"], l["diff_id"])' "$FX/expected.json" >"$WORKDIR/want.layers"
CONFIG_DIGEST=$(python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["formats"]["oci-gzip"]["config_digest"])' \
    "$FX/expected.json")

# check_base OUT REF: regfetch output of the base image: one image, three
# layers with the generator's digests, keys found in layer 1.
check_base() {
    local out=$1 ref=$2
    grep -q "^image 0 $ref sha256:[0-9a-f]\{64\} $CONFIG_DIGEST linux/amd64 3\$" "$out" ||
        { cat "$out" >&2; fail "$ref: image line"; }
    awk '$1 == "layer" { print $4, $5 }' "$out" >"$out.layers"
    diff -u "$WORKDIR/want.layers" "$out.layers" >&2 ||
        fail "$ref: layer digests differ from the pushed ones"
    grep -q '^layer 0 1 .* private-key' "$out" || fail "$ref: no keys in layer 1"
    grep -q '^layer 0 0 .* setuid' "$out" || fail "$ref: no setuid in layer 0"
}

# ---- anonymous, plain HTTP ---------------------------------------------------
note "anonymous registry"
reg_start anon
ANON=$REG_ADDR
ANON_LOG=$REG_LOG
reg_push "$FX/base.oci" 1 "$ANON/fixture/base:1"
reg_push "$FX/multi.oci" 1 "$ANON/fixture/multi:1" --all
reg_push "$FX/base.oci" 1 "$ANON/fixture/docker:1" --format v2s2

rf_ok anon --insecure "$ANON" "$ANON/fixture/base:1"
check_base "$WORKDIR/anon.out" "$ANON/fixture/base:1"
reg_layers_of "$ANON/fixture/base:1" >"$WORKDIR/skopeo.layers"
diff -u "$WORKDIR/skopeo.layers" <(awk '$1 == "layer" { print $4 }' "$WORKDIR/anon.out") >&2 ||
    fail "layer digests differ from what skopeo pushed"
# each layer blob was downloaded once
while read -r d; do
    n=$(grep -c "\"GET /v2/fixture/base/blobs/$d" "$ANON_LOG" || true)
    [ "$n" -eq 1 ] || fail "blob $d fetched $n times, want 1"
done <"$WORKDIR/skopeo.layers"

note "docker:// and oci:// prefixes"
rf_ok prefix --insecure "$ANON" "docker://$ANON/fixture/base:1"
check_base "$WORKDIR/prefix.out" "$ANON/fixture/base:1"
rf_ok prefix2 --insecure "$ANON" "oci://$ANON/fixture/base:1"
check_base "$WORKDIR/prefix2.out" "$ANON/fixture/base:1"

note "digest reference"
MD=$(awk '$1 == "resolved" { print $3 }' "$WORKDIR/anon.out")
rf_ok bydigest --insecure "$ANON" "$ANON/fixture/base@$MD"
check_base "$WORKDIR/bydigest.out" "$ANON/fixture/base@$MD"
rf_err baddigest "$ANON/fixture/base@sha256:0{64}: manifest sha256:0{64}: HTTP 404" \
    --insecure "$ANON" "$ANON/fixture/base@sha256:$(printf '0%.0s' $(seq 64))"

note "missing tag, missing repository"
rf_err notag "^regfetch: $ANON/fixture/base:nope: manifest nope: HTTP 404 MANIFEST_UNKNOWN" \
    --insecure "$ANON" "$ANON/fixture/base:nope"
rf_err norepo "$ANON/fixture/nothing:1: manifest 1: HTTP 404" \
    --insecure "$ANON" "$ANON/fixture/nothing:1"

note "plain HTTP registry without --insecure: TLS fails, no downgrade"
rf_err nohttps "$ANON/fixture/base:1: manifest 1: .*(SSL|TLS|ssl|tls)" \
    "$ANON/fixture/base:1"

note "multi-platform index"
rf_ok multi --insecure "$ANON" "$ANON/fixture/multi:1"
grep -q "^resolved $ANON/fixture/multi:1 sha256:[0-9a-f]* application/vnd.oci.image.index.v1+json\$" \
    "$WORKDIR/multi.out" || { cat "$WORKDIR/multi.out" >&2; fail "multi: not an index"; }
[ "$(grep -c '^image ' "$WORKDIR/multi.out")" -eq 2 ] || fail "multi: want 2 images"
grep -q '^image [01] .* linux/amd64 ' "$WORKDIR/multi.out" || fail "multi: no amd64"
grep -q '^image [01] .* linux/arm64 ' "$WORKDIR/multi.out" || fail "multi: no arm64"
rf_ok multi_arm --insecure "$ANON" --platform linux/arm64 "$ANON/fixture/multi:1"
if [ "$(grep -c '^image ' "$WORKDIR/multi_arm.out")" -ne 1 ] ||
    ! grep -q '^image 0 .* linux/arm64 ' "$WORKDIR/multi_arm.out"; then
    fail "--platform linux/arm64: want only the arm64 image"
fi

note "Docker schema 2 manifest"
rf_ok docker --insecure "$ANON" "$ANON/fixture/docker:1"
grep -q "application/vnd.docker.distribution.manifest.v2+json\$" "$WORKDIR/docker.out" ||
    fail "v2s2: resolved media type"
awk '$1 == "layer" { print $5 }' "$WORKDIR/docker.out" >"$WORKDIR/docker.diffids"
awk '{ print $2 }' "$WORKDIR/want.layers" | diff -u - "$WORKDIR/docker.diffids" >&2 ||
    fail "v2s2: diff_ids differ"

# ---- htpasswd basic auth ------------------------------------------------------
note "basic auth"
reg_start basic --htpasswd alice s3cret-pw
BASIC=$REG_ADDR
reg_push "$FX/base.oci" 1 "$BASIC/team/base:1" --dest-creds alice:s3cret-pw
export DOCKER_CONFIG="$WORKDIR/no-docker-config"
rf_err basic_anon "$BASIC/team/base:1: manifest 1: HTTP 401.*no credentials for $BASIC" \
    --insecure "$BASIC" "$BASIC/team/base:1"
rf_err basic_wrong "$BASIC/team/base:1: manifest 1: HTTP 401" \
    --insecure "$BASIC" --user alice --password wrong "$BASIC/team/base:1"
grep -q 'wrong' "$WORKDIR/basic_wrong.err" && fail "password echoed in an error"
rf_ok basic_opt --insecure "$BASIC" --user alice --password s3cret-pw "$BASIC/team/base:1"
check_base "$WORKDIR/basic_opt.out" "$BASIC/team/base:1"

note "basic auth from DOCKER_CONFIG/config.json"
mkdir -p "$WORKDIR/dc"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$BASIC" \
    "$(printf 'alice:s3cret-pw' | base64)" >"$WORKDIR/dc/config.json"
DOCKER_CONFIG="$WORKDIR/dc" rf_ok basic_dc --insecure "$BASIC" "$BASIC/team/base:1"
check_base "$WORKDIR/basic_dc.out" "$BASIC/team/base:1"
printf '{"auths": {"http://%s/v2/": {"auth": "%s"}}}\n' "$BASIC" \
    "$(printf 'alice:s3cret-pw' | base64)" >"$WORKDIR/dc2.json"
rf_ok basic_dc2 --insecure "$BASIC" --docker-config "$WORKDIR/dc2.json" "$BASIC/team/base:1"
printf '{"auths": {"%s": {"auth": "!!!"}}}\n' "$BASIC" >"$WORKDIR/dcbad.json"
rf_err basic_dcbad "dcbad.json: docker config: .*not base64" \
    --insecure "$BASIC" --docker-config "$WORKDIR/dcbad.json" "$BASIC/team/base:1"

note "basic auth from a credential helper (credsStore)"
mkdir -p "$WORKDIR/bin"
cat >"$WORKDIR/bin/docker-credential-stwtest" <<EOF
#!/bin/sh
[ "\$1" = get ] || exit 3
read -r server
echo "\$server" >"$WORKDIR/helper.asked"
[ "\$server" = "$BASIC" ] || { echo "credentials not found"; exit 1; }
echo '{"ServerURL": "$BASIC", "Username": "alice", "Secret": "s3cret-pw"}'
EOF
chmod +x "$WORKDIR/bin/docker-credential-stwtest"
printf '{"auths": {"%s": {}}, "credsStore": "stwtest"}\n' "$BASIC" >"$WORKDIR/dch.json"
PATH="$WORKDIR/bin:$PATH" rf_ok basic_helper --insecure "$BASIC" \
    --docker-config "$WORKDIR/dch.json" "$BASIC/team/base:1"
check_base "$WORKDIR/basic_helper.out" "$BASIC/team/base:1"
[ "$(cat "$WORKDIR/helper.asked")" = "$BASIC" ] || fail "helper asked for the wrong server"
# a helper that is not installed: fall back to "auths", here none -> 401
printf '{"credsStore": "not-installed-anywhere"}\n' >"$WORKDIR/dcm.json"
rf_err basic_nohelper "HTTP 401" --insecure "$BASIC" \
    --docker-config "$WORKDIR/dcm.json" "$BASIC/team/base:1"

# ---- bearer tokens ------------------------------------------------------------
note "bearer token flow"
reg_make_ca "$WORKDIR/tok"
TPORT=$(reg_free_port)
TLOG="$WORKDIR/tokens.log"
reg_serve_py tokensrv "$TPORT" "$REG_TOKEN_SERVER" "$WORKDIR/tok/ca.key" \
    "$WORKDIR/tok/ca.pem" bob b0b-pw "$TLOG"
reg_start bearer --token "http://127.0.0.1:$TPORT/token" "$WORKDIR/tok/ca.pem"
BEARER=$REG_ADDR
reg_push "$FX/base.oci" 1 "$BEARER/public/base:1" --dest-creds bob:b0b-pw
reg_push "$FX/base.oci" 1 "$BEARER/private/base:1" --dest-creds bob:b0b-pw
: >"$TLOG"
rf_ok bearer_anon --insecure "$BEARER" "$BEARER/public/base:1"
check_base "$WORKDIR/bearer_anon.out" "$BEARER/public/base:1"
# one token for the whole pull (cached per scope), fetched anonymously
[ "$(grep -c '^token ' "$TLOG")" -eq 1 ] || { cat "$TLOG" >&2; fail "want one token request"; }
grep -q 'scope=repository%3Apublic%2Fbase%3Apull.* auth=no$' "$TLOG" ||
    { cat "$TLOG" >&2; fail "token request scope/auth"; }
rf_err bearer_denied "$BEARER/private/base:1: manifest 1: HTTP 401" \
    --insecure "$BEARER" "$BEARER/private/base:1"
: >"$TLOG"
rf_ok bearer_creds --insecure "$BEARER" --user bob --password b0b-pw "$BEARER/private/base:1"
check_base "$WORKDIR/bearer_creds.out" "$BEARER/private/base:1"
grep -q 'auth=yes$' "$TLOG" || fail "credentials not sent to the token realm"
rf_err bearer_wrong "$BEARER/private/base:1: token: HTTP 401" \
    --insecure "$BEARER" --user bob --password nope "$BEARER/private/base:1"

# ---- TLS with a test CA -------------------------------------------------------
note "TLS"
reg_make_ca "$WORKDIR/ca"
reg_start tls --tls "$WORKDIR/ca"
TLS=$REG_ADDR
reg_push "$FX/base.oci" 1 "$TLS/fixture/base:1"
rf_ok tls_ca --ca-cert "$WORKDIR/ca/ca.pem" "$TLS/fixture/base:1"
check_base "$WORKDIR/tls_ca.out" "$TLS/fixture/base:1"
rf_err tls_noca "$TLS/fixture/base:1: manifest 1: .*(certificate|SSL)" "$TLS/fixture/base:1"
rf_err tls_other_ca "$TLS/fixture/base:1: manifest 1: .*(certificate|SSL)" \
    --ca-cert "$WORKDIR/tok/ca.pem" "$TLS/fixture/base:1"

# ---- redirects to blob storage ------------------------------------------------
# The registry (basic auth) redirects blob downloads to a second server on
# another port: the client follows, without sending the credentials there.
for mode in plain flaky cut; do
    note "redirect to blob storage ($mode)"
    SPORT=$(reg_free_port)
    reg_start "redir-$mode" --htpasswd alice s3cret-pw --redirect "http://127.0.0.1:$SPORT/"
    RD=$REG_ADDR
    SLOG="$WORKDIR/storage-$mode.log"
    reg_serve_py "files-$mode" "$SPORT" "$REG_FILE_SERVER" "$REG_STORAGE" "$SLOG" "$mode"
    reg_push "$FX/base.oci" 1 "$RD/team/base:1" --dest-creds alice:s3cret-pw
    : >"$SLOG"
    rf_ok "redir_$mode" --insecure "$RD" --user alice --password s3cret-pw "$RD/team/base:1"
    check_base "$WORKDIR/redir_$mode.out" "$RD/team/base:1"
    grep -q 'GET /docker/registry/v2/blobs/sha256/' "$SLOG" ||
        fail "$mode: blobs were not fetched through the redirect"
    grep -q 'auth=yes' "$SLOG" && fail "$mode: credentials sent to blob storage"
    case $mode in
    flaky)
        grep -q 'sha256/[0-9a-f]*/[0-9a-f]*/data' "$SLOG" || fail "flaky: no blob GETs"
        # every first GET was answered 503 Retry-After: 1; the retry waited
        python3 - "$SLOG" <<'PY' || fail "flaky: Retry-After not honoured"
import sys
t = {}
for line in open(sys.argv[1]):
    ts, _, path = line.split()[:3]
    t.setdefault(path, []).append(float(ts))
assert t and all(len(v) == 2 and v[1] - v[0] >= 0.9 for v in t.values()), t
PY
        ;;
    cut)
        grep -q 'range=bytes=[1-9][0-9]*-' "$SLOG" ||
            { cat "$SLOG" >&2; fail "cut: the layer was not resumed with a Range request"; }
        ;;
    esac
done

# ---- through the CLI, once `stowaway scan` knows registries -------------------
# grep without -q reads the whole help: with pipefail, -q stopping early
# could kill the writer with SIGPIPE and skip this part unseen.
if "$STOWAWAY" help scan 2>/dev/null | grep -- '--insecure-registry' >/dev/null; then
    note "stowaway scan REGISTRY/REPO:TAG"
    scan_json cli_anon --no-db --insecure-registry "$ANON" "$ANON/fixture/base:1"
    check_base_findings "$WORKDIR/cli_anon.json"
    scan_json cli_tls --no-db --ca-cert "$WORKDIR/ca/ca.pem" "$TLS/fixture/base:1"
    check_base_findings "$WORKDIR/cli_tls.json"
    same_findings "$WORKDIR/cli_anon.json" "$WORKDIR/cli_tls.json" "anon vs TLS"
    run "$WORKDIR/cli_notag.json" "$WORKDIR/cli_notag.err" scan --no-db \
        --insecure-registry "$ANON" "$ANON/fixture/base:nope"
    expect_rc 2 "missing tag"
    grep -q 'HTTP 404' "$WORKDIR/cli_notag.err" || fail "CLI: missing tag message"
    check_no_plaintext "$WORKDIR"/cli_*.json

    note "a re-scan into the same database downloads no layer again"
    blob_gets() { grep -c 'GET /v2/fixture/base/blobs/' "$ANON_LOG" || true; }
    scan_json cli_db1 --db "$WORKDIR/reg.db" --insecure-registry "$ANON" \
        "$ANON/fixture/base:1"
    first=$(blob_gets)
    scan_json cli_db2 --db "$WORKDIR/reg.db" --insecure-registry "$ANON" \
        "$ANON/fixture/base:1"
    second=$(blob_gets)
    # Only the config blob is fetched again (it is not a layer).
    [ $((second - first)) -eq 1 ] ||
        fail "re-scan fetched $((second - first)) blobs, want 1 (the config)"
    cj_all "$WORKDIR/cli_db2.json" <<'EOF'
eval all(l["cached"] for l in I[0]["layers"]) # re-scan layers not marked cached
EOF
    same_findings "$WORKDIR/cli_db1.json" "$WORKDIR/cli_db2.json" "fresh vs cached"
else
    skip_part "stowaway scan does not take registry references: the CLI part"
fi
note "ok"
