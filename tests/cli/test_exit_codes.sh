#!/usr/bin/env bash
# test_exit_codes.sh - 0 when nothing is at or above --fail-on (default
# high), 1 when something is, 2 for usage and input errors, which win over
# findings.
. "$(dirname "$0")/lib.sh"
gen_fixtures

# rc_for FILE ARGS...: sets RC for a --no-db scan of FILE
rc_for() {
    local f=$1
    shift
    run "$WORKDIR/rc.out" "$WORKDIR/rc.err" scan --no-db "$@" "$f"
}

note "clean layer: 0 at every threshold"
for s in info low medium high critical; do
    rc_for "$FX/clean.tar" --fail-on "$s"
    expect_rc 0 "clean.tar --fail-on $s"
done
rc_for "$FX/clean.tar"
expect_rc 0 "clean.tar default"

note "one info finding (world-writable dir)"
scan_json info --no-db "$FX/info-only.tar"
cj_all "$WORKDIR/info.json" <<'EOF'
count 1 # info-only.tar: want one finding
has path=var/bad severity=info rule=world-writable-dir \
    # info-only.tar: var/bad info finding
EOF
expect_rc 0 "info-only.tar default (--fail-on high)"
rc_for "$FX/info-only.tar" --fail-on info
expect_rc 1 "info-only.tar --fail-on info"
rc_for "$FX/info-only.tar" --fail-on low
expect_rc 0 "info-only.tar --fail-on low"

note "base image: exit follows the most severe finding"
scan_json base --no-db "$FX/base.docker.tar"
expect_rc 1 "base default (--fail-on high)"
# The exit code --fail-on SEVERITY should give, for each severity in turn:
# 1 if a finding is at or above it.
WANTS=$(cj_all "$WORKDIR/base.json" <<'EOF'
has path=app/keys/ec.pem kind=private-key 'severity~^(high|critical)$' \
    # an unencrypted private key must be high or critical
print " ".join(str(int(any(SEV.index(f["severity"]) >= SEV.index(s) \
    for f in F))) for s in ["info", "low", "medium", "high", "critical"])
EOF
)
read -r -a WANT <<<"$WANTS"
[ "${#WANT[@]}" -eq 5 ] || fail "want 5 exit codes, got: $WANTS"
i=0
for s in info low medium high critical; do
    want=${WANT[$i]}
    i=$((i + 1))
    rc_for "$FX/base.docker.tar" --fail-on "$s"
    expect_rc "$want" "base --fail-on $s"
    rc_for "$FX/base.docker.tar" --fail-on "$s" --format table -q
    expect_rc "$want" "base --fail-on $s --format table -q"
done

note "input errors win over findings"
rc_for "$FX/bad/empty.tar"
expect_rc 2 "empty.tar"
run "$WORKDIR/rc.out" "$WORKDIR/rc.err" scan --no-db "$FX/base.docker.tar" \
    "$FX/bad/empty.tar"
expect_rc 2 "base + empty.tar"
one_line_naming "$WORKDIR/rc.err" "$FX/bad/empty.tar" "base + empty.tar"
run "$WORKDIR/rc.out" "$WORKDIR/rc.err" scan --no-db --fail-on critical \
    "$FX/clean.tar" "$FX/bad/truncated.tar.zst"
expect_rc 2 "clean + truncated zstd"
rc_for "$FX/clean.tar" --fail-on nonsense
expect_rc 2 "--fail-on nonsense"
run "$WORKDIR/rc.out" "$WORKDIR/rc.err" no-such-command
expect_rc 2 "unknown command"

note "an empty value is refused: exit 2, one line naming what is missing"
# one_empty WHAT ARGS...: stowaway ARGS exits 2 with one line naming WHAT.
one_empty() {
    local what=$1
    shift
    run "$WORKDIR/rc.out" "$WORKDIR/rc.err" "$@"
    expect_rc 2 "$*"
    one_line_naming "$WORKDIR/rc.err" "$what" "$*"
}
one_empty "no path" scan --no-db --rules "" "$FX/clean.tar"
one_empty "no rule id" scan --no-db --disable-rule "" "$FX/clean.tar"
one_empty "no host" scan --no-db --insecure-registry "" "$FX/clean.tar"
one_empty "no path" rules list --rules ""
one_empty "no rule id" rules list --disable-rule ""
one_empty "no host" batch registry --no-db --insecure-registry "" localhost:1
echo "PASS $TEST_NAME"
