#!/usr/bin/env bash
# test_progress.sh - the terminal experience, on a real terminal (a tmux
# pane): the progress bar shows on standard error while layers are scanned
# when it is a TTY (layers, bytes inflated, rate) and is erased afterwards;
# nothing of it when standard error is piped or with --quiet; colour only
# on a TTY and never with NO_COLOR; the table fits 80 columns and carries a
# fix line per rule.
. "$(dirname "$0")/lib.sh"
gen_fixtures
cd "$WORKDIR"

# slow.py FILE: writes FILE to stdout but holds back its last 4 KiB
# (manifest.json and the end of the tar) for a few seconds: every layer is
# scanned by then and the bar is on screen.
cat >slow.py <<'PY'
import sys, time
b = open(sys.argv[1], "rb").read()
out = sys.stdout.buffer
out.write(b[:-4096]); out.flush()
time.sleep(float(sys.argv[2]))
out.write(b[-4096:]); out.flush()
PY
STREAM="$FX/base-stream.docker.tar"
note "piped: no bar, no control characters"
python3 slow.py "$STREAM" 0 | "$STOWAWAY" scan --no-db - >"$WORKDIR/p.out" 2>"$WORKDIR/p.err" || true
[ "$(grep -c '' "$WORKDIR/p.err")" -eq 1 ] || { cat -A "$WORKDIR/p.err" >&2; fail "piped stderr: want only the summary"; }
grep -q -P '[\r\x1b]' "$WORKDIR/p.err" "$WORKDIR/p.out" && fail "control characters when piped"


# The rest needs a terminal (a tmux pane); without tmux it is skipped and
# the piped checks above still count.
if ! command -v tmux >/dev/null; then
    skip_part "tmux is not installed: the TTY checks (bar, --quiet, colour, NO_COLOR, 80 columns, fix lines)"
else
    SOCK="stw-test-$$"
    TMUX_CMD=(tmux -L "$SOCK" -f /dev/null)
    at_exit '"${TMUX_CMD[@]}" kill-server 2>/dev/null || true'

    # in_pane NAME COMMAND: runs COMMAND in a fresh 100x40 pane; it ends by
    # printing "@@DONE@@" and then waits, so the pane can still be read.
    in_pane() {
        "${TMUX_CMD[@]}" kill-session -t "$1" 2>/dev/null || true
        "${TMUX_CMD[@]}" new-session -d -s "$1" -x 100 -y 40 \
            "cd '$WORKDIR' && $2; echo @@DONE@@; sleep 60"
    }
    capture() { "${TMUX_CMD[@]}" capture-pane -p -t "$1" "${@:2}"; }
    # wait_for NAME TEXT SECONDS: until the pane shows TEXT
    wait_for() {
        local i
        for ((i = 0; i < $3 * 10; i++)); do
            capture "$1" | grep -q -F -- "$2" && return 0
            sleep 0.1
        done
        capture "$1" >&2
        return 1
    }

    export STOWAWAY
    note "TTY: the bar shows while scanning, and is erased at the end"
    in_pane bar "python3 slow.py '$STREAM' 4 | \"\$STOWAWAY\" scan --no-db - >/dev/null"
    wait_for bar "layers" 20 || fail "no progress bar on the terminal"
    BAR=$(capture bar | grep -F 'layers' | head -1)
    echo "bar: $BAR"
    echo "$BAR" | grep -q -E '^\[[ =<>]+\] 3 layers  [0-9]+\.[0-9] MB  [0-9]+\.[0-9] MB/s' ||
        fail "progress bar shape: '$BAR'"
    echo "$BAR" | grep -q -E ' [3-9]\.[0-9] MB  ' || fail "bytes inflated (3 MiB file in layer 1): '$BAR'"
    wait_for bar "@@DONE@@" 20 || fail "scan did not finish"
    capture bar >"$WORKDIR/bar.final"
    grep -q -F 'layers  ' "$WORKDIR/bar.final" && { cat "$WORKDIR/bar.final" >&2; fail "bar not erased"; }
    grep -q '^stowaway: 1 image, 3 layers' "$WORKDIR/bar.final" || fail "summary after the bar"

    note "TTY with --quiet: no bar"
    in_pane quiet "python3 slow.py '$STREAM' 2 | \"\$STOWAWAY\" scan --no-db -q - >/dev/null"
    sleep 1.5
    capture quiet | grep -q 'layers' && fail "--quiet still draws the bar"
    wait_for quiet "@@DONE@@" 20 || fail "quiet scan did not finish"
    [ "$(capture quiet | grep -c .)" -eq 1 ] || { capture quiet >&2; fail "--quiet printed something"; }

    note "colour on a TTY, never with NO_COLOR; 80 columns; fix lines"
    in_pane color "\"\$STOWAWAY\" scan --no-db '$FX/base.docker.tar' 2>/dev/null"
    wait_for color "@@DONE@@" 20 || fail "colour scan did not finish"
    capture color -e | grep -q $'\e\[[0-9;]*31m' || fail "no colour on a TTY"
    in_pane nocolor "NO_COLOR=1 \"\$STOWAWAY\" scan --no-db '$FX/base.docker.tar' 2>/dev/null"
    wait_for nocolor "@@DONE@@" 20 || fail "NO_COLOR scan did not finish"
    capture nocolor -e | grep -v '@@DONE@@' | grep -q $'\e\[[0-9;]*m' && fail "colour despite NO_COLOR"
    capture nocolor -S - >"$WORKDIR/table.txt"
    python3 - "$WORKDIR/table.txt" <<'PY' || fail "table lines over 80 columns"
import sys
bad = [l for l in open(sys.argv[1], encoding="utf-8").read().splitlines() if len(l) > 80]
assert not bad, bad
PY
    grep -q -E '^  layer 1  sha256:[0-9a-f]{12}  COPY keys/ /app/$' "$WORKDIR/table.txt" ||
        fail "layer header leads with the instruction"
    grep -q -E '^ {14}fix: chmod a-s in the final stage$' "$WORKDIR/table.txt" ||
        fail "fix line for setuid"
    [ "$(grep -c 'fix: ' "$WORKDIR/table.txt")" -ge 8 ] || fail "fix lines"
fi
echo "PASS $TEST_NAME"
