#!/usr/bin/env bash
# test_git_history.sh - secrets that only a copied .git still holds, end to
# end: repositories made with the real git CLI (a token committed, then
# deleted and packed by git gc; a token in a commit message; a repository a
# later layer deletes), an image built by umoci and converted by skopeo.
# Each form and standard input report the history finding with its commit,
# its path in the repository, reachability and "only in git history"; the
# database gives them back on a cached re-scan; --no-git-history and the
# byte bound do what they say. One Python process per report.
# shellcheck disable=SC2002
. "$(dirname "$0")/lib.sh"
command -v umoci >/dev/null && command -v skopeo >/dev/null &&
    command -v git >/dev/null || skip "umoci, skopeo and git are needed"

G="$WORKDIR/git"
mkdir -p "$G"
cd "$G"
ROOTLESS=()
[ "$(id -u)" -eq 0 ] || ROOTLESS=(--rootless)
q() { "$@" >>"$G/tools.log" 2>&1 || { cat "$G/tools.log" >&2; fail "$*"; }; }
export GIT_AUTHOR_NAME="Dev One" GIT_AUTHOR_EMAIL="dev@example.invalid"
export GIT_COMMITTER_NAME="Dev One" GIT_COMMITTER_EMAIL="dev@example.invalid"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
# Three tokens from bench/mint.py (ghp 101, 102, 103), and where Python's
# email package is (real sources for the no-false-alarm check below).
FACTS=$(python3 -c 'import email, os, sys
sys.path.insert(0, sys.argv[1])
from mint import mint
print(*(mint("ghp", s) for s in ("101", "102", "103")))
print(os.path.dirname(email.__file__))' "$SRCDIR/bench")
{ read -r TOK1 TOK2 TOK3 && read -r SRC; } <<<"$FACTS"
[ -n "$TOK3" ] && [ -d "$SRC" ] || fail "tokens or email sources: $FACTS"

# srv/app: the token is committed, deleted in the next commit, packed.
mkdir -p app/config
cd app
q git init -q -b main
echo "listen 8080" >config/app.conf
echo "GITHUB_TOKEN=$TOK1" >config/deploy.env
q git add -A
q git commit -q -m "add deploy config"
ADDED=$(git rev-parse HEAD)
# The token of a commit message's body: the reflog keeps only subjects,
# COMMIT_EDITMSG only the last message, so history alone holds it.
q git commit -q --allow-empty -m "ci settings" -m "old token was $TOK2"
MSG=$(git rev-parse HEAD)
q git rm -q config/deploy.env
q git commit -q -m "remove the token"
q git gc -q
cd "$G"
# srv/old: a second repository, deleted by the next layer.
mkdir -p old
cd old
q git init -q -b main
echo "token: $TOK3" >notes.txt
q git add -A
q git commit -q -m "notes"
OLD=$(git rev-parse HEAD)
q git rm -q notes.txt
q git commit -q -m "clean"
cd "$G"

q umoci init --layout img
q umoci new --image img:v1
q umoci unpack "${ROOTLESS[@]}" --image img:v1 b0
mkdir -p b0/rootfs/srv
cp -a app old b0/rootfs/srv/
q umoci repack --image img:v1 --history.created_by 'COPY . /srv' b0
q umoci unpack "${ROOTLESS[@]}" --image img:v1 b1
rm -rf b1/rootfs/srv/old/.git
q umoci repack --image img:v1 --history.created_by 'RUN rm -rf /srv/old/.git' b1
q skopeo copy oci:img:v1 docker-archive:git.docker.tar:fixture/git:v1
cd "$WORKDIR"

CHECK='
import json, sys
want = {
    "tok1": ("srv/app/.git", sys.argv[1], "config/deploy.env", "blob", True),
    "tok2": ("srv/app/.git", sys.argv[2], None, "commit-message", True),
    "tok3": ("srv/old/.git", sys.argv[3], "notes.txt", "blob", False),
}
import hashlib
sha = {k: hashlib.sha256(v.encode()).hexdigest()
       for k, v in zip(("tok1", "tok2", "tok3"), sys.argv[4:7])}
errs = []
for rep in sys.argv[7:]:
    r = json.load(open(rep))
    e0 = len(errs)
    for k, (path, commit, gpath, source, visible) in want.items():
        got = [f for f in r["findings"] if f["secret_sha256"] == sha[k]]
        if len(got) != 1:
            errs.append("%s: %d findings" % (k, len(got)))
            continue
        f, g = got[0], got[0]["git"] or {}
        if f["path"] != path or f["rule"] != "github-pat" or f["layer"] != 0:
            errs.append("%s: %s %s layer %s" % (k, f["path"], f["rule"], f["layer"]))
        if g.get("commit") != commit or g.get("path") != gpath or g.get("source") != source:
            errs.append("%s: git %r" % (k, g))
        if g.get("in_worktree") is not False or g.get("reachable") is not True:
            errs.append("%s: in_worktree/reachable %r" % (k, g))
        if f["visible"] != visible or (not visible and f["removed_in_layer"] != 1):
            errs.append("%s: visible %s removed_in_layer %s" % (k, f["visible"], f["removed_in_layer"]))
    blob = json.dumps(r)
    for a in ("Dev One", "dev@example.invalid"):
        if a in blob:
            errs.append("author copied into the report: " + a)
    errs[e0:] = [rep + ": " + e for e in errs[e0:]]
if errs:
    sys.exit("\n".join(errs))
'
# check CONTEXT REPORT...: CHECK on every REPORT, in one python3.
check() {
    local ctx=$1
    shift
    python3 -c "$CHECK" "$ADDED" "$MSG" "$OLD" "$TOK1" "$TOK2" "$TOK3" "$@" ||
        fail "$ctx"
}

for t in img git.docker.tar; do
    note "git history: $t"
    scan_json "$t" --no-db "$G/$t"
    check_no_plaintext "$WORKDIR/$t.json"
    grep -q -F -e "$TOK1" -e "$TOK2" -e "$TOK3" "$WORKDIR/$t.json" &&
        fail "$t: a token in full in the report"
done
same_findings "$WORKDIR/img.json" "$WORKDIR/git.docker.tar.json" "oci vs docker"

note "git history: standard input"
set +e
cat "$G/git.docker.tar" | "$STOWAWAY" scan --no-db --format json - \
    >"$WORKDIR/pipe.json" 2>"$WORKDIR/pipe.err"
RC=$?
set -e
expect_rc 1 "stdin"
check "img, git.docker.tar or stdin (see above)" "$WORKDIR/img.json" \
    "$WORKDIR/git.docker.tar.json" "$WORKDIR/pipe.json"

note "git history: the terminal says where in history"
run "$WORKDIR/t.txt" "$WORKDIR/t.err" scan --no-db "$G/img"
grep -q -F "srv/app/.git  history ${ADDED:0:7}: config/deploy.env:1" \
    "$WORKDIR/t.txt" || { cat "$WORKDIR/t.txt" >&2; fail "table line"; }
grep -q -F "[only in git history]" "$WORKDIR/t.txt" || fail "table marker"
run "$WORKDIR/g.sarif" "$WORKDIR/s.err" scan --no-db --format sarif "$G/img"
python3 - "$WORKDIR/g.sarif" "$ADDED" <<'PY' || fail "SARIF lacks the history"
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]["results"]
g = [x for x in r if (x.get("properties") or {}).get("git")]
assert any(x["properties"]["git"]["commit"] == sys.argv[2] and
           "history " + sys.argv[2][:7] in x["message"]["text"] for x in g), g
PY
run "$WORKDIR/h.out" "$WORKDIR/h.err" scan --no-db --format html \
    -o "$WORKDIR/g.html" "$G/img"
grep -q -F "history ${ADDED:0:7}: config/deploy.env" "$WORKDIR/g.html" &&
    grep -q -F "only in git history" "$WORKDIR/g.html" ||
    fail "HTML lacks the history"

note "git history: stored and given back by a cached re-scan"
scan_json c1 --db "$WORKDIR/g.db" "$G/img"
scan_json c2 --db "$WORKDIR/g.db" "$G/img"
cj_all "$WORKDIR/c2.json" <<'EOF'
eval all(l["cached"] for l in I[0]["layers"]) # second scan not from the cache
EOF
check "cached re-scan" "$WORKDIR/c2.json"
grep -q -F -e "$TOK1" -e "$TOK2" -e "$TOK3" "$WORKDIR/g.db"* &&
    fail "a token in full in the database"

note "git history: --no-git-history and --max-git-bytes"
scan_json off --no-db --no-git-history "$G/img"
scan_json small --no-db --max-git-bytes 1000 "$G/img"
cj_all "$WORKDIR/off.json" <<'EOF'
none rule=github-pat # --no-git-history
report small.json
eval any("git" in e["message"] for e in r["errors"]) # --max-git-bytes: no error line
EOF
note "git history: a clean repository of real sources gives no false alarm"
mkdir -p "$G/clean"
cp -r "$SRC" "$G/clean/email"
(
    cd "$G/clean"
    q git init -q -b main
    q git add -A
    q git commit -q -m "import the email package"
    sed -i 's/^/# /' email/__init__.py
    q git commit -q -am "comment out the package init"
    q git gc -q
)
tar -cf "$G/clean.tar" -C "$G" clean
scan_json clean --no-db "$G/clean.tar"
# (clean.json is checked at the end, with hostile.json and loop.json)

note "git history: a zlib bomb and a lying size in loose objects"
mkdir -p "$G/hostile"
cd "$G/hostile"
q git init -q -b main r
echo hi >r/a
q git -C r add a
q git -C r commit -q -m a
python3 - <<'PY'
import hashlib, os, zlib
def put(declared, inflated, name):
    c = zlib.compressobj(9)
    data = c.compress(b"blob %d\0" % declared)
    for _ in range(inflated >> 20):
        data += c.compress(bytes(1 << 20))
    data += c.flush()
    h = hashlib.sha1(name.encode()).hexdigest()
    os.makedirs("r/.git/objects/" + h[:2], exist_ok=True)
    with open("r/.git/objects/%s/%s" % (h[:2], h[2:]), "wb") as f:
        f.write(data)
put(100, 2048 << 20, "says 100 bytes, inflates to 2 GiB")
put(99999999999, 1 << 20, "says 100 GB")
# Found by fuzz_layer: a stream that goes on past the size its header
# declares made libgit2 abort or spin; such objects are checked first.
data = zlib.compress(b"blob 3\0" + b"longer than it says " * 5)
h = hashlib.sha1(b"liar").hexdigest()
os.makedirs("r/.git/objects/" + h[:2], exist_ok=True)
with open("r/.git/objects/%s/%s" % (h[:2], h[2:]), "wb") as f:
    f.write(data)
PY
# A "ref" far too big to be one is not copied, and the report says so.
head -c 100000 /dev/zero | tr '\0' 'a' >r/.git/refs/heads/huge
tar -cf "$G/hostile.tar" r
cd "$WORKDIR"
SECONDS=0
scan_json hostile --no-db "$G/hostile.tar"
[ "$SECONDS" -le 30 ] || fail "hostile objects: ${SECONDS} s"
note "git history: a pack whose two deltas are each other's base"
mkdir -p "$G/loop"
cd "$G/loop"
q git init -q -b main r
echo hi >r/a
q git -C r add a
q git -C r commit -q -m a
# Pack and index laid out by hand (git would never write them): object A
# is a delta on B and B a delta on A. libgit2's readers would follow that
# loop for ever; stowaway rebuilds every index with libgit2's indexer first.
python3 - <<'PY'
import hashlib, struct, zlib
def hdr(t, size):
    b, size, out = (t << 4) | (size & 15), size >> 4, bytearray()
    while size:
        out.append(b | 0x80)
        b, size = size & 0x7f, size >> 7
    out.append(b)
    return bytes(out)
delta = bytes([4, 4, 0x91, 0, 4])  # base 4 bytes, result 4: copy 0..4
a, b = hashlib.sha1(b"loop-a").digest(), hashlib.sha1(b"loop-b").digest()
pack, offs = bytearray(b"PACK" + struct.pack(">II", 2, 2)), {}
for oid, base in ((a, b), (b, a)):
    offs[oid] = len(pack)
    pack += hdr(7, len(delta)) + base + zlib.compress(delta)
ends = sorted(offs.values()) + [len(pack)]
pack += hashlib.sha1(pack).digest()
ids = sorted(offs)
idx = bytearray(b"\xfftOc" + struct.pack(">I", 2))
for i in range(256):
    idx += struct.pack(">I", sum(1 for x in ids if x[0] <= i))
for x in ids:
    idx += x
for x in ids:
    s = offs[x]
    idx += struct.pack(">I", zlib.crc32(bytes(pack[s:ends[ends.index(s) + 1]])))
for x in ids:
    idx += struct.pack(">I", offs[x])
idx += pack[-20:]
idx += hashlib.sha1(idx).digest()
name = "r/.git/objects/pack/pack-" + pack[-20:].hex()
open(name + ".pack", "wb").write(pack)
open(name + ".idx", "wb").write(idx)
PY
tar -cf "$G/loop.tar" r
cd "$WORKDIR"
SECONDS=0
run "$WORKDIR/loop.json" "$WORKDIR/loop.err" scan --no-db --format json \
    "$G/loop.tar"
[ "$SECONDS" -le 30 ] || fail "delta loop: ${SECONDS} s"
expect_rc 0 "delta loop (only the .git directory itself, medium)"
cj_all "$WORKDIR/clean.json" <<'EOF'
eval not any(f["git"] for f in F) # a history finding in clean sources
eval not r["errors"] # errors on a clean repository
report hostile.json
eval sum("3 loose objects unreadable" in e["message"] for e in r["errors"]) == 1 \
    # hostile objects: want one error line counting the three
eval sum("1 repository files not copied" in e["message"] for e in r["errors"]) == 1 \
    # the over-long ref is skipped silently
report loop.json
eval sum("not a usable pack" in e["message"] for e in r["errors"]) == 1 \
    # delta loop: want one error line naming the pack
EOF
echo "git history: ok"
