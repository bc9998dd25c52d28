#!/usr/bin/env bash
# test_docs.sh - where users run stowaway, exercised here as far as this
# machine allows: the hooks/pre-push example in a real git repository
# (pushing to a local bare remote; `docker` is a stub that cats a fixture
# tarball, since no Docker daemon runs here), the man page (rendered with
# man -l, installed by cmake --install), the CI examples in docs/ci.md
# (valid YAML, only options stowaway has), and the Dockerfile's shape.
. "$(dirname "$0")/lib.sh"
gen_fixtures
BUILD_DIR=$(dirname "$STOWAWAY")

# Every long option the commands accept, from their own help.
{
    "$STOWAWAY" help scan
    "$STOWAWAY" help baseline
    "$STOWAWAY" help report
    "$STOWAWAY" help db
    "$STOWAWAY" --help
} | grep -o -E -- '--[a-z][a-z-]+' | sort -u >"$WORKDIR/options"
grep -q -x -- '--base-image' "$WORKDIR/options" || fail "premise: help lists options"
# known_options FILE CONTEXT: every --option in FILE's stowaway commands
# exists.
known_options() {
    local unknown
    unknown=$(grep -E 'stowaway ' "$1" | grep -o -E -- '--[a-z][a-z-]+' | sort -u |
        grep -v -x -F -f "$WORKDIR/options" |
        grep -v -x -e '--no-verify' -e '--headless' -e '--prefix' -e '--install' -e '--build' -e '--strip' -e '--rm' || true)
    [ -z "$unknown" ] || fail "$2 names options stowaway lacks: $unknown"
}

# The pre-push hook needs git; the checks after it run either way.
if command -v git >/dev/null; then
    note "pre-push hook in a temporary git repository"
    BIN="$WORKDIR/bin"
    mkdir -p "$BIN"
    cat >"$BIN/docker" <<'SH'
#!/bin/sh
# Stub for this test only: `docker save IMAGE` writes the fixture that
# $DOCKER_STUB_IMAGES/IMAGE (":" and "/" as "_") points at.
[ "$1" = save ] || { echo "docker stub: only 'save'" >&2; exit 125; }
f="$DOCKER_STUB_IMAGES/$(printf %s "$2" | tr ':/' '__')"
[ -e "$f" ] || { echo "Error response from daemon: reference does not exist" >&2; exit 1; }
exec cat "$f"
SH
    chmod +x "$BIN/docker"
    ln -sf "$STOWAWAY" "$BIN/stowaway"
    export PATH="$BIN:$PATH" DOCKER_STUB_IMAGES="$WORKDIR/images"
    mkdir -p "$DOCKER_STUB_IMAGES"
    cp "$SRCDIR/fixtures/demo/demo.docker.tar" "$DOCKER_STUB_IMAGES/app_leaky"
    cp "$FX/clean.tar" "$DOCKER_STUB_IMAGES/app_clean"

    REPO="$WORKDIR/repo"
    git init -q --bare "$WORKDIR/remote.git"
    git init -q "$REPO"
    cd "$REPO"
    git config user.email t@example.invalid
    git config user.name test
    git remote add origin "$WORKDIR/remote.git"
    cp "$SRCDIR/hooks/pre-push" .git/hooks/pre-push
    chmod +x .git/hooks/pre-push
    echo one >f && git add f && git commit -q -m one
    # push BRANCH: git push with output in push.log; sets RC.
    push() {
        set +e
        git push -q origin "HEAD:refs/heads/$1" >"$WORKDIR/push.log" 2>&1
        RC=$?
        set -e
        if grep -q -e AddressSanitizer -e 'runtime error:' "$WORKDIR/push.log"; then
            cat "$WORKDIR/push.log" >&2
            fail "sanitizer report in the hook"
        fi
    }
    remote_has() { git --git-dir="$WORKDIR/remote.git" rev-parse -q --verify "refs/heads/$1" >/dev/null; }

    push unset
    [ "$RC" -eq 0 ] || { cat "$WORKDIR/push.log" >&2; fail "hook without an image must not block"; }
    grep -q 'no image to scan' "$WORKDIR/push.log" || fail "hook should say it skipped"

    git config stowaway.image app:leaky
    git config stowaway.args "--no-db"
    push leaky
    [ "$RC" -ne 0 ] || fail "a leaky image must stop the push"
    remote_has leaky && fail "the remote got the push despite findings"
    grep -q 'docker save app:leaky | stowaway scan -' "$WORKDIR/push.log" || fail "hook log line"
    grep -q 'app/id_rsa' "$WORKDIR/push.log" || fail "the table should show what to fix"
    grep -q 'stowaway exited 1; push stopped' "$WORKDIR/push.log" || fail "hook's last words"
    check_no_plaintext "$WORKDIR/push.log"

    git config stowaway.image app:clean
    push clean
    [ "$RC" -eq 0 ] || { cat "$WORKDIR/push.log" >&2; fail "a clean image must push"; }
    remote_has clean || fail "the remote lacks the clean push"

    git config stowaway.image app:missing
    push missing
    [ "$RC" -ne 0 ] || fail "docker save failing must stop the push"
    remote_has missing && fail "pushed although the image could not be saved"

    STOWAWAY_IMAGE=app:clean STOWAWAY_ARGS="--no-db --fail-on info" git push -q origin HEAD:refs/heads/env >/dev/null 2>&1 ||
        fail "STOWAWAY_IMAGE / STOWAWAY_ARGS overrides"
else
    skip_part "git is not installed: the pre-push hook in a git repository"
fi
cd "$WORKDIR"
known_options "$SRCDIR/hooks/pre-push" "hooks/pre-push"

# The man page parts need man; the checks after them run either way.
if command -v man >/dev/null; then
    note "man page"
    MANWIDTH=80 man -l "$SRCDIR/docs/stowaway.1" >"$WORKDIR/man.txt" 2>"$WORKDIR/man.err" ||
        { cat "$WORKDIR/man.err" >&2; fail "man -l failed"; }
    for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS 'IGNORE FILES' 'EXIT STATUS' EXAMPLES; do
        grep -q "^$s\$" "$WORKDIR/man.txt" || fail "man page lacks section $s"
    done
    if command -v groff >/dev/null; then
        groff -man -Tutf8 -ww -z "$SRCDIR/docs/stowaway.1" 2>"$WORKDIR/groff.err" || true
        [ -s "$WORKDIR/groff.err" ] && { cat "$WORKDIR/groff.err" >&2; fail "groff warnings in the man page"; }
    fi
    # Every option the commands have is documented, and none that they lack.
    grep -o -E -- '--[a-z][a-z-]+' "$WORKDIR/man.txt" | sort -u >"$WORKDIR/man.options"
    missing=$(comm -23 "$WORKDIR/options" "$WORKDIR/man.options" | grep -v -x -e '--help' -e '--version' || true)
    [ -z "$missing" ] || fail "man page does not document: $missing"
    known_options "$WORKDIR/man.txt" "man page"
    sed 's/^/stowaway /' "$WORKDIR/man.options" >"$WORKDIR/man.options.cmd"
    known_options "$WORKDIR/man.options.cmd" "man page"

    note "cmake --install puts it where man finds it"
    PREFIX="$WORKDIR/prefix"
    cmake --install "$BUILD_DIR" --prefix "$PREFIX" >"$WORKDIR/install.log" 2>&1 ||
        { cat "$WORKDIR/install.log" >&2; fail "cmake --install failed"; }
    [ -x "$PREFIX/bin/stowaway" ] || fail "binary not installed"
    [ -f "$PREFIX/share/man/man1/stowaway.1" ] || fail "man page not installed to share/man/man1"
    [ "$(MANPATH="$PREFIX/share/man" man -w stowaway)" = "$PREFIX/share/man/man1/stowaway.1" ] ||
        fail "man stowaway does not find the installed page"
    MANPATH="$PREFIX/share/man" MANWIDTH=80 man stowaway 2>/dev/null | grep -q '^STOWAWAY(1) ' ||
        fail "man stowaway does not render the installed page"
else
    skip_part "man is not installed: the man page and its install"
fi

note "docs/ci.md: YAML examples parse, commands use real options"
python3 - "$SRCDIR/docs/ci.md" <<'PY' || fail "a YAML example in docs/ci.md does not parse"
import re, sys, yaml
text = open(sys.argv[1]).read()
blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
assert len(blocks) >= 2, "want GitHub and GitLab examples"
for b in blocks:
    doc = yaml.safe_load(b)
    assert isinstance(doc, dict), b[:80]
gh = [yaml.safe_load(b) for b in blocks if "runs-on" in b]
assert gh and "upload-sarif" in str(gh), "GitHub example must upload SARIF"
gl = [yaml.safe_load(b) for b in blocks if "stage" in b and "runs-on" not in b]
assert gl and "sarif" in str(gl), "GitLab example must keep a SARIF report"
PY
known_options "$SRCDIR/docs/ci.md" "docs/ci.md"
known_options "$SRCDIR/docs/cli.md" "docs/cli.md"
grep -q 'hooks/pre-push' "$SRCDIR/docs/ci.md" || fail "ci.md does not describe the pre-push hook"

note "Dockerfile: multi-stage, pinned bases, non-root, no secrets"
DF="$SRCDIR/Dockerfile"
[ "$(grep -c -E '^FROM ' "$DF")" -ge 2 ] || fail "not multi-stage"
grep -q -E '^COPY --from=' "$DF" || fail "runtime stage does not copy from the build stage"
grep -E '^FROM ' "$DF" | grep -v -E '^FROM [a-z0-9./-]+:[0-9][A-Za-z0-9.-]*(@sha256:[0-9a-f]{64})?( AS [a-z]+)?$' &&
    fail "a base image is not pinned by a version tag"
grep -q -i -E '^FROM .*:latest' "$DF" && fail "a base uses :latest"
LAST_USER=$(grep -E '^USER ' "$DF" | tail -1 | awk '{print $2}')
[ -n "$LAST_USER" ] || fail "no USER"
case "${LAST_USER%%:*}" in 0 | root) fail "runs as root" ;; esac
grep -q -i -E '^(ARG|ENV) .*(pass|secret|token|key)' "$DF" && fail "a secret-looking ARG/ENV"
grep -q -x '.git' "$SRCDIR/.dockerignore" || fail ".dockerignore must keep .git out"
echo "PASS $TEST_NAME"
