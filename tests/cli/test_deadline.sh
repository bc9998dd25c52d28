#!/usr/bin/env bash
# test_deadline.sh - no registry request lasts for ever: against a server on
# 127.0.0.1 that drips its answer at 4 bytes a second, a manifest, a token
# and a layer blob each fail within a bounded time set by --timeout, with
# one error line naming the URL, and the same image served at full speed
# scans cleanly with the same --timeout.
. "$(dirname "$0")/lib.sh"
gen_fixtures
cd "$WORKDIR"
command -v python3 >/dev/null || skip "python3 is not installed"
PIDS=""
at_exit 'for p in $PIDS; do kill "$p" 2>/dev/null || true; done'

# serve MODE: starts the drip server; sets PORT.
serve() {
    rm -f "$WORKDIR/port.$1"
    python3 "$SRCDIR/tests/cli/drip_registry.py" "$FX/base.oci" "$1" \
        "$WORKDIR/port.$1" 2>"$WORKDIR/server.$1.log" &
    PIDS="$PIDS $!"
    local _
    for _ in $(seq 1 100); do
        [ -s "$WORKDIR/port.$1" ] && break
        sleep 0.1
    done
    [ -s "$WORKDIR/port.$1" ] || fail "drip server ($1) did not start"
    PORT=$(cat "$WORKDIR/port.$1")
}

# scan_within MODE LIMIT WANT_RC URLPART: scans the image with --timeout 2
# and requires it to end within LIMIT seconds with WANT_RC; on failure,
# one error line naming URLPART.
scan_within() {
    local mode=$1 limit=$2 want=$3 part=$4 t0 t1
    serve "$mode"
    local ref="127.0.0.1:$PORT/app:1"
    t0=$(date +%s)
    run "$WORKDIR/$mode.json" "$WORKDIR/$mode.err" scan --no-db --format json \
        --exit-zero -q --timeout 2 --insecure-registry "127.0.0.1:$PORT" "$ref"
    t1=$(date +%s)
    note "$mode: exit $RC after $((t1 - t0)) s"
    [ "$RC" -eq "$want" ] || { cat "$WORKDIR/$mode.err" >&2; fail "$mode: exit $RC, want $want"; }
    [ $((t1 - t0)) -le "$limit" ] || fail "$mode: took $((t1 - t0)) s, more than $limit"
    if [ "$want" -eq 2 ]; then
        one_line_naming "$WORKDIR/$mode.err" "$part" "$mode"
        grep -q -F "http://127.0.0.1:$PORT/v2/" "$WORKDIR/$mode.err" ||
            grep -q -F "http://127.0.0.1:$PORT/token" "$WORKDIR/$mode.err" ||
            { cat "$WORKDIR/$mode.err" >&2; fail "$mode: the error does not name the URL"; }
        grep -q -e "--timeout" "$WORKDIR/$mode.err" ||
            { cat "$WORKDIR/$mode.err" >&2; fail "$mode: the error does not say --timeout"; }
    fi
}

scan_within none 20 0 ""
cj_all "$WORKDIR/none.json" <<'EOF'
has path=app/id_rsa # full-speed scan: findings
EOF
scan_within manifest 15 2 "manifests/1"
scan_within token 15 2 "token"
scan_within blob 15 2 "blobs/sha256:"

note "usage"
run "$WORKDIR/u.out" "$WORKDIR/u.err" scan --timeout 0 --no-db "$FX/base.oci"
expect_rc 2 "--timeout 0"
run "$WORKDIR/u.out" "$WORKDIR/u.err" scan --timeout x --no-db "$FX/base.oci"
expect_rc 2 "--timeout x"
echo "PASS $TEST_NAME"
