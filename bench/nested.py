#!/usr/bin/env python3
"""nested.py - the files-inside-files benchmark: a Java-heavy image (every
jar of Debian's lib*-java packages installed here, plus a Spring Boot style
fat jar that stores them all again under BOOT-INF/lib) scanned with nested
scanning off (--max-depth 0) and on, and again into a database that already
knows every archive (a second image whose new layer holds the same jars
under other names: the layer is new, its archives are not). Wall time, CPU
and peak RSS of each, medians of alternated runs, against `igzip -dc` of
the same layer blobs.

usage: bench/nested.py --bin STOWAWAY [--runs N] [--work DIR] [--out FILE]

Needs umoci, zip and igzip (Debian's isal); the jars come from the lib*-java packages
listed in JAVA_PACKAGES (installed with apt-get when missing, as root). The
report is printed and, with --out, written between the markers
<!-- nested:begin --> and <!-- nested:end --> of that file (appended when
the markers are missing).
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

from section import replace_section

JAVA_PACKAGES = [
    "libbcprov-java", "libjetty9-java", "libxerces2-java", "libxalan2-java",
    "libecj-java", "libbatik-java", "libspring-core-java",
    "libhibernate3-java", "libjackson2-databind-java", "libnetty-java",
    "libgoogle-gson-java", "libh2-java", "libicu4j-java", "libguava-java",
    "libcommons-lang3-java", "libcommons-io-java", "libslf4j-java",
]


def sh(*args, cwd=None):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def ensure_packages():
    missing = [p for p in JAVA_PACKAGES
               if subprocess.run(["dpkg", "-s", p], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL).returncode]
    if missing:
        sh("apt-get", "install", "-y", "-qq", "--no-install-recommends",
           *missing)


def jars():
    seen, out = set(), []
    for j in sorted(glob.glob("/usr/share/java/*.jar")):
        real = os.path.realpath(j)
        if real in seen or not os.path.isfile(real):
            continue
        seen.add(real)
        out.append(real)
    return out


def build(work):
    """OCI layout work/img (one layer: loose jars + a fat jar) and
    work/img2 (a different layer: the same jars under other names)."""
    if os.path.isdir(os.path.join(work, "img2")):
        return
    os.makedirs(work, exist_ok=True)
    js = jars()
    fat = os.path.join(work, "fat")
    os.makedirs(os.path.join(fat, "BOOT-INF/lib"), exist_ok=True)
    os.makedirs(os.path.join(fat, "BOOT-INF/classes"), exist_ok=True)
    with open(os.path.join(fat, "BOOT-INF/classes/application.properties"),
              "w") as f:
        f.write("server.port=8080\n")
    for j in js:
        shutil.copy(j, os.path.join(fat, "BOOT-INF/lib"))
    sh("zip", "-qr", os.path.join(work, "app.jar"), "BOOT-INF/classes",
       cwd=fat)
    sh("zip", "-q0r", os.path.join(work, "app.jar"), "BOOT-INF/lib", cwd=fat)
    for name, sub in (("img", "usr/share/java"), ("img2", "opt/libs")):
        sh("umoci", "init", "--layout", os.path.join(work, name))
        sh("umoci", "new", "--image", os.path.join(work, name) + ":v1")
        b = os.path.join(work, name + ".bundle")
        sh("umoci", "unpack", "--image", os.path.join(work, name) + ":v1", b)
        d = os.path.join(b, "rootfs", sub)
        os.makedirs(d, exist_ok=True)
        for j in js:
            shutil.copy(j, d)
        os.makedirs(os.path.join(b, "rootfs/app"), exist_ok=True)
        shutil.copy(os.path.join(work, "app.jar"),
                    os.path.join(b, "rootfs/app",
                                 "app.jar" if name == "img" else "svc.jar"))
        sh("umoci", "repack", "--image", os.path.join(work, name) + ":v1", b)
        shutil.rmtree(b)


def layer_blobs(layout):
    idx = json.load(open(os.path.join(layout, "index.json")))
    digest = idx["manifests"][0]["digest"].split(":")[1]
    man = json.load(open(os.path.join(layout, "blobs/sha256", digest)))
    return [os.path.join(layout, "blobs/sha256", l["digest"].split(":")[1])
            for l in man["layers"]]


def measure(cmd, stdin_files=None):
    """Wall seconds, CPU seconds and peak RSS (MiB) of one child."""
    t0 = time.monotonic()
    if stdin_files:
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL)
        for f in stdin_files:
            with open(f, "rb") as fh:
                shutil.copyfileobj(fh, p.stdin, 1 << 20)
        p.stdin.close()
    else:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    if p.returncode not in (0, 1):
        raise SystemExit("failed (%d): %s" % (p.returncode, " ".join(cmd)))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", help="stowaway binary (required unless --build-only)")
    ap.add_argument("--build-only", action="store_true",
                    help="only build the images in --work (bench/run.sh's java.oci)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "stw-bench-nested"))
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    ensure_packages()
    build(a.work)
    if a.build_only:
        return 0
    if not a.bin:
        ap.error("--bin is required")
    img, img2 = os.path.join(a.work, "img"), os.path.join(a.work, "img2")
    blobs = layer_blobs(img)
    comp = sum(os.path.getsize(b) for b in blobs)
    db = os.path.join(a.work, "bench.db")
    stw = [a.bin, "scan", "--exit-zero", "-j1"]
    cases = {
        "igzip -dc (floor)": lambda: measure(["igzip", "-dc"] + blobs),
        "nested off (--max-depth 0)":
            lambda: measure(stw + ["--no-db", "--max-depth", "0", img]),
        "nested on (default)": lambda: measure(stw + ["--no-db", img]),
    }

    def known():
        if os.path.exists(db):
            os.remove(db)
        measure(stw + ["--db", db, img])
        return measure(stw + ["--db", db, img2])

    def cached():
        return measure(stw + ["--db", db, img])
    cases["new layer, every archive known"] = known
    cases["same image again (layer cache)"] = cached
    res = {k: [] for k in cases}
    for _ in range(a.runs):
        for k, fn in cases.items():
            res[k].append(fn())
    load = open("/proc/loadavg").read().split()[0]
    lines = [
        "<!-- nested:begin -->",
        "## Files inside files: a Java-heavy image",
        "",
        "`bench/nested.py`: %d jars from Debian's lib*-java packages, loose "
        "and again stored in a fat jar (one gzip layer of %.1f MB); "
        "medians of %d alternated runs, `-j1`, load average %s before the "
        "run." % (len(jars()), comp / 1e6, a.runs, load),
        "",
        "| case | wall s | CPU s | peak RSS MB | vs igzip -dc |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    base = statistics.median(r[0] for r in res["igzip -dc (floor)"])
    for k, rs in res.items():
        w = statistics.median(r[0] for r in rs)
        c = statistics.median(r[1] for r in rs)
        m = max(r[2] for r in rs)
        lines.append("| %s | %.2f | %.2f | %.0f | %.2fx |" %
                     (k, w, c, m, base / w if w else 0))
    lines.append("<!-- nested:end -->")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        replace_section(a.out, "nested", text)

if __name__ == "__main__":
    sys.exit(main())
