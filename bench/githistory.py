#!/usr/bin/env python3
"""githistory.py - the git-history benchmark: an image whose layer holds an
application with its .git, the history packed by `git gc` to at least
--min-mb MB (default 100): every version of a real source tree (Python's
standard library and the packages Debian installed under
/usr/lib/python3), committed in rounds where a share of the files changes,
so the pack holds many blobs and deltas, as a long-lived repository does.
Each round also adds 4 MB of base64 assets that neither compress nor
delta, and deletes those of two rounds before. One token is committed and
removed on the way, so the scan has something to
find. Times a scan with history (default) against --no-git-history, peak
RSS of each, and the share of the scan spent in history, medians of
alternated runs; also the object count.

usage: bench/githistory.py --bin STOWAWAY [--runs N] [--work DIR]
                           [--min-mb N] [--out FILE]

Needs git and umoci. With --out, the report replaces the text between
<!-- githistory:begin --> and <!-- githistory:end --> in FILE (appended when
missing).
"""
import argparse
import base64
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

from section import replace_section

SOURCES = ["/usr/lib/python3.11", "/usr/lib/python3/dist-packages"]


def sh(*args, cwd=None, env=None):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=env)


def out(*args, cwd=None):
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def text_files():
    files = []
    for root in SOURCES:
        for d, _, names in os.walk(root):
            if "__pycache__" in d:
                continue
            for n in names:
                if n.endswith((".py", ".txt", ".cfg", ".rst")):
                    p = os.path.join(d, n)
                    if os.path.isfile(p) and not os.path.islink(p):
                        files.append(p)
    return sorted(files)


def pack_mb(repo):
    total = 0
    pdir = os.path.join(repo, ".git/objects/pack")
    for n in os.listdir(pdir):
        total += os.path.getsize(os.path.join(pdir, n))
    return total / 1e6


def build(work, min_mb):
    app = os.path.join(work, "app")
    if os.path.isdir(os.path.join(work, "img")):
        return app
    if os.path.isdir(os.path.join(app, ".git")):
        return image(work, app)
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_COMMITTER_NAME="bench",
               GIT_AUTHOR_EMAIL="bench@example.invalid",
               GIT_COMMITTER_EMAIL="bench@example.invalid",
               GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
    os.makedirs(app)
    sh("git", "init", "-q", "-b", "main", cwd=app, env=env)
    files = text_files()
    rnd = random.Random(1)
    here = os.path.dirname(os.path.abspath(__file__))
    tok = out(sys.executable, os.path.join(here, "mint.py"), "ghp", "7")
    rounds = 0
    while True:
        # Each round: every file once, a fifth of them edited (a line
        # appended), so each round adds a delta per edited file.
        for src in files:
            rel = os.path.relpath(src, "/usr/lib")
            dst = os.path.join(app, "src", rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if rounds == 0:
                shutil.copyfile(src, dst)
            elif rnd.random() < 0.2:
                with open(dst, "a") as f:
                    f.write("# revision %d %08x\n" % (rounds, rnd.getrandbits(32)))
        # Assets that neither compress nor delta (base64 of random bytes),
        # as generated files and binaries bloat real histories; the older
        # ones are deleted again, so the pack holds what HEAD no longer
        # shows.
        adir = os.path.join(app, "assets")
        os.makedirs(adir, exist_ok=True)
        for i in range(4):
            with open(os.path.join(adir, "a%03d-%d.b64" % (rounds, i)),
                      "w") as f:
                raw = rnd.getrandbits(8 * 768 * 1024).to_bytes(768 * 1024,
                                                               "little")
                f.write(base64.encodebytes(raw).decode())
        if rounds >= 2:
            for i in range(4):
                p = os.path.join(adir, "a%03d-%d.b64" % (rounds - 2, i))
                if os.path.exists(p):
                    os.remove(p)
        if rounds == 1:
            with open(os.path.join(app, "deploy.env"), "w") as f:
                f.write("GITHUB_TOKEN=%s\n" % tok)
        if rounds == 2:
            os.remove(os.path.join(app, "deploy.env"))
        sh("git", "add", "-A", cwd=app, env=env)
        sh("git", "commit", "-q", "-m", "round %d" % rounds, cwd=app, env=env)
        rounds += 1
        if rounds % 5 == 0:
            sh("git", "gc", "-q", cwd=app, env=env)
            if pack_mb(app) >= min_mb:
                break
    sh("git", "gc", "-q", cwd=app, env=env)
    return image(work, app)


def image(work, app):
    """The OCI layout work/img: one layer holding the repository under
    /srv/app."""
    img = os.path.join(work, "img")
    sh("umoci", "init", "--layout", img)
    sh("umoci", "new", "--image", img + ":v1")
    b = os.path.join(work, "bundle")
    sh("umoci", "unpack", "--image", img + ":v1", b)
    shutil.copytree(app, os.path.join(b, "rootfs/srv/app"), symlinks=True)
    sh("umoci", "repack", "--image", img + ":v1", b)
    shutil.rmtree(b)
    return app


def build_many(work, n_objects):
    """work/many: an image whose repository holds about n_objects objects
    (small distinct files over 100 commits, written by git fast-import, as
    a large project's history has many small objects); its OCI layout."""
    many = os.path.join(work, "many")
    img = os.path.join(work, "many-img")
    if os.path.isdir(img):
        return many
    os.makedirs(many, exist_ok=True)
    sh("git", "init", "-q", "-b", "main", cwd=many)
    commits = 100
    per = max(1, n_objects // commits)
    lines = []
    mark = 0
    for c in range(commits):
        lines.append("commit refs/heads/main\n")
        lines.append("committer bench <bench@example.invalid> %d +0000\n"
                     % (1700000000 + c))
        msg = "batch %d\n" % c
        lines.append("data %d\n%s" % (len(msg), msg))
        for i in range(per):
            body = "module %d.%d\nvalue = %d\n" % (c, i, (c * 7919 + i) % 104729)
            lines.append("M 100644 inline src/m%03d/f%05d.txt\n" % (i % 500, i))
            lines.append("data %d\n%s" % (len(body), body))
        lines.append("\n")
    p = subprocess.run(["git", "fast-import", "--quiet"], cwd=many,
                       input="".join(lines).encode(), check=True)
    sh("git", "checkout", "-q", "main", cwd=many)
    sh("git", "gc", "-q", cwd=many)
    sh("umoci", "init", "--layout", img)
    sh("umoci", "new", "--image", img + ":v1")
    b = os.path.join(work, "many-bundle")
    sh("umoci", "unpack", "--image", img + ":v1", b)
    shutil.copytree(many, os.path.join(b, "rootfs/srv/many"), symlinks=True)
    sh("umoci", "repack", "--image", img + ":v1", b)
    shutil.rmtree(b)
    return many


def measure(cmd):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    if rc not in (0, 1):
        raise SystemExit("failed (%d): %s" % (rc, " ".join(cmd)))
    return time.monotonic() - t0, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--min-mb", type=int, default=100)
    ap.add_argument("--many", type=int, default=300000,
                    help="objects in the second repository")
    ap.add_argument("--work", default=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "stw-bench-git"))
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    app = build(a.work, a.min_mb)
    img = os.path.join(a.work, "img")
    objects = out("git", "count-objects", "-v", cwd=app)
    count = dict(l.split(": ") for l in objects.splitlines())
    stw = [a.bin, "scan", "--no-db", "--exit-zero", "-j1"]
    many = build_many(a.work, a.many)
    many_img = os.path.join(a.work, "many-img")
    cases = {
        "history off (--no-git-history)": stw + ["--no-git-history", img],
        "history on (default)": stw + [img],
        "many objects, history off": stw + ["--no-git-history", many_img],
        "many objects, history on": stw + [many_img],
    }
    res = {k: [] for k in cases}
    for _ in range(a.runs):
        for k, cmd in cases.items():
            res[k].append(measure(cmd))
    med = {k: (statistics.median(r[0] for r in v),
               statistics.median(r[1] for r in v), max(r[2] for r in v))
           for k, v in res.items()}
    off, on = med["history off (--no-git-history)"], med["history on (default)"]
    load = open("/proc/loadavg").read().split()[0]
    lines = [
        "<!-- githistory:begin -->",
        "## Git history: an image with a large .git",
        "",
        "`bench/githistory.py`: a repository of %s packed objects in %.0f MB "
        "of packs (%s commits of Python sources), one layer; medians of %d "
        "alternated runs, `-j1`, load average %s before the run." %
        (count.get("in-pack", "?"), pack_mb(app),
         out("git", "rev-list", "--count", "HEAD", cwd=app), a.runs, load),
        "",
        "| case | wall s | CPU s | peak RSS MB |",
        "| --- | ---: | ---: | ---: |",
    ]
    for k, (w, c, m) in med.items():
        lines.append("| %s | %.2f | %.2f | %.0f |" % (k, w, c, m))
    mcount = dict(l.split(": ") for l in
                  out("git", "count-objects", "-v", cwd=many).splitlines())
    lines.append("")
    lines.append("History is %.0f %% of the scan's wall time. The second "
                 "repository holds %s objects (small files over 100 commits, "
                 "git fast-import)." %
                 (100 * (on[0] - off[0]) / on[0] if on[0] else 0,
                  mcount.get("in-pack", "?")))
    lines.append("<!-- githistory:end -->")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        replace_section(a.out, "githistory", text)

if __name__ == "__main__":
    sys.exit(main())
