#!/usr/bin/env python3
"""cache_cases.py - the caches must not change what a scan reports.

A layer, or an archive inside one, seen before is answered from a cache:
the database's (keyed by the archive's sha256) or the scan's memory of
archives walked (archmemo). Each case below scans its targets in order into
one fresh database, and each scan must report what `--no-db` reports for
the same target and options: the same findings (normalised with their
fingerprints) and the same errors. The targets put the same bytes where a
replay could differ from a walk: deeper (--max-depth), under a bound, under
a test tree, as a single .gz under another name, beside a copy of the same
path.

usage: cache_cases.py STOWAWAY WORKDIR [CASE...]; exits 1 on a difference.
"""
import gzip
import io
import itertools
import json
import lzma
import os
import random
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter

import check_json
import nested_fixtures as nf

BIN, WORK = sys.argv[1], sys.argv[2]


def tok(family, seed):
    return nf.mint(family, seed)


def props(t):
    return ("github.token=%s\n" % t).encode()


def pad_bytes(seed, n=80 << 10):
    """Incompressible bytes: a stored member of these makes an archive big
    enough for the caches (STW_NESTED_CACHE_MIN)."""
    return random.Random("pad:%s" % seed).randbytes(n)


def zipb(members, pad=None):
    """members: (name, bytes[, stored])."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, *stored in members:
            zi = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            zi.compress_type = (zipfile.ZIP_STORED if stored and stored[0]
                                else zipfile.ZIP_DEFLATED)
            z.writestr(zi, data)
        if pad is not None:
            zi = zipfile.ZipInfo("lib/pad-%s.bin" % pad, (2020, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_STORED
            z.writestr(zi, pad_bytes(pad))
    return b.getvalue()


def tarb(members):
    """members: (name, bytes) regular files."""
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.mtime, ti.mode, ti.size = 1700000000, 0o644, len(data)
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def write(name, data):
    p = os.path.join(WORK, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def scan(target, opts, db):
    cmd = [BIN, "scan", "--format", "json", "-q", "--no-rules-cache"]
    cmd += ["--db", db] if db else ["--no-db"]
    p = subprocess.run(cmd + list(opts) + [target], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode not in (0, 1):
        raise SystemExit("cache_cases: %s exited %d: %s" % (
            " ".join(cmd), p.returncode, p.stderr.decode(errors="replace")))
    r = json.loads(p.stdout)
    rows = check_json.norm(r, True, False)
    errs = sorted(json.dumps(e, sort_keys=True) for e in r.get("errors", []))
    return Counter(rows), errs


def run_case(name, steps):
    db = os.path.join(WORK, "case-%s.db" % name)
    bad = []
    for i, (target, opts) in enumerate(steps):
        want = scan(target, opts, None)
        got = scan(target, opts, db)
        if got != want:
            lines = ["%s, scan %d (%s %s): the database changed the report" % (
                name, i + 1, os.path.basename(target), " ".join(opts))]
            lines += ["  - without it: " + x for x in sorted(
                (want[0] - got[0]).elements())]
            lines += ["  + with it:    " + x for x in sorted(
                (got[0] - want[0]).elements())]
            lines += ["  - error without: " + e
                      for e in sorted(set(want[1]) - set(got[1]))]
            lines += ["  + error with:    " + e
                      for e in sorted(set(got[1]) - set(want[1]))]
            bad.append("\n".join(lines))
    return bad


def both_orders(name, targets, opts=()):
    return [("%s-%d" % (name, k), [(t, list(opts)) for t in order])
            for k, order in enumerate(itertools.permutations(targets))]


CASES = {}


def case(f):
    CASES[f.__name__] = f
    return f


@case
def depth():
    """A jar loose, then inside another zip where --max-depth leaves it no
    level to open its own inner zip (and the reverse)."""
    inner = zipb([("secret.txt", props(tok("ghp", 11)))])
    x = zipb([("config/app.properties", props(tok("ghp", 12))),
              ("lib/inner.zip", inner)], pad="X")
    a = write("depth-a.tar", tarb([("app/x.jar", x)]))
    b = write("depth-b.tar", tarb([("app/outer.zip",
                                    zipb([("lib/x.jar", x, True)]))]))
    one = write("depth-c.tar", tarb([("app/x.jar", x),
                                     ("app/outer.zip",
                                      zipb([("lib/x.jar", x, True)]))]))
    return (both_orders("depth", [a, b], ["--max-depth", "2"]) +
            [("depth-opts", [(a, ["--max-depth", "1"]), (a, [])]),
             ("depth-one-layer", [(one, ["--max-depth", "2"])])])


@case
def bounds():
    """A cached jar met again inside a zip whose byte or member bound the
    jar's walk would reach: the bound's note, nothing after it."""
    x = zipb([("m%02d.txt" % i, b"x\n") for i in range(40)] +
             [("config/app.properties", props(tok("ghp", 31)))], pad="B")
    a = write("bounds-a.tar", tarb([("app/x.jar", x)]))
    outer = zipb([("aaa.bin", pad_bytes("big", 200 << 10), True),
                  ("lib/x.jar", x, True),
                  ("zzz.properties", props(tok("ghp", 32)))])
    b = write("bounds-b.tar", tarb([("app/outer.zip", outer)]))
    return ([("bytes", [(a, []), (b, ["--max-nested-bytes", str(300 << 10)])]),
             ("members", [(a, []), (b, ["--max-nested-members", "30"])])])


@case
def test_tree():
    """Generic findings under a test tree or the distribution's
    documentation are lowered to info: a jar there is never a record for
    the same jar elsewhere, nor the reverse."""
    pw = b"spring.datasource.password=Xk9mQ2vLp7zR4wTe\n"
    x = zipb([("BOOT-INF/classes/application.properties", pw)], pad="T")
    a = write("tree-a.tar", tarb([("srv/test/x.jar", x)]))
    b = write("tree-b.tar", tarb([("app/x.jar", x)]))
    c = write("tree-c.tar", tarb([("usr/share/doc/acme/x.jar", x)]))
    return both_orders("tree", [a, b]) + both_orders("doc", [c, b])


@case
def single_stream():
    """A single .gz or .xz file's member is named after the file: the same
    bytes under another name give another member name."""
    g = gzip.compress(props(tok("ghp", 72)) + pad_bytes("gz"), mtime=0)
    c = write("gz-c.tar", tarb([("app/one.env.gz", g)]))
    d = write("gz-d.tar", tarb([("app/two.gz", g)]))
    x = lzma.compress(props(tok("ghp", 73)) + pad_bytes("xz"))
    e = write("xz-e.tar", tarb([("app/one.env.xz", x)]))
    f = write("xz-f.tar", tarb([("app/.env.xz", x)]))
    return both_orders("gz", [c, d]) + both_orders("xz", [e, f])


@case
def same_path():
    """Findings under "app/x.jar!/" that are not the jar's: a second copy
    of the path (big or too small to cache), an entry named
    "app/x.jar!/..." or under a directory "app/x.jar!", a member named
    "inner.jar!/..." beside inner.jar. A later layer holding only the clean
    jar must not be told of them."""
    x = zipb([("config/readme.txt", b"nothing\n")], pad="D")
    y = zipb([("config/app.properties", props(tok("ghp", 61)))], pad="E")
    small = zipb([("config/app.properties", props(tok("ghp", 62)))])
    env = b"GITHUB_TOKEN=%s\n" % tok("ghp", 63).encode()
    clean = write("twice-clean.tar", tarb([("opt/x.jar", x)]))
    holders = [
        ("twice", [("app/x.jar", x), ("app/x.jar", y)]),
        ("small", [("app/x.jar", small), ("app/x.jar", x)]),
        ("bang", [("app/x.jar", x), ("app/x.jar!/config/app.env", env)]),
        ("bangdir", [("app/x.jar", x), ("app/x.jar!/.env", env)]),
        ("member", [("app/outer.zip",
                     zipb([("inner.jar", x, True), ("inner.jar!/a.env", env)],
                          pad="F"))]),
    ]
    cases = []
    for name, members in holders:
        a = write("%s-a.tar" % name, tarb(members))
        cases += both_orders(name, [a, clean])
    inner_clean = write("member-clean.tar", tarb([("srv/inner.jar", x)]))
    return cases + [("member-x", [(os.path.join(WORK, "member-a.tar"), []),
                                  (inner_clean, [])])]


@case
def match_limit():
    """A regex at its match limit inside a jar is a note: a record replays
    findings, not notes, so the jar met again must bring the note back.
    The rule is test_match_limit.sh's, backtrack-rule.yaml."""
    rules = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "backtrack-rule.yaml")
    x = zipb([("conf/app.env", b"x tok=" + b"a" * 60 + b"\n")], pad="L")
    a = write("limit-a.tar", tarb([("app/a.jar", x)]))
    b = write("limit-b.tar", tarb([("srv/b.jar", x)]))
    return both_orders("limit", [a, b], ["--rules", rules])


def main():
    os.makedirs(WORK, exist_ok=True)
    names = sys.argv[3:] or list(CASES)
    bad = []
    for n in names:
        for cname, steps in CASES[n]():
            bad += run_case(cname, steps)
    for b in bad:
        print(b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
