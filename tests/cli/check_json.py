#!/usr/bin/env python3
"""check_json.py - assertions on stowaway's JSON report for the CLI tests.

Every command exits 0 when the assertion holds and 1 (with the reason and
the findings involved on stderr) when it does not.

  check_json.py schema REPORT
      The report has the documented shape (docs: "JSON report").
  check_json.py has REPORT COND...      at least one finding matches
  check_json.py none REPORT COND...     no finding matches
  check_json.py count REPORT N COND...  exactly N findings match
      COND is KEY=VALUE, KEY!=VALUE, KEY~REGEX (search), KEY>=N or KEY<=N;
      KEY is a field of a finding (an unknown one is an error).
      VALUE is read as JSON when it parses (1, false, null), else a string.
      "path" is compared without a trailing "/"; "ref=" matches the
      findings' image ref.
  check_json.py norm REPORT [--fingerprints] [--image-ref]
      Prints the findings, one canonical JSON line each, sorted: the part of
      a report that must not depend on the input format.
  check_json.py layers REPORT EXPECTED FORMAT [IMAGE]
      images[IMAGE].layers match the digests, diff_ids, created_by (and,
      for OCI formats, media types) recorded for FORMAT in the generator's
      expected.json, and so does the config digest.
  check_json.py eval REPORT EXPR
      Python expression over r (the report), F (findings), I (images),
      REPORT (its path); fails unless truthy.
  check_json.py print REPORT EXPR
      Prints what EXPR (as for eval) gives, a line; fails if it raises.
  check_json.py table REPORT [COND...] < TABLE
      Every assertion of TABLE, one a line, in one process: "schema",
      "has COND...", "none COND...", "count N COND...", "eval EXPR",
      "print EXPR" (to stdout, for a test to read a value), "layers
      EXPECTED FORMAT [IMAGE]", "norm OUT [--fingerprints] [--image-ref]"
      (writes what the norm command prints to the file OUT) and "report
      PATH" (later lines are about that report). A relative PATH or OUT
      is in the directory of the first report. CONDs given on the command
      line, or by the last "with COND..." line (which replaces them; "with"
      alone drops them), are added to every has/none/count line. Words are
      split as the shell does (quotes, backslashes); an eval or print
      expression is taken as written. A line ending in a backslash goes on
      on the next one; " # " outside quotes starts the message printed
      when the line fails; blank lines and lines starting with "#" are
      skipped. Every line is checked; each failing one is reported with
      its line number, its message and the findings involved; exits 1 if
      any did. --schema=PATH arguments (before the CONDs) add a schema
      check of that report (lib.sh's scan_json defers its check to here).
  check_json.py schemas REPORT...
      The schema check of every REPORT, each failure reported.
"""
import json
import os
import re
import shlex
import sys

KINDS = {"secret", "private-key", "credential-file", "artifact", "setuid",
         "setgid", "world-writable", "config"}
SEVERITIES = ["info", "low", "medium", "high", "critical"]
SHA256_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


class Failed(Exception):
    """One assertion does not hold: the reason and the findings involved."""

    def __init__(self, msg, items=None):
        super().__init__(msg)
        self.msg, self.items = msg, items or []

    def text(self):
        return "".join([self.msg + "\n"] +
                       ["  " + json.dumps(it, sort_keys=True) + "\n"
                        for it in self.items[:40]])


def die(msg, items=None):
    raise Failed(msg, items)


def load(path):
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die("cannot read report %s: %s" % (path, e))


def field(r, f, key):
    if key == "ref":
        i = f.get("image")
        imgs = r.get("images", [])
        return imgs[i].get("ref") if isinstance(i, int) and i < len(imgs) \
            else None
    v = f.get(key)
    if key == "path" and isinstance(v, str) and v != "/":
        v = v.rstrip("/")
    return v


def parse_value(s):
    try:
        return json.loads(s)
    except ValueError:
        return s


# What a condition may name: the fields the JSON report gives a finding,
# and "ref". A misspelt key would match no finding, so a "none" line
# naming it could never fail.
COND_KEYS = {"image", "layer", "layer_digest", "path", "kind", "rule",
             "severity", "line", "offset", "visible", "removed_in_layer",
             "mode", "uid", "gid", "fingerprint", "secret_sha256", "excerpt",
             "detail", "validated", "git", "in_history", "ref"}


def parse_cond(c):
    m = re.match(r"^([a-z_]+)(!=|>=|<=|=|~)(.*)$", c, re.S)
    if not m:
        die("bad condition %r" % c)
    if m.group(1) not in COND_KEYS:
        die("condition %r: a finding has no field %r" % (c, m.group(1)))
    return m.group(1), m.group(2), m.group(3)


def matches(r, f, conds):
    for key, op, raw in conds:
        v = field(r, f, key)
        if op == "~":
            if not isinstance(v, str) or not re.search(raw, v):
                return False
        elif op in (">=", "<="):
            want = parse_value(raw)
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                return False
            if (op == ">=" and v < want) or (op == "<=" and v > want):
                return False
        else:
            want = parse_value(raw)
            if key == "path" and isinstance(want, str):
                want = want.rstrip("/")
            eq = v == want and type(v) is type(want)
            if (op == "=") != eq:
                return False
    return True


def check_schema(r):
    errs = []

    def need(cond, msg):
        if not cond:
            errs.append(msg)

    need(r.get("schema") == 1, "schema != 1")
    tool = r.get("tool", {})
    need(tool.get("name") == "stowaway", "tool.name")
    for k in ("version", "rules_version"):
        need(isinstance(tool.get(k), str), "tool." + k)
    imgs = r.get("images")
    need(isinstance(imgs, list), "images not a list")
    imgs = imgs if isinstance(imgs, list) else []
    for n, img in enumerate(imgs):
        for k in ("ref", "manifest_digest", "config_digest", "platform"):
            need(k in img, "images[%d].%s missing" % (n, k))
        need(isinstance(img.get("config_digest"), str) and
             SHA256_RE.match(img.get("config_digest") or "") is not None or
             img.get("config_digest") is None,
             "images[%d].config_digest" % n)
        for i, lay in enumerate(img.get("layers", [])):
            w = "images[%d].layers[%d]" % (n, i)
            need(lay.get("index") == i, w + ".index")
            need(SHA256_RE.match(str(lay.get("digest"))) is not None,
                 w + ".digest")
            need(lay.get("diff_id") is None or
                 SHA256_RE.match(str(lay.get("diff_id"))) is not None,
                 w + ".diff_id")
            need(isinstance(lay.get("size"), int), w + ".size")
            need(isinstance(lay.get("cached"), bool), w + ".cached")
            need(isinstance(lay.get("diff_id_verified"), bool),
                 w + ".diff_id_verified")
            need("media_type" in lay and "created_by" in lay,
                 w + ".media_type/created_by")
    finds = r.get("findings")
    need(isinstance(finds, list), "findings not a list")
    for n, f in enumerate(finds if isinstance(finds, list) else []):
        w = "findings[%d] (%s)" % (n, f.get("path"))
        need(f.get("kind") in KINDS, w + " kind %r" % f.get("kind"))
        need(f.get("severity") in SEVERITIES,
             w + " severity %r" % f.get("severity"))
        need(isinstance(f.get("rule"), str) and f.get("rule"), w + " rule")
        i = f.get("image")
        need(isinstance(i, int) and 0 <= i < len(imgs), w + " image index")
        p = f.get("path")
        need(isinstance(p, str) and p and not p.startswith("/") and
             not p.startswith("./"), w + " path %r" % p)
        lay = f.get("layer")
        if lay is None:
            need(p == "<config>", w + " layer null but path not <config>")
        elif isinstance(i, int) and 0 <= i < len(imgs):
            layers = imgs[i].get("layers", [])
            need(isinstance(lay, int) and 0 <= lay < len(layers),
                 w + " layer index")
            if isinstance(lay, int) and 0 <= lay < len(layers):
                need(f.get("layer_digest") == layers[lay].get("digest"),
                     w + " layer_digest != images[].layers[].digest")
        need(isinstance(f.get("visible"), bool), w + " visible")
        rem = f.get("removed_in_layer")
        if f.get("visible") is True:
            need(rem is None, w + " visible but removed_in_layer set")
        elif lay is not None:
            need(isinstance(rem, int) and isinstance(lay, int) and rem > lay,
                 w + " removed_in_layer %r" % rem)
        for k in ("line", "offset", "mode", "uid", "gid", "fingerprint",
                  "secret_sha256", "excerpt", "layer_digest"):
            need(k in f, w + " missing " + k)
        if f.get("kind") in ("setuid", "setgid", "world-writable"):
            need(isinstance(f.get("mode"), int), w + " mode not an integer")
        g = f.get("git", "missing")
        need(g is None or (isinstance(g, dict) and
                           g.get("source") in ("blob", "commit-message",
                                               "tag-message") and
                           isinstance(g.get("in_worktree"), bool) and
                           isinstance(g.get("reachable"), bool) and
                           "commit" in g and "path" in g),
             w + " git %r" % (g,))
        need(isinstance(f.get("in_history"), bool), w + " in_history")
        ex = f.get("excerpt")
        need(ex is None or (isinstance(ex, str) and len(ex) <= 96),
             w + " excerpt too long")
    errors = r.get("errors")
    need(isinstance(errors, list), "errors not a list")
    if errors:
        for e in errors:
            need(isinstance(e.get("target"), str) and
                 isinstance(e.get("message"), str), "errors[] shape")
    if errs:
        die("schema: " + "; ".join(errs[:20]))


NORM_KEYS = ["image", "layer", "path", "kind", "rule", "severity", "line",
             "offset", "visible", "removed_in_layer", "mode", "uid", "gid",
             "secret_sha256", "excerpt", "git", "in_history"]


def norm(r, fingerprints, image_ref):
    rows = []
    for f in r.get("findings", []):
        d = {k: field(r, f, k) for k in NORM_KEYS}
        if image_ref:
            d["image"] = field(r, f, "ref")
        if fingerprints:
            d["fingerprint"] = f.get("fingerprint")
            d["layer_digest"] = f.get("layer_digest")
        rows.append(json.dumps(d, sort_keys=True))
    return sorted(rows)


def check(cmd, r, args, out, path=None):
    """Runs one command on the report r (args: the words after REPORT);
    raises Failed when the assertion does not hold. norm writes to out."""
    finds = r.get("findings", []) if isinstance(r, dict) else []
    if cmd == "schema":
        check_schema(r)
    elif cmd in ("has", "none", "count"):
        want_n = None
        if cmd == "count":
            if not args:
                die("count needs N")
            want_n, args = int(args[0]), args[1:]
        conds = [parse_cond(c) for c in args]
        hit = [f for f in finds if matches(r, f, conds)]
        desc = " ".join(args)
        if cmd == "has" and not hit:
            die("no finding with %s; findings are:" % desc, finds)
        if cmd == "none" and hit:
            die("unexpected finding(s) with %s:" % desc, hit)
        if cmd == "count" and len(hit) != want_n:
            die("%d finding(s) with %s, want %d:" % (len(hit), desc, want_n),
                hit or finds)
    elif cmd == "norm":
        rows = norm(r, "--fingerprints" in args, "--image-ref" in args)
        out.write("".join(x + "\n" for x in rows))
    elif cmd == "layers":
        if len(args) < 2:
            die("layers needs EXPECTED FORMAT [IMAGE]")
        exp = load(args[0])["formats"][args[1]]
        n = int(args[2]) if len(args) > 2 else 0
        imgs = r.get("images", [])
        if n >= len(imgs):
            die("no image %d in report" % n)
        img = imgs[n]
        got = img.get("layers", [])
        if len(got) != len(exp["layers"]):
            die("%d layers, want %d" % (len(got), len(exp["layers"])), got)
        keys = ["digest", "diff_id", "created_by"]
        if args[1].startswith("oci"):
            keys.append("media_type")
        for i, (g, e) in enumerate(zip(got, exp["layers"])):
            for k in keys:
                if g.get(k) != e[k]:
                    die("layer %d %s = %r, want %r" % (i, k, g.get(k), e[k]))
        if img.get("config_digest") != exp["config_digest"]:
            die("config_digest %r, want %r" % (img.get("config_digest"),
                                               exp["config_digest"]))
    elif cmd in ("eval", "print"):
        if len(args) != 1:
            die(cmd + " takes one expression")
        env = {"r": r, "F": finds, "I": r.get("images", []),
               "SEV": SEVERITIES, "REPORT": path}
        try:
            ok = eval(args[0], env)  # noqa: S307 - test helper, our input
        except Exception as e:  # the expression is the assertion
            die("%s %r raised %r" % (cmd, args[0], e))
        if cmd == "print":
            out.write("%s\n" % (ok,))
        elif not ok:
            die("eval failed: %s\nimages: %s" %
                (args[0], json.dumps(r.get("images"), sort_keys=True)[:3000]))
    else:
        die("unknown command " + cmd)


def split_message(line):
    """(assertion, message): the message follows the first " # " outside
    quotes."""
    q = None
    i = 0
    while i < len(line):
        c = line[i]
        if q:
            if c == "\\" and q == '"':
                i += 1
            elif c == q:
                q = None
        elif c == "\\":
            i += 1
        elif c in "'\"":
            q = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t") and \
                (i + 1 == len(line) or line[i + 1] in " \t"):
            return line[:i].rstrip(), line[i + 1:].strip()
        i += 1
    return line.strip(), ""


def schemas(paths):
    """The schema check of every report in paths; returns how many failed."""
    failed = 0
    for p in paths:
        try:
            check_schema(load(p))
        except Failed as e:
            failed += 1
            sys.stderr.write("check_json: %s (checked after scan_json): %s" %
                             (p, e.text()))
    return failed


def table(report, extra, lines):
    """Checks every line of the table; returns the number that failed."""
    pend = [a[len("--schema="):] for a in extra if a.startswith("--schema=")]
    extra = [a for a in extra if not a.startswith("--schema=")]
    early = schemas(pend)
    base = os.path.dirname(report)
    # Join continued lines, remembering where each assertion starts.
    rows, cur, start = [], None, 0
    for n, raw in enumerate(lines, 1):
        raw = raw.rstrip("\n")
        if cur is None:
            cur, start = "", n
        cont = raw.endswith("\\") and not raw.endswith("\\\\")
        cur += (raw[:-1] + " ") if cont else raw
        if not cont:
            rows.append((start, cur))
            cur = None
    if cur is not None:
        rows.append((start, cur))
    cache = {}

    def get(path):
        if path not in cache:
            try:
                cache[path] = load(path)
            except Failed as e:
                cache[path] = e
        if isinstance(cache[path], Failed):
            raise cache[path]
        return cache[path]

    failed = checked = 0
    for n, text in rows:
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        body, msg = split_message(text)
        cmd, _, rest = body.strip().partition(" ")
        try:
            if cmd in ("eval", "print"):
                args = [rest.strip()]
            else:
                try:
                    args = shlex.split(rest)
                except ValueError as e:
                    die("cannot split %r: %s" % (rest, e))
            if cmd == "with":
                for c in args:
                    parse_cond(c)
                extra = args
                continue
            if cmd == "report":
                if len(args) != 1:
                    die("report takes one path")
                report = os.path.join(base, args[0])
                continue
            checked += 1
            if cmd in ("has", "none"):
                args = extra + args
            elif cmd == "count" and args:
                args = args[:1] + extra + args[1:]
            if cmd == "norm":
                if not args:
                    die("norm needs an output file")
                r = get(report)
                with open(os.path.join(base, args[0]), "w") as out:
                    check(cmd, r, args[1:], out)
            else:
                check(cmd, get(report), args, sys.stdout, report)
        except Failed as e:
            failed += 1
            sys.stderr.write("check_json: %s line %d: %s%s\n  %s" %
                             (report, n, body.strip(),
                              (" # " + msg) if msg else "",
                              e.text().replace("\n", "\n  ").rstrip(" ")))
    if checked == 0:
        sys.stderr.write("check_json: an empty table checks nothing\n")
        return 1
    if failed:
        sys.stderr.write("check_json: %d of %d assertion(s) failed\n" %
                         (failed, checked))
    return failed + early


def main(argv):
    try:
        if len(argv) < 3:
            die(__doc__)
        if argv[1] == "table":
            return 1 if table(argv[2], argv[3:], sys.stdin) else 0
        if argv[1] == "schemas":
            return 1 if schemas(argv[2:]) else 0
        check(argv[1], load(argv[2]), argv[3:], sys.stdout)
    except Failed as e:
        sys.stderr.write("check_json: " + e.text())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
