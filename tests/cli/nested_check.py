#!/usr/bin/env python3
"""nested_check.py - every assertion about one report of the nested-archive
fixture, in one process (a Python start per assertion is what made the CLI
suite slow).

usage: nested_check.py REPORT EXPECTED.tsv MODE [ARG] [+ REPORT EXPECTED.tsv
                       MODE [ARG]]...
(each group separated by "+" is checked; one process for them all)

MODE
  all              every planted secret is found once, at its '!/' path,
                   with its rule and secret hash, in layer 0; the backup's
                   key is deleted by layer 1 and the rest visible; nothing
                   in the clean archives; no error.
  depth N          --max-depth N: found exactly the secrets whose chain has
                   at most N archives ('!/' count), and nothing deeper.
  capped FLAG      a bound was hit: an error names the file and FLAG, and
                   the report is otherwise well formed.
Exits 1 with every failed expectation listed.
"""
import json
import sys


def load_expected(path):
    rows = []
    with open(path) as f:
        for line in f:
            p, rule, sha = line.rstrip("\n").split("\t")
            rows.append((p, rule, sha))
    return rows


def main():
    groups, cur = [], []
    for a in sys.argv[1:] + ["+"]:
        if a == "+":
            if len(cur) not in (3, 4):
                sys.stderr.write(__doc__)
                sys.exit(2)
            groups.append(cur)
            cur = []
        else:
            cur.append(a)
    bad = 0
    for g in groups:
        bad += check(g[0], g[1], g[2], g[3] if len(g) > 3 else None)
    sys.exit(1 if bad else 0)


def check(report, expected, mode, arg):
    """Checks one report; returns 1 (errors written to stderr) or 0."""
    r = json.load(open(report))
    exp = load_expected(expected)
    F = r["findings"]
    errs = []

    def found(path, rule):
        return [f for f in F if f["path"] == path and f["rule"] == rule]

    if mode == "all":
        for path, rule, sha in exp:
            got = found(path, rule)
            if len(got) != 1:
                errs.append("want one %s at %s, got %d" % (rule, path,
                                                            len(got)))
                continue
            f = got[0]
            if sha != "-" and f["secret_sha256"] != sha:
                errs.append("%s: secret hash %s, want %s" %
                            (path, f["secret_sha256"], sha))
            if f["layer"] != 0:
                errs.append("%s: layer %s, want 0" % (path, f["layer"]))
            deleted = path.startswith("opt/backup.tar.gz!/")
            if f["visible"] == deleted:
                errs.append("%s: visible=%s" % (path, f["visible"]))
            if deleted and f["removed_in_layer"] != 1:
                errs.append("%s: removed_in_layer=%s, want 1" %
                            (path, f["removed_in_layer"]))
        for f in F:
            if "!/" in f["path"] and f["path"].startswith("usr/share/doc/"):
                errs.append("finding in a clean archive: %s %s" %
                            (f["rule"], f["path"]))
        if r["errors"]:
            errs.append("errors: %s" % r["errors"])
    elif mode == "depth":
        n = int(arg)
        for path, rule, _ in exp:
            want = path.count("!/") <= n
            got = len(found(path, rule))
            if want and got != 1:
                errs.append("--max-depth %d: want %s at %s" % (n, rule, path))
            if not want and got:
                errs.append("--max-depth %d: %s reached too deep" % (n, path))
        deep = [f["path"] for f in F if f["path"].count("!/") > n]
        if deep:
            errs.append("--max-depth %d: paths deeper: %s" % (n, deep[:3]))
    elif mode == "capped":
        hits = [e for e in r["errors"] if arg in e["message"]]
        if not hits:
            errs.append("no error names %s: %s" % (arg, r["errors"]))
        for e in hits:
            if "!/" not in e["message"] and ": " not in e["message"]:
                errs.append("error does not name the file: %s" % e)
    else:
        errs.append("unknown mode " + mode)
    for e in errs:
        sys.stderr.write("nested_check: %s: %s\n" % (report, e))
    return 1 if errs else 0


if __name__ == "__main__":
    main()
