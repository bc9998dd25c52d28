#!/usr/bin/env bash
# test_html.sh - the HTML report: one self-contained file (no network
# reference), rendered in headless Chromium: layers with instructions and
# sizes, deleted-but-recoverable findings marked, the severity and kind
# filters (driven through the URL fragment, after the page's script ran),
# and hostile paths and history lines shown as text, never as markup. The
# screenshot is kept in WORKDIR as an artefact.
. "$(dirname "$0")/lib.sh"
CHROME=$(command -v chromium || command -v chromium-browser || true)
gen_fixtures
cd "$WORKDIR"

# hostile.docker.tar: a key under a name full of markup, a setuid file
# deleted later, and history lines that try to close tags and run script.
IMG="$WORKDIR/hostile.docker.tar"
python3 - "$SRCDIR/fixtures/keys/id_rsa.pem" "$IMG" <<'PY'
import hashlib, json, sys
from tarlib import tar_bytes
key = open(sys.argv[1], "rb").read()

evil = 'app/<img src=x onerror="document.title=\'pwned\'">\'&amp;.pem'
layers = [tar_bytes([(evil, key, 0o600), ("usr/bin/tool", b"\x7fELF", 0o4755)]),
          tar_bytes([("usr/bin/.wh.tool", b"", 0o644)])]
diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
config = json.dumps({
    "architecture": "amd64", "os": "linux", "config": {},
    "rootfs": {"type": "layers", "diff_ids": diff_ids},
    "history": [
        {"created_by": "COPY </code><script>document.title='pwned'</script> /app"},
        {"created_by": "RUN rm /usr/bin/tool # <b id=\"injected\">x</b>"}],
}).encode()
cfg = hashlib.sha256(config).hexdigest() + ".json"
manifest = json.dumps([{"Config": cfg,
                        "RepoTags": ["evil/<i id=\"injref\">:1"],
                        "Layers": ["l0/layer.tar", "l1/layer.tar"]}])
open(sys.argv[2], "wb").write(tar_bytes(
    [("manifest.json", manifest.encode(), 0o644), (cfg, config, 0o644),
     ("l0/layer.tar", layers[0], 0o644), ("l1/layer.tar", layers[1], 0o644)]))
PY

HTML="$WORKDIR/report.html"
run "$WORKDIR/h.out" "$WORKDIR/h.err" scan --no-db --format html -o "$HTML" \
    "$IMG" "$FX/base.docker.tar"
expect_rc 1 "html scan"
[ -s "$WORKDIR/h.out" ] && fail "-o: standard output not empty"
head -c 15 "$HTML" | grep -q '<!DOCTYPE html>' || fail "not an HTML document"

note "self-contained: no network reference"
{ grep -o -i -E '<[a-z][^>]*[[:space:]](src|href|action)=|https?://|@import|url\(' \
    "$HTML" || true; } >"$WORKDIR/refs"
[ -s "$WORKDIR/refs" ] && { cat "$WORKDIR/refs" >&2; fail "the page references something outside itself"; }
grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$HTML" ||
    fail "no CSP forbidding fetches"
grep -q '<img' "$HTML" && fail "raw <img from a file name"
grep -q '&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;&#39;&amp;amp;.pem' "$HTML" ||
    fail "hostile path not escaped as expected"
check_no_plaintext "$HTML"

# dom_checks < TABLE: Python checks over the dumped DOMs (html.parser), in
# one python3: "dom NAME" reads NAME.dom, then each line "EXPR # MESSAGE"
# is checked over it; every failing line is reported, then the test fails.
dom_checks() {
    python3 -c '
import sys
from html.parser import HTMLParser

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.els, self.text, self.title, self._t = [], [], "", False
    def handle_starttag(self, tag, attrs):
        self.els.append((tag, dict(attrs)))
        self._t = tag == "title"
    def handle_endtag(self, tag):
        self._t = False
    def handle_data(self, d):
        self.text.append(d)
        if self._t:
            self.title += d

bad = 0
for n, line in enumerate(sys.stdin, 1):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    if line.startswith("dom "):
        name = line[4:]
        p = P()
        p.feed(open(sys.argv[1] + "/" + name + ".dom", encoding="utf-8").read())
        E = p.els
        T = "".join(p.text)
        rows = [a for t, a in E if t == "tr" and "finding" in a.get("class", "").split()]
        shown = [a for a in rows if "hidden" not in a]
        body = next(a for t, a in E if t == "body")
        continue
    expr, _, msg = line.partition(" # ")
    try:
        ok = eval(expr)
    except Exception as e:
        ok, msg = False, "%s (raised %r)" % (msg, e)
    if not ok:
        bad += 1
        sys.stderr.write("DOM check failed, %s.dom line %d: %s\n  %s\n"
                         "  title=%r rows=%d shown=%d\n"
                         % (name, n, msg, expr, p.title, len(rows), len(shown)))
sys.exit(1 if bad else 0)' "$WORKDIR" || fail "DOM checks (see above)"
}

# What follows needs Chromium; without it only the rendering is skipped.
if [ -z "$CHROME" ]; then
    skip_part "chromium is not installed (tools/install-deps.sh --test): the rendered page, its filters and the screenshot"
else
    # chrome ARGS... : headless Chromium with nothing that reaches out.
    PROFILE=$(mktemp -d "$WORKDIR/profile.XXXXXX")
    chrome() {
        timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic \
            --no-first-run --disable-background-networking \
            --disable-component-update --disable-sync --disable-extensions \
            --user-data-dir="$PROFILE" "$@" 2>>"$WORKDIR/chrome.log"
    }
    # dom FRAGMENT NAME: the DOM after the script ran, into NAME.dom
    dom() {
        chrome --dump-dom "file://$HTML$1" >"$WORKDIR/$2.dom" ||
            { tail -5 "$WORKDIR/chrome.log" >&2; fail "chromium --dump-dom failed"; }
        [ -s "$WORKDIR/$2.dom" ] || fail "empty DOM dump"
    }
    note "rendered: structure, markers, hostile names stay text"
    dom "" all

    note "filters (state from the URL fragment, applied by the script)"
    dom "#severity=critical" crit
    dom "#kind=setuid,setgid" kind
    dom "#deleted=1" del

    dom_checks <<'EOF'
dom all
p.title == "stowaway report" # a history line ran script (title changed)
not any(t in ("img", "b", "i") or a.get("id") in ("injected", "injref") for t, a in E) # markup from the image became elements
sum(1 for t, a in E if t == "script") == 1 # an injected <script> element
"<script>document.title='pwned'</script>" in T # the hostile history line is not shown as text
'onerror="document.title=' in T # the hostile path is not shown as text
len([a for t, a in E if t == "section" and "image" in a.get("class", "")]) == 2 # want two image sections
any("COPY keys/ /app/" in x for x in p.text) and "RUN rm /app/id_rsa" in T # layer instructions missing
"3.2 MB" in T # layer size missing
T.count("deleted in layer 2") >= 3 and "recoverable" in T # deleted-but-recoverable marks missing
len(rows) == len(shown) and body.get("data-shown") == str(len(rows)) and len(rows) >= 18 # all findings shown by default
all("data-visible" in a for a in rows) and any(a["data-visible"] == "false" for a in rows) # visibility attribute
"Fix:" in T # remediation lines missing
dom crit
shown and all(a["data-severity"] == "critical" for a in shown) and len(shown) < len(rows) # severity filter
body.get("data-shown") == str(len(shown)) # shown count not updated
dom kind
shown and all(a["data-kind"] in ("setuid", "setgid") for a in shown) # kind filter
dom del
shown and all(a["data-visible"] == "false" for a in shown) # deleted-only filter
len(shown) == sum(1 for a in rows if a["data-visible"] == "false") # deleted-only filter hid a deleted finding
EOF

    note "screenshot"
    SHOT="$WORKDIR/report.png"
    chrome --window-size=1280,1600 --screenshot="$SHOT" "file://$HTML" >/dev/null ||
        { tail -5 "$WORKDIR/chrome.log" >&2; fail "screenshot failed"; }
    python3 -c 'import sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n" and len(b) > 20000, len(b)' "$SHOT" ||
        fail "screenshot is not a real PNG"
    echo "screenshot: $SHOT"
fi
echo "PASS $TEST_NAME"
