#!/usr/bin/env bash
# test_stock_images.sh - no new false alarms on stock content: a debootstrap
# Debian 12 root filesystem and a node_modules tree of popular npm packages
# are scanned as layers and their findings must equal tests/stock-findings.yaml
# (path, rule, severity, each with its reason): a new finding or a lost one
# fails. Building the content needs the network (debootstrap from the apt
# mirror, npm install of a lockfile from the npm registry) and about two minutes, so it is
# opt-in: STW_STOCK_IMAGES=1 builds what is missing into the cache
# ($STW_STOCK_CACHE, default <build dir>/stock-cache); later runs reuse it
# (a few seconds). STW_DEBIAN_ROOTFS_TAR=FILE uses an existing tarball of
# the same rootfs (make-images.sh's cache). With nothing cached and no
# opt-in, the test is skipped.
. "$(dirname "$0")/lib.sh"

CACHE=${STW_STOCK_CACHE:-$(cd "$(dirname "$STOWAWAY")" && pwd)/stock-cache}
SUITE=bookworm
DEB_TAR=$CACHE/rootfs-$SUITE-minbase.tar
NPM_TAR=$CACHE/node_modules.tar
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # two build trees sharing a cache must not build it twice at once

# The Debian mirror of the apt configuration (as make-images.sh finds it).
mirror() {
    local m
    m=$(apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null |
        awk -v s=$SUITE '$1==s{print $2; exit}')
    if [ -z "$m" ]; then
        m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s=$SUITE 'BEGIN{RS=""}
          { u=""; ok=0; n=split($0, L, "\n")
            for (i=1;i<=n;i++) { k=L[i]; if (k ~ /^URIs:/) { split(k, f, /[ \t]+/); u=f[2] }
              if (k ~ /^Suites:/) { c=split(k, f, /[ \t]+/); for (j=2;j<=c;j++) if (f[j]==s) ok=1 } }
            if (ok && u != "") { print u; exit } }')
        [ -n "$m" ] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk -v s=$SUITE '/^deb[ \t]/{ sub(/\[[^]]*\]/, ""); if ($3==s) { print $2; exit } }')
    fi
    echo "${m:-http://deb.debian.org/debian}"
}

build_debian() {
    [ "$(id -u)" = 0 ] || { note "debootstrap needs root"; return 1; }
    command -v debootstrap >/dev/null || { note "no debootstrap"; return 1; }
    local root=$CACHE/rootfs-$SUITE-minbase m
    m=$(mirror)
    note "debootstrap --variant=minbase $SUITE from $m (1-2 min)"
    rm -rf "$root"
    debootstrap --variant=minbase $SUITE "$root" "$m" >"$CACHE/debootstrap.log" 2>&1 ||
        { tail -20 "$CACHE/debootstrap.log" >&2; fail "debootstrap failed"; }
    # As make-images.sh packs it: no device nodes, .deb cache or host files.
    tar --numeric-owner -C "$root" -cpf "$DEB_TAR.tmp" --exclude='./dev/*' \
        --exclude='./proc/*' --exclude='./sys/*' \
        --exclude='./var/cache/apt/archives/*.deb' \
        --exclude=./etc/resolv.conf --exclude=./etc/hostname . &&
        mv "$DEB_TAR.tmp" "$DEB_TAR"
    rm -rf "$root"
}

build_npm() {
    command -v npm >/dev/null || { note "no npm"; return 1; }
    local d=$CACHE/npm
    note "npm install of tests/stock/npm (17 packages, about 1 min)"
    rm -rf "$d"
    mkdir -p "$d"
    cp "$SRCDIR/tests/stock/npm/package.json" "$SRCDIR/tests/stock/npm/package-lock.json" "$d/"
    # install, not ci: npm 11's ci rejects a lockfile without the other
    # platforms' optional packages (@next/swc-darwin-*); install follows
    # the lockfile's versions all the same.
    (cd "$d" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error) \
        >"$CACHE/npm.log" 2>&1 || { tail -20 "$CACHE/npm.log" >&2; fail "npm install failed"; }
    tar -C "$d" -cf "$NPM_TAR.tmp" --transform 's,^,app/,' node_modules &&
        mv "$NPM_TAR.tmp" "$NPM_TAR"
    rm -rf "$d"
}

if [ ! -s "$DEB_TAR" ] && [ -n "${STW_DEBIAN_ROOTFS_TAR:-}" ]; then
    DEB_TAR=$STW_DEBIAN_ROOTFS_TAR
fi
if [ "${STW_STOCK_IMAGES:-0}" = 1 ]; then
    [ -s "$DEB_TAR" ] || build_debian || true
    [ -s "$NPM_TAR" ] || build_npm || true
fi
images=()
[ -s "$DEB_TAR" ] && images+=("debian-bookworm-minbase=$DEB_TAR")
[ -s "$NPM_TAR" ] && images+=("node-modules=$NPM_TAR")
[ ${#images[@]} -gt 0 ] ||
    skip "no stock content cached in $CACHE; run with STW_STOCK_IMAGES=1 to build it"
[ -s "$DEB_TAR" ] || note "Debian rootfs not available: only node_modules checked"
[ -s "$NPM_TAR" ] || note "node_modules not available: only Debian checked"

python3 "$SRCDIR/bench/accuracy/stock_findings.py" --stowaway "$STOWAWAY" \
    --expected "$SRCDIR/tests/stock-findings.yaml" "${images[@]}" \
    >"$WORKDIR/out.txt" 2>"$WORKDIR/err.txt" || {
    cat "$WORKDIR/out.txt" "$WORKDIR/err.txt" >&2
    fail "findings on stock content differ from tests/stock-findings.yaml"
}
grep -q -e 'AddressSanitizer' -e 'runtime error:' "$WORKDIR/err.txt" &&
    { cat "$WORKDIR/err.txt" >&2; fail "sanitizer report"; }
while read -r line; do note "$line"; done <"$WORKDIR/out.txt"

# The comparison must bite: an expected list without one finding fails.
python3 - "$SRCDIR/tests/stock-findings.yaml" "$WORKDIR/short.yaml" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for k in d:
    d[k] = d[k][1:]
yaml.safe_dump(d, open(sys.argv[2], 'w'))
PY
if python3 "$SRCDIR/bench/accuracy/stock_findings.py" --stowaway "$STOWAWAY" \
    --expected "$WORKDIR/short.yaml" "${images[0]}" >"$WORKDIR/short.out" 2>&1; then
    fail "an unexpected finding did not fail the comparison"
fi
grep -q UNEXPECTED "$WORKDIR/short.out" || fail "the unexpected finding is not named"
