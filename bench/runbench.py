#!/usr/bin/env python3
"""Throughput benchmark of stowaway against the decompressors, tar and
secretlint on the images of bench/make-image.sh; run through bench/run.sh.

Every command runs under /usr/bin/time -v (peak RSS); wall time is taken here.
Cases are alternated: each round runs every case once, starting one case later
than the previous round, so drift on the machine (other work, thermal, page
cache) spreads over all cases instead of biasing one. Medians are reported.
Inputs are read from the page cache (a warm-up pass reads them first): the
benchmark measures CPU cost, not the disk.
"""
import argparse
import datetime
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MB = 1e6


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Failed(Exception):
    pass


CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
# CPU seconds used by other processes while commands were measured, and the
# wall seconds measured: the report says how loaded the machine was
OTHER = {"cpu": 0.0, "wall": 0.0}


def busy_seconds():
    """CPU seconds the whole machine has spent busy since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK


def wait_idle(max_wait, what):
    """Wait (up to max_wait s) until the other cores' load drops below 15%."""
    t0 = time.time()
    while True:
        b0 = busy_seconds()
        time.sleep(1.0)
        if (busy_seconds() - b0) / NCPU < 0.15:
            return True
        if time.time() - t0 > max_wait:
            log("   %s: machine still busy after %.0fs, measuring anyway" % (what, max_wait))
            return False


def timed(cmd, cwd=None, stdout=None, ok=(0,), timeout=None, cpu=None):
    """Run cmd; return (wall seconds, peak RSS in bytes); appends user+sys
    CPU seconds to the list cpu when given."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".time") as tf:
        with open(stdout or os.devnull, "wb") as out:
            b0 = busy_seconds()
            t0 = time.perf_counter()
            try:
                p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + cmd, cwd=cwd,
                                   stdout=out, stderr=subprocess.PIPE, timeout=timeout)
            except subprocess.TimeoutExpired:
                return None, None
            wall = time.perf_counter() - t0
            busy = busy_seconds() - b0
        rep = tf.read()
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", rep)
    st = re.search(r"Exit status: (\d+)", rep)
    rc = int(st.group(1)) if st else p.returncode
    u = re.search(r"User time \(seconds\): ([\d.]+)", rep)
    k = re.search(r"System time \(seconds\): ([\d.]+)", rep)
    own = (float(u.group(1)) if u else 0.0) + (float(k.group(1)) if k else 0.0)
    if cpu is not None:
        cpu.append(own)
    OTHER["cpu"] += max(0.0, busy - own)
    OTHER["wall"] += wall
    if rc not in ok:
        raise Failed("%s: exit %d\n%s" % (" ".join(cmd), rc, p.stderr.decode(errors="replace")[-2000:]))
    return wall, int(m.group(1)) * 1024 if m else 0


def sh(cmd):
    return subprocess.run(cmd, shell=True, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT).stdout.decode(errors="replace").strip()


def first_line(cmd):
    try:
        return sh(cmd).splitlines()[0].strip()
    except (subprocess.CalledProcessError, IndexError):
        return "?"


# ---- images ------------------------------------------------------------------

def oci_layers(layout):
    """[(blob path, media type, compressed size)] of the first manifest."""
    with open(os.path.join(layout, "index.json")) as f:
        mdig = json.load(f)["manifests"][0]["digest"].split(":", 1)[1]
    with open(os.path.join(layout, "blobs", "sha256", mdig)) as f:
        man = json.load(f)
    return [(os.path.join(layout, "blobs", "sha256", l["digest"].split(":", 1)[1]),
             l["mediaType"], l["size"]) for l in man["layers"]]


def decomp_cmd(media_type, tool=None):
    if media_type.endswith("zstd"):
        return ["zstd", "-dcq"]
    if media_type.endswith("gzip"):
        return [tool or "igzip", "-dc"]
    return ["cat"]


def uncompressed_size(blob, media_type):
    p1 = subprocess.Popen(decomp_cmd(media_type) + [blob], stdout=subprocess.PIPE)
    n = 0
    while True:
        b = p1.stdout.read(1 << 20)
        if not b:
            break
        n += len(b)
    if p1.wait() != 0:
        raise Failed("cannot decompress " + blob)
    return n


def warm(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                warm(os.path.join(root, f) for f in files)
        elif os.path.isfile(p):
            with open(p, "rb") as f:
                while f.read(8 << 20):
                    pass


# ---- case runner ---------------------------------------------------------------

class Case:
    """One measured thing: a list of commands run back to back (e.g. one
    decompressor per layer); its time is their sum, its RSS their max."""

    def __init__(self, key, label, cmds, ok=(0,), before=None):
        self.key, self.label, self.cmds, self.ok, self.before = key, label, cmds, ok, before
        self.times, self.cpus, self.rss, self.parts = [], [], 0, [[] for _ in cmds]

    def run(self):
        if self.before:
            self.before()
        total, cpu = 0.0, []
        for i, c in enumerate(self.cmds):
            t, r = timed(c["cmd"], cwd=c.get("cwd"), ok=self.ok, cpu=cpu)
            self.parts[i].append(t)
            total += t
            self.rss = max(self.rss, r)
        self.times.append(total)
        self.cpus.append(sum(cpu))

    @property
    def median(self):
        return statistics.median(self.times)

    @property
    def cpu(self):
        return statistics.median(self.cpus)

    def part_median(self, i):
        return statistics.median(self.parts[i])


WAIT_IDLE = [60.0]


def alternate(cases, rounds, what):
    for r in range(rounds):
        if WAIT_IDLE[0] > 0:
            wait_idle(WAIT_IDLE[0], what)
        t0 = time.time()
        order = cases[r % len(cases):] + cases[:r % len(cases)]
        for c in order:
            c.run()
        log("   %s: round %d/%d, %.0fs" % (what, r + 1, rounds, time.time() - t0))


# ---- report helpers --------------------------------------------------------------

def fmt_s(t):
    return "%.3f" % t if t < 10 else "%.2f" % t if t < 100 else "%.1f" % t


def fmt_mb(b):
    return "%.0f" % (b / MB)


def row(*cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def yes(b):
    return "**yes**" if b else "**NO**"


def linear_fit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my) ** 2 for y in ys)
    return a, b, 1 - ss_res / ss_tot if ss_tot else 1.0


def best_two_core(times):
    """Shortest makespan of whole layers on two cores (exhaustive: few layers)."""
    best = sum(times)
    for mask in itertools.product((0, 1), repeat=len(times)):
        a = sum(t for t, m in zip(times, mask) if m)
        best = min(best, max(a, sum(times) - a))
    return best


def ideal_schedule(per_layer_dec, blob_sha):
    """Issue 14's ideal default-j wall time on NCPU cores: the largest layer's
    inflate, or all inflate plus the blob hashing spread over the cores,
    whichever is longer."""
    return max(max(per_layer_dec), (sum(per_layer_dec) + blob_sha) / NCPU)


def target_rows(name, j1, jd, dec, sha, per_dec):
    """The re-based throughput targets (issue 14) for one image and format:
    j1/jd are stowaway's -j1 and default -j cases, dec the decompressor of
    every layer, sha the SHA-256 of every blob, per_dec its per-layer times."""
    tool = "`igzip -dc`" if "igzip" in dec.label else "`zstd -dc`" if "zstd" in dec.label else "`cat`"
    r_dec = dec.median / j1.median
    floor_cpu = dec.cpu + sha.cpu
    r_cpu = j1.cpu / floor_cpu
    ideal = ideal_schedule(per_dec, sha.median)
    r_ideal = ideal / jd.median
    peak = max(j1.rss, jd.rss)
    return [
        row("%s: -j1 >= 0.9x %s" % (name, tool), "%.2fx" % r_dec, yes(r_dec >= 0.9)),
        row("%s: -j1 CPU <= 1.5x (inflate + blob SHA-256) CPU" % name,
            "%.2fx (%s s vs %s s)" % (r_cpu, fmt_s(j1.cpu), fmt_s(floor_cpu)), yes(r_cpu <= 1.5)),
        row("%s: default -j >= 0.75x ideal %d-core schedule" % (name, NCPU),
            "%.2fx (%s s vs ideal %s s)" % (r_ideal, fmt_s(jd.median), fmt_s(ideal)), yes(r_ideal >= 0.75)),
        row("%s: peak RSS <= 256 MB" % name, "%.0f MB" % (peak / MB), yes(peak <= 256 * MB)),
    ]


def parts_off_lines(by, j1, igz, sha, n_rules):
    """The -j1 scan of full.oci with detection and opening files turned
    off, against what the -j1 targets allow."""
    floor = igz.cpu + sha.cpu
    allow_wall, allow_cpu = igz.median / 0.9, 1.5 * floor
    L = ["## With parts turned off", "",
         "The -j1 scan of full.oci (gzip) again with parts of stowaway turned off: every "
         "one of the %d rules disabled (`--disable-rule`: no content matching at all), "
         "no archives inside files and no git history opened (`--max-depth 0 "
         "--no-git-history`), or both. The -j1 targets allow %s s of wall time (0.9x "
         "`igzip -dc`) and %s CPU-s (1.5x inflate + blob SHA-256, %s CPU-s)." % (
             n_rules, fmt_s(allow_wall), fmt_s(allow_cpu), fmt_s(floor)), ""]
    L.append(row("case", "median s", "CPU s", "vs `igzip -dc`", "CPU / (inflate + blob hash)",
                 "wall target", "CPU target"))
    L.append(row("---", "---:", "---:", "---:", "---:", "---", "---"))
    for c in (j1, by["off_nest"], by["off_rules"], by["off_all"]):
        L.append(row(c.label, fmt_s(c.median), fmt_s(c.cpu), "%.2fx" % (igz.median / c.median),
                     "%.2fx" % (c.cpu / floor), yes(c.median <= allow_wall),
                     yes(c.cpu <= allow_cpu)))
    L.append("")
    off = by["off_all"]
    L.append("- Detection (every rule) costs %s CPU-s with archives and git history opened, %s "
             "without; opening archives and git history costs %s CPU-s with the rules on." % (
                 fmt_s(j1.cpu - by["off_rules"].cpu), fmt_s(by["off_nest"].cpu - off.cpu),
                 fmt_s(j1.cpu - by["off_nest"].cpu)))
    L.append("- With nothing matched and nothing opened, the scan %s the wall target (%s s) and "
             "%s the CPU target (%s CPU-s, %s CPU-s left for all detection)." % (
                 "meets" if off.median <= allow_wall else "already misses", fmt_s(off.median),
                 "meets" if off.cpu <= allow_cpu else "already misses", fmt_s(off.cpu),
                 fmt_s(max(0.0, allow_cpu - off.cpu))))
    L.append("- On %d cores a scan cannot end before its CPU time / %d: the wall target's %s s "
             "leave room for %s CPU-s, and the whole -j1 scan takes %s, so no schedule of it "
             "%s." % (NCPU, NCPU, fmt_s(allow_wall), fmt_s(NCPU * allow_wall), fmt_s(j1.cpu),
                      "can meet the wall target" if j1.cpu > NCPU * allow_wall
                      else "is ruled out by CPU alone"))
    L.append("")
    return L


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def build_desc(binary):
    cache = os.path.join(os.path.dirname(binary), "CMakeCache.txt")
    try:
        with open(cache) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", f.read(), re.M)
        return "CMAKE_BUILD_TYPE=" + (m.group(1) or "(none)") if m else "build type unknown"
    except OSError:
        return "build type unknown"


def git_desc():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no",
                                "--", "scanner", "include", "CMakeLists.txt"], check=True,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.strip()
        return rev + (" + uncommitted scanner changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def machine():
    lines = []
    lscpu = sh("LC_ALL=C lscpu")
    keep = ("Architecture", "Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket",
            "L2 cache", "L3 cache", "Hypervisor vendor", "CPU max MHz", "BogoMIPS")
    for ln in lscpu.splitlines():
        k = ln.split(":", 1)[0].strip()
        if k in keep:
            lines.append(ln.strip())
    flags = sh("LC_ALL=C lscpu | sed -n 's/^Flags: *//p'").split()
    lines.append("Flags (selected): " + " ".join(
        f for f in flags if f in ("avx2", "avx512f", "avx512bw", "sha_ni", "bmi2", "vaes", "vpclmulqdq")))
    lines.append("")
    lines += subprocess.run(["free", "-h"], stdout=subprocess.PIPE, env=dict(os.environ, LC_ALL="C"),
                            check=True).stdout.decode().rstrip().splitlines()
    lines.append("")
    lines.append("Kernel: " + platform.release() + "; OS: " + first_line(
        "sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '\"'"))
    return lines


# ---- main -----------------------------------------------------------------------


# ---- where the CPU goes: one profiled run per image -----------------------------

# What each thread of a scan does (bench/PIPELINE.md); the main thread (the
# binary's own name) compiles the rules and orchestrates.
STAGES = {
    "stw-inflate": "read, ISA-L / zstd inflate of the layer",
    "stw-layer": "tar walk, detectors, spooling the archives inside files",
    "stw-nested": "archives inside files, on worker threads: libarchive, zip members' zlib, their matching",
    "stw-match": "content matching (vectorscan, PCRE2)",
    "stw-hash": "SHA-256 of the blobs (and the tars with --verify-diff-ids)",
}
# What each library is there for.
LIBS = [
    ("libisal", "ISA-L: inflate of gzip layers"),
    ("libzstd", "zstd: inflate of zstd layers"),
    ("libz.", "zlib: inflate inside layers (jars, inner .gz) and of git objects"),
    ("libhs", "vectorscan: keyword pass over every byte"),
    ("[JIT]", "PCRE2 JIT code: confirming keyword hits"),
    ("libpcre2", "PCRE2 library"),
    ("libcrypto", "OpenSSL: SHA-256 (blob digests, archive cache keys)"),
    ("libarchive", "libarchive: tar and zip headers"),
    ("[kernel", "kernel: read(), page faults, thread hand-offs"),
    ("libc.", "libc: copies between stages, malloc, locale"),
    ("libsqlite3", "SQLite"),
]


def perf_shares(data, key):
    """{name: percent} of perf report --sort key."""
    out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "-q",
                          "--sort", key], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    shares = {}
    for ln in out.stdout.decode(errors="replace").splitlines():
        m = re.match(r"^\s*([\d.]+)%\s+(\S.*?)\s*$", ln)
        if m:
            shares[m.group(2)] = shares.get(m.group(2), 0.0) + float(m.group(1))
    return shares


def profile(stw, name, target, scratch, ok):
    """One perf-recorded default -j scan of target: its CPU seconds and the
    share of each thread and library, or None without perf."""
    if not shutil.which("perf"):
        return None
    data = os.path.join(scratch, "perf.data")
    before = os.times()
    p = subprocess.run(["perf", "record", "-F", "999", "-q", "-o", data, "--", stw, "scan",
                        "--no-db", "-q", target], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    after = os.times()
    if p.returncode not in ok or not os.path.exists(data):
        return None
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    # "pid" sorts by thread ("tid:comm"): several threads share a name
    # (two layers in flight, the archive workers), "comm" sums them.
    res = {"name": name, "cpu": cpu, "comm": perf_shares(data, "comm"),
           "tid": perf_shares(data, "pid"), "dso": perf_shares(data, "dso")}
    os.remove(data)
    return res


def profile_lines(profs, stw):
    L = ["## Where the CPU goes", ""]
    L.append("One `perf record -F 999` of `stowaway scan --no-db -q IMAGE` (default -j) per image, "
             "after the timed runs; each share of the samples times the run's CPU seconds. "
             "This is the profile behind the targets that do not hold: on two cores a scan "
             "cannot end before half its CPU time, so where the CPU goes is where the time goes. "
             "What was tried against each part: bench/PIPELINE.md (threads, queues, the default -j) "
             "and bench/DETECTION.md (the content engine).")
    L.append("")
    main = os.path.basename(stw)[:15]
    L.append(row("stage (all its threads)", *[p["name"] + " CPU s" for p in profs]))
    L.append(row("---", *["---:" for _ in profs]))
    names = list(STAGES) + [main]
    for n in names:
        label = ("`%s`: %s" % (n, STAGES[n]) if n in STAGES else
                 "main thread: rules, planning; the tar walk of a layer scanned on it (one layer at a time)")
        cells = ["%.2f" % (p["cpu"] * p["comm"].get(n, 0.0) / 100) for p in profs]
        if any(float(c) > 0 for c in cells):
            L.append(row(label, *cells))
    L.append(row("**total (user + sys)**", *["**%.2f**" % p["cpu"] for p in profs]))
    L.append("")
    L.append(row("library", *[p["name"] + " CPU s" for p in profs]))
    L.append(row("---", *["---:" for _ in profs]))
    for key, label in LIBS:
        cells = ["%.2f" % (p["cpu"] * sum(v for k, v in p["dso"].items() if k.startswith(key)) / 100)
                 for p in profs]
        L.append(row(label, *cells))
    L.append(row("stowaway's own code", *["%.2f" % (p["cpu"] * sum(
        v for k, v in p["dso"].items() if k.startswith(main[:8])) / 100) for p in profs]))
    L.append("")
    for p in profs:
        tid = max(p["tid"], key=p["tid"].get) if p["tid"] else "?:?"
        longest = tid.split(":", 1)[-1].strip()
        secs = p["cpu"] * p["tid"].get(tid, 0.0) / 100
        if secs > p["cpu"] / NCPU:
            why = "one thread, a `%s`, has %.2f CPU-s of it, more than the cores' share, and bounds the scan" % (
                longest, secs)
        else:
            why = ("no single thread has more than the cores' share (the busiest, a `%s`, %.2f CPU-s): "
                   "total CPU bounds the scan" % (longest, secs))
        L.append("- %s: %.2f CPU-s, so at least %.2f s on %d cores; %s." % (
            p["name"], p["cpu"], max(p["cpu"] / NCPU, secs), NCPU, why))
    L.append("")
    return L


def previous_igzip(path):
    """The median of `igzip -dc` of full.oci in the report at path, or None:
    this host's speed varies by the hour (a fixed decompressor's time is
    the reference)."""
    if not path or path == "-" or not os.path.exists(path):
        return None
    m = re.search(r"^\| igzip -dc, each gzip layer \| ([0-9.]+) \|", open(path).read(), re.M)
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--bin-origin", default="", help="where --bin was copied from (for the report)")
    ap.add_argument("--images", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scratch", required=True, help="directory for tar -x and the db (tmpfs)")
    ap.add_argument("--secretlint", default="", help="secretlint executable ('' = skip)")
    ap.add_argument("--secretlint-runs", type=int, default=1)
    ap.add_argument("--secretlint-timeout", type=float, default=3600)
    ap.add_argument("--huge-runs", type=int, default=1)
    ap.add_argument("--skip", default="", help="comma list of: scaling,rescan,huge,tar,profile,off")
    ap.add_argument("--note", default="")
    ap.add_argument("--wait-idle", type=float, default=60,
                    help="before each round, wait up to this many seconds for other load to stop")
    ap.add_argument("--out", default="")
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=LAYOUT",
                    help="another OCI layout to hold to the same targets (repeatable)")
    a = ap.parse_args()
    skip = set(s for s in a.skip.split(",") if s)
    WAIT_IDLE[0] = a.wait_idle
    img = a.images
    full, zst, dock = (os.path.join(img, n) for n in ("full.oci", "full-zstd.oci", "full.docker.tar"))
    for p in (full, zst, dock):
        if not os.path.exists(p):
            raise SystemExit("runbench.py: %s missing; run bench/make-image.sh %s" % (p, img))
    stw = os.path.abspath(a.bin)
    origin = os.path.abspath(a.bin_origin or a.bin)
    ok_stw = (0, 1)  # 1 = findings at or above --fail-on, expected here
    N = a.runs
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = loadavg()

    gz_layers = oci_layers(full)
    zs_layers = oci_layers(zst)
    log(">> warm-up and uncompressed sizes")
    warm([full, zst, dock])
    sizes = [uncompressed_size(b, mt) for b, mt, _ in gz_layers]
    total = sum(sizes)
    zs_sizes = [uncompressed_size(b, mt) for b, mt, _ in zs_layers]
    if zs_sizes != sizes:
        raise SystemExit("runbench.py: zstd image layers differ from the gzip image")

    # sanity: the scanner reports the planted secrets (one untimed run)
    rep_path = os.path.join(a.scratch, "report.json")
    timed([stw, "scan", "--no-db", "--format", "json", "-o", rep_path, full], ok=ok_stw)
    with open(rep_path) as f:
        report = json.load(f)
    found = report.get("findings", [])
    planted = {"app/.env": False, "app/deploy/id_rsa": False, "app/.git/config": False}
    for fd in found:
        if fd.get("path") in planted and fd.get("kind") != "setuid":
            planted[fd["path"]] = True

    # ---- main block
    scratch_x = os.path.join(a.scratch, "x")

    def fresh(d):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    outer = os.path.join(scratch_x, "outer")
    tree = os.path.join(scratch_x, "tree")
    fresh(outer)
    subprocess.run(["tar", "-xf", dock, "-C", outer], check=True)
    with open(os.path.join(outer, "manifest.json")) as f:
        dock_layers = [os.path.join(outer, p) for p in json.load(f)[0]["Layers"]]

    def stw_case(key, label, target, jobs):
        # jobs 0: the default -j (layers at once: one per core, at most 16), which the targets are about
        j = ["-j%d" % jobs] if jobs else []
        return Case(key, label, [{"cmd": [stw, "scan", "--no-db"] + j + ["-q", target]}], ok=ok_stw)

    # The same -j1 scan with parts of it turned off: how much of the time
    # the targets leave is taken before any detection runs.
    rule_ids = [ln.split()[0] for ln in subprocess.run(
        [stw, "rules", "list"], check=True, capture_output=True, text=True).stdout.splitlines()
        if len(ln.split()) > 2 and ln.split()[1] in ("critical", "high", "medium", "low", "info")]
    no_rules = [x for r in rule_ids for x in ("--disable-rule", r)]
    no_depth = ["--max-depth", "0", "--no-git-history"]

    def stw_off(key, label, extra_args):
        return Case(key, label, [{"cmd": [stw, "scan", "--no-db", "-j1", "-q"] + extra_args + [full]}],
                    ok=ok_stw)

    cases = [
        stw_case("j1_gz", "stowaway -j1, OCI gzip", full, 1),
        stw_case("j2_gz", "stowaway default -j, OCI gzip", full, 0),
        stw_case("j1_zs", "stowaway -j1, OCI zstd", zst, 1),
        stw_case("j2_zs", "stowaway default -j, OCI zstd", zst, 0),
        stw_case("j1_dk", "stowaway -j1, docker-save tar", dock, 1),
        stw_case("j2_dk", "stowaway default -j, docker-save tar", dock, 0),
        Case("igzip", "igzip -dc, each gzip layer", [{"cmd": ["igzip", "-dc", b]} for b, _, _ in gz_layers]),
        Case("gzip", "gzip -dc, each gzip layer", [{"cmd": ["gzip", "-dc", b]} for b, _, _ in gz_layers]),
        Case("zstd", "zstd -dc, each zstd layer", [{"cmd": ["zstd", "-dcq", b]} for b, _, _ in zs_layers]),
        # What issue 4 requires besides inflate: SHA-256 of each blob (its
        # digest) and of each tar (its diff_id), with OpenSSL as stowaway.
        Case("sha_gz", "SHA-256 of each gzip blob (`openssl dgst`)",
             [{"cmd": ["openssl", "dgst", "-sha256", b]} for b, _, _ in gz_layers]),
        Case("sha_zs", "SHA-256 of each zstd blob (`openssl dgst`)",
             [{"cmd": ["openssl", "dgst", "-sha256", b]} for b, _, _ in zs_layers]),
        Case("sha_tar", "SHA-256 of each layer tar (`openssl dgst`)",
             [{"cmd": ["openssl", "dgst", "-sha256", l]} for l in dock_layers]),
    ]
    if "off" not in skip:
        cases += [
            stw_off("off_nest", "stowaway -j1, OCI gzip, no archives or git history opened", no_depth),
            stw_off("off_rules", "stowaway -j1, OCI gzip, every rule off", no_rules),
            stw_off("off_all", "stowaway -j1, OCI gzip, every rule off, nothing opened",
                    no_rules + no_depth),
        ]
    if "tar" not in skip:
        cases += [
            Case("tar_outer", "tar -x docker-save tar (to tmpfs)",
                 [{"cmd": ["tar", "-xf", dock, "-C", os.path.join(scratch_x, "o2")]}],
                 before=lambda: fresh(os.path.join(scratch_x, "o2"))),
            Case("tar_layers", "tar -x every layer into one tree (to tmpfs)",
                 [{"cmd": ["tar", "-xf", l, "-C", tree]} for l in dock_layers],
                 before=lambda: fresh(tree)),
        ]
    by = {c.key: c for c in cases}
    log(">> main block: %d cases x %d rounds" % (len(cases), N))
    alternate(cases, N, "main")
    shutil.rmtree(os.path.join(scratch_x, "o2"), ignore_errors=True)

    # ---- the other images of issue 14 (node_modules-heavy, Java with jars)
    extra = []
    for spec in a.extra:
        name, _, path = spec.partition("=")
        if not os.path.isfile(os.path.join(path, "index.json")):
            log("   (no %s at %s: skipped)" % (name, path))
            continue
        ls = oci_layers(path)
        warm([path])
        x = {"name": name, "layers": ls, "path": path,
             "bytes": sum(uncompressed_size(b, mt) for b, mt, _ in ls),
             "comp": sum(sz for _, _, sz in ls),
             "j1": stw_case("x_j1_" + name, "stowaway -j1, " + name, path, 1),
             "jd": stw_case("x_jd_" + name, "stowaway default -j, %s" % name, path, 0),
             "dec": Case("x_dec_" + name, "%s, each layer of %s" % (
                 " ".join(decomp_cmd(ls[0][1])), name), [{"cmd": decomp_cmd(mt) + [b]} for b, mt, _ in ls]),
             "sha": Case("x_sha_" + name, "SHA-256 of each blob of " + name,
                         [{"cmd": ["openssl", "dgst", "-sha256", b]} for b, _, _ in ls])}
        log(">> %s: %d layers" % (name, len(ls)))
        alternate([x["j1"], x["jd"], x["dec"], x["sha"]], N, name)
        extra.append(x)

    # ---- secretlint on the extracted tree (all layers, whiteouts not applied)
    sl = None
    if a.secretlint:
        fresh(tree)
        for l in dock_layers:
            subprocess.run(["tar", "-xf", l, "-C", tree], check=True)
        # secretlint always skips node_modules/ and .git/; renamed, so that it
        # reads the same files stowaway does
        renamed = 0
        for root, dirs, _ in os.walk(tree, topdown=False):
            for d in dirs:
                if d in ("node_modules", ".git"):
                    os.rename(os.path.join(root, d), os.path.join(root, d + "~"))
                    renamed += 1
        rc_path = os.path.join(a.scratch, "secretlintrc.json")
        with open(rc_path, "w") as f:
            json.dump({"rules": [{"id": "@secretlint/secretlint-rule-preset-recommend"}]}, f)
        sl = {"times": [], "cpus": [], "rss": 0, "timeout": False, "error": None, "findings": None,
              "renamed": renamed}
        # the json formatter fails on a tree this size (RangeError: Invalid
        # string length); unix prints one line per finding
        out_txt = os.path.join(a.scratch, "secretlint.txt")
        for i in range(a.secretlint_runs):
            log(">> secretlint run %d/%d (slow)" % (i + 1, a.secretlint_runs))
            try:
                t, r = timed([a.secretlint, "--secretlintrc", rc_path, "--format", "unix",
                              "--maskSecrets", "--no-gitignore", "--output", out_txt, "**/*"],
                             cwd=tree, ok=(0, 1), timeout=a.secretlint_timeout, cpu=sl["cpus"])
            except Failed as e:
                sl["error"] = str(e).splitlines()[0][-200:]
                log("   secretlint failed: " + str(e)[-500:])
                break
            if t is None:
                sl["timeout"] = True
                break
            sl["times"].append(t)
            sl["rss"] = max(sl["rss"], r)
        try:
            with open(out_txt, errors="replace") as f:
                hits = [ln for ln in f if re.match(r"^.+:\d+:\d+: ", ln)]
            sl["findings"] = len(hits)
            sl["files_flagged"] = len(set(re.match(r"^(.+?):\d+:\d+: ", ln).group(1) for ln in hits))
        except OSError:
            pass
    shutil.rmtree(scratch_x, ignore_errors=True)

    # ---- cached re-scan
    rescan = None
    if "rescan" not in skip:
        db = os.path.join(a.scratch, "rescan.db")
        for p in (db, db + "-wal", db + "-shm"):
            if os.path.exists(p):
                os.remove(p)
        log(">> cached re-scan")
        cold = timed([stw, "scan", "--db", db, "-q", full], ok=ok_stw)
        c = Case("rescan", "re-scan with --db", [{"cmd": [stw, "scan", "--db", db, "-q", full]}], ok=ok_stw)
        alternate([c], N, "rescan")
        rescan = {"cold": cold, "case": c}

    # ---- scaling
    scaling = []
    if "scaling" not in skip:
        sc_cases = []
        for s, name in ((0.25, "scale-0.25.oci"), (0.5, "scale-0.5.oci"), (1, "full.oci"), (2, "scale-2.oci")):
            path = os.path.join(img, name)
            if not os.path.isdir(path):
                log("   (no %s: scaling point skipped)" % name)
                continue
            ls = oci_layers(path)
            warm([path])
            nbytes = sum(uncompressed_size(b, mt) for b, mt, _ in ls)
            cs = stw_case("sc_stw_%s" % s, "stowaway -j1 %s" % name, path, 1)
            ci = Case("sc_igz_%s" % s, "igzip -dc %s" % name, [{"cmd": ["igzip", "-dc", b]} for b, _, _ in ls])
            sc_cases += [cs, ci]
            scaling.append((s, name, nbytes, sum(sz for _, _, sz in ls), cs, ci))
        log(">> scaling block")
        alternate(sc_cases, N, "scaling")

    # ---- huge image (peak RSS with multi-GB files)
    huge = None
    hpath = os.path.join(img, "huge.oci")
    if "huge" not in skip and os.path.isdir(hpath):
        hl = oci_layers(hpath)
        log(">> huge image: uncompressed size")
        hbytes = sum(uncompressed_size(b, mt) for b, mt, _ in hl)
        hc = [stw_case("h_j1", "stowaway -j1, huge.oci", hpath, 1),
              stw_case("h_j2", "stowaway -j2, huge.oci", hpath, 2),
              Case("h_igz", "igzip -dc, huge.oci layer", [{"cmd": ["igzip", "-dc", b]} for b, _, _ in hl])]
        log(">> huge block")
        alternate(hc, a.huge_runs, "huge")
        hrep = os.path.join(a.scratch, "huge.json")
        timed([stw, "scan", "--no-db", "--format", "json", "-o", hrep, hpath], ok=ok_stw)
        with open(hrep) as f:
            hfound = [x for x in json.load(f).get("findings", []) if x.get("path", "").startswith("srv/")]
        huge = {"bytes": hbytes, "comp": sum(sz for _, _, sz in hl), "cases": hc, "found": hfound}

    # ---- profiles (after the timings: perf's own overhead stays out of them)
    profs = []
    if "profile" not in skip:
        log(">> profiles")
        for name, target in [("full.oci", full)] + [(x["name"], x["path"]) for x in extra]:
            pr = profile(stw, name, target, a.scratch, ok_stw)
            if pr:
                profs.append(pr)

    finished = datetime.datetime.now(datetime.timezone.utc)
    load_end = loadavg()

    # ---- report
    L = []
    j1, j2 = by["j1_gz"], by["j2_gz"]
    igz, gz, zs = by["igzip"], by["gzip"], by["zstd"]
    per_igz = [igz.part_median(i) for i in range(len(gz_layers))]
    per_zs = [zs.part_median(i) for i in range(len(zs_layers))]
    ideal_gz = ideal_schedule(per_igz, by["sha_gz"].median)
    ideal_zs = ideal_schedule(per_zs, by["sha_zs"].median)
    r_igz = igz.median / j1.median
    r_zs = zs.median / by["j1_zs"].median
    r_ideal = ideal_gz / j2.median
    peak = max(c.rss for c in cases if c.key.startswith("j"))

    L.append("# stowaway benchmark results")
    L.append("")
    L.append("Produced by `bench/run.sh` (see bench/README.md); do not edit by hand.")
    L.append("")
    L.append("- Date: %s to %s (UTC)" % (started.strftime("%Y-%m-%d %H:%M"), finished.strftime("%H:%M")))
    L.append("- stowaway: `%s`, %s, binary built %s; source tree at run time: commit %s" % (
        first_line("'%s' --version" % stw), build_desc(origin),
        datetime.datetime.fromtimestamp(os.path.getmtime(origin), datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"), git_desc()))
    L.append("- Runs: median of %d alternated runs per case (secretlint: %d, huge image: %d)" % (
        N, a.secretlint_runs if a.secretlint else 0, a.huge_runs if huge else 0))
    L.append("- Inputs are in the page cache; decompressor output goes to /dev/null; "
             "`tar -x` writes to tmpfs.")
    L.append("- Load average (1/5/15 min) at start: %s; at end: %s (2 cores: above ~0.5 at the "
             "start means other work was running)" % (load_start, load_end))
    other = OTHER["cpu"] / (OTHER["wall"] * NCPU) if OTHER["wall"] else 0.0
    L.append("- Other processes used %.0f%% of the machine's CPU time during the measured commands "
             "(from /proc/stat, less the measured command's own CPU time)%s" % (
                 100 * other, "" if other < 0.05 else ": wall times are inflated, the CPU-time "
                 "columns less so"))
    prev = previous_igzip(a.out)
    if prev:
        d = igz.median / prev - 1
        L.append("- Host speed: `igzip -dc` of full.oci took %s s, %.0f%% %s than in the report "
                 "this one replaces (%s s)%s" % (
                     fmt_s(igz.median), abs(100 * d), "slower" if d > 0 else "faster",
                     fmt_s(prev), ": the host itself changed speed, so compare ratios across "
                     "these runs, not seconds" if abs(d) > 0.05 else ""))
    if a.note:
        L.append("- Note: " + a.note)
    L.append("- Image: full.oci, %d layers, %.2f GB uncompressed, %.2f GB gzip, %.2f GB zstd" % (
        len(gz_layers), total / 1e9, sum(s for _, _, s in gz_layers) / 1e9,
        sum(s for _, _, s in zs_layers) / 1e9))
    L.append("- Sanity: %d findings on full.oci; planted secrets reported: %s" % (
        len(found), ", ".join("%s %s" % (k, "yes" if v else "NO") for k, v in planted.items())))
    L.append("")

    L.append("## Targets")
    L.append("")
    L.append(row("target", "measured", "holds"))
    L.append(row("---", "---", "---"))
    L += target_rows("full.oci gzip", j1, j2, igz, by["sha_gz"], per_igz)
    L += target_rows("full.oci zstd", by["j1_zs"], by["j2_zs"], zs, by["sha_zs"], per_zs)
    for x in extra:
        L += target_rows(x["name"], x["j1"], x["jd"], x["dec"], x["sha"],
                         [x["dec"].part_median(i) for i in range(len(x["layers"]))])
    if huge:
        hpeak = max(c.rss for c in huge["cases"][:2])
        L.append(row("peak RSS <= 256 MB, %.1f GB image" % (huge["bytes"] / 1e9), "%.0f MB" % (hpeak / MB),
                     yes(hpeak <= 256 * MB)))
    else:
        L.append(row("peak RSS <= 256 MB, 10 GB image", "not measured (no huge.oci)", "-"))
    if rescan:
        L.append(row("cached re-scan < 1 s", "%s s" % fmt_s(rescan["case"].median),
                     yes(rescan["case"].median < 1.0)))
    if len(scaling) >= 3:
        xs = [s[2] for s in scaling]
        ys = [s[4].median for s in scaling]
        fa, fb, r2 = linear_fit(xs, ys)
        worst = max(abs(y - (fa + fb * x)) / y for x, y in zip(xs, ys))
        L.append(row("time linear in bytes", "R² %.4f, worst residual %.1f%%" % (r2, 100 * worst),
                     yes(r2 >= 0.99 and worst <= 0.10)))
    L.append("")
    L.append("Linear means R² >= 0.99 and no point more than 10% off the least-squares line "
             "over the 1/4, 1/2, 1 and 2x images.")
    L.append("")

    L.append("## Side by side (full image)")
    L.append("")
    L.append("Throughput is uncompressed layer bytes (%.2f GB) per second of wall time. "
             "\"stowaway -j1 vs this\" is this case's time divided by stowaway -j1's on the "
             "same input format (above 1: stowaway is faster)." % (total / 1e9))
    L.append("")
    L.append(row("case", "median s", "min s", "max s", "CPU s", "MB/s", "peak RSS MB",
                 "stowaway -j1 vs this"))
    L.append(row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"))
    ref = {"igzip": j1, "gzip": j1, "zstd": by["j1_zs"], "tar_outer": by["j1_dk"],
           "tar_layers": by["j1_dk"]}
    for c in cases:
        vs = "%.2fx" % (c.median / ref[c.key].median) if c.key in ref else ""
        L.append(row(c.label, fmt_s(c.median), fmt_s(min(c.times)), fmt_s(max(c.times)),
                     fmt_s(c.cpu), fmt_mb(total / c.median), fmt_mb(c.rss), vs))
    if "tar_outer" in by:
        tx = by["tar_outer"].median + by["tar_layers"].median
        L.append(row("tar -x image + layers (sum)", fmt_s(tx), "", "", "", fmt_mb(total / tx), "",
                     "%.2fx" % (tx / by["j1_dk"].median)))
    if sl:
        if sl["times"]:
            t = statistics.median(sl["times"])
            L.append(row("secretlint on the extracted tree", fmt_s(t), fmt_s(min(sl["times"])),
                         fmt_s(max(sl["times"])), fmt_s(statistics.median(sl["cpus"])),
                         fmt_mb(total / t), fmt_mb(sl["rss"]),
                         "%.1fx" % (t / j1.median)))
        else:
            L.append(row("secretlint on the extracted tree",
                         "> %.0f (timed out)" % a.secretlint_timeout if sl["timeout"]
                         else "failed: " + (sl["error"] or "?"), "", "", "", "", "", ""))
    L.append("")
    L.append("Ratios asked for:")
    L.append("")
    L.append("- stowaway -j1 gzip / `igzip -dc`: **%.2fx**; / `gzip -dc`: **%.2fx**" % (
        r_igz, gz.median / j1.median))
    L.append("- stowaway -j1 zstd / `zstd -dc`: **%.2fx**" % r_zs)
    L.append("- stowaway default -j / -j1: gzip %.2fx, zstd %.2fx, docker-save %.2fx" % (
        j1.median / j2.median, by["j1_zs"].median / by["j2_zs"].median,
        by["j1_dk"].median / by["j2_dk"].median))
    if "tar_outer" in by:
        L.append("- stowaway -j1 on the docker-save tar / `tar -x` of it and its layers: **%.2fx**" % (
            (by["tar_outer"].median + by["tar_layers"].median) / by["j1_dk"].median))
    if sl and sl["times"]:
        t = statistics.median(sl["times"])
        L.append("- stowaway -j1 (gzip image) / secretlint on the already extracted tree: **%.1fx**; "
                 "/ tar -x + secretlint: **%.1fx**" % (
                     t / j1.median, (t + by["tar_outer"].median + by["tar_layers"].median) / j1.median
                     if "tar_outer" in by else float("nan")))
    if sl:
        L.append("- secretlint: %d run(s) only (slow); recommended preset, `--no-gitignore \"**/*\"` "
                 "in the tree of all layers extracted in order (whiteouts not applied, so deleted "
                 "files are there too), with its %d node_modules/ and .git/ directories renamed "
                 "since secretlint always skips those; %s findings in %s files." % (
                     len(sl["times"]), sl["renamed"], sl.get("findings", "?"), sl.get("files_flagged", "?")))
    L.append("")

    if extra:
        L.append("## The other images")
        L.append("")
        L.append(row("image", "layers", "uncompressed MB", "compressed MB", "case", "median s",
                     "CPU s", "MB/s", "peak RSS MB"))
        L.append(row("---", "---:", "---:", "---:", "---", "---:", "---:", "---:", "---:"))
        for x in extra:
            for k in ("j1", "jd", "dec", "sha"):
                c = x[k]
                L.append(row(x["name"], len(x["layers"]), fmt_mb(x["bytes"]), fmt_mb(x["comp"]),
                             c.label, fmt_s(c.median), fmt_s(c.cpu), fmt_mb(x["bytes"] / c.median),
                             fmt_mb(c.rss)))
        L.append("")
        L.append("node.oci is full.oci's two node_modules layers alone; java.oci is bench/nested.py's "
                 "image (every jar of Debian's lib*-java packages, and a fat jar storing them all "
                 "again), so it holds nested archives that stowaway inflates and the decompressor "
                 "of the layer does not.")
        L.append("")

    L.append("## What the required checks alone cost")
    L.append("")
    L.append("Issue 14 requires the blob's digest to be checked while streaming; the diff_id "
             "(SHA-256 of the tar) only where it is the blob's own digest or with "
             "--verify-diff-ids, so it is not in this floor. Inflate plus the blob hash, measured "
             "above with the same libraries stowaway uses (ISA-L or zstd, OpenSSL), is CPU work "
             "no scanner making that check can skip; divided by the machine's %d cores it is the "
             "least wall time such a program can take here, before it parses a tar header or "
             "scans a byte. Set against the time each target allows:" % NCPU)
    L.append("")
    L.append(row("target", "inflate + blob hash, CPU s", "floor on %d cores, s" % NCPU,
                 "target allows, s", "target / floor", "stowaway, s"))
    L.append(row("---", "---:", "---:", "---:", "---:", "---:"))
    for name, dec, sha, st in (("-j1 gzip, 0.9x `igzip -dc`", igz, by["sha_gz"], j1),
                               ("-j1 zstd, 0.9x `zstd -dc`", zs, by["sha_zs"], by["j1_zs"])):
        work = dec.cpu + sha.cpu
        allow = dec.median / 0.9
        L.append(row(name, fmt_s(work), fmt_s(work / NCPU), fmt_s(allow),
                     "%.2f" % (allow / (work / NCPU)), fmt_s(st.median)))
    work = igz.cpu + by["sha_gz"].cpu
    L.append(row("default -j gzip, 0.75x ideal schedule", fmt_s(work), fmt_s(work / NCPU),
                 fmt_s(ideal_gz / 0.75), "%.2f" % (ideal_gz / 0.75 / (work / NCPU)),
                 fmt_s(j2.median)))
    L.append("")
    L.append("A target / floor ratio below 1: no program making the required checks can meet "
             "the target on this machine. Above 1, what is left for everything else (tar "
             "parsing, vectorscan over every byte, PCRE2 around keyword hits, nested archives, "
             "the overlay bookkeeping) is the difference.")
    L.append("")

    if "off_all" in by:
        L += parts_off_lines(by, j1, igz, by["sha_gz"], len(rule_ids))

    L.append("## Ideal 2-core schedule")
    L.append("")
    L.append("Per-layer decompression time (median). Ideal = max(largest layer, (total + blob "
             "hashing) / cores): no schedule on this machine can beat it.")
    L.append("")
    L.append(row("layer", "uncompressed MB", "gzip MB", "igzip -dc s", "zstd MB", "zstd -dc s"))
    L.append(row("---", "---:", "---:", "---:", "---:", "---:"))
    for i, ((b, mt, csz), usz) in enumerate(zip(gz_layers, sizes)):
        L.append(row("L%d" % (i + 1), "%.1f" % (usz / MB), "%.1f" % (csz / MB), fmt_s(per_igz[i]),
                     "%.1f" % (zs_layers[i][2] / MB), fmt_s(per_zs[i])))
    L.append(row("total", "%.1f" % (total / MB), "%.1f" % (sum(x[2] for x in gz_layers) / MB),
                 fmt_s(sum(per_igz)), "%.1f" % (sum(x[2] for x in zs_layers) / MB), fmt_s(sum(per_zs))))
    L.append("")
    L.append(row("", "ideal s", "stowaway default -j s", "default -j vs ideal"))
    L.append(row("---", "---:", "---:", "---:"))
    L.append(row("gzip (igzip timings)", fmt_s(ideal_gz), fmt_s(j2.median), "**%.2fx**" % r_ideal))
    L.append(row("zstd (zstd -dc timings)", fmt_s(ideal_zs), fmt_s(by["j2_zs"].median),
                 "%.2fx" % (ideal_zs / by["j2_zs"].median)))
    L.append("")
    L.append("For reference, the best assignment of whole layers to two cores takes %s s from the "
             "igzip timings (%s s from zstd's); the ideal above may be below it, since it lets "
             "a layer's time be split." % (fmt_s(best_two_core(per_igz)), fmt_s(best_two_core(per_zs))))
    L.append("")

    if scaling:
        L.append("## Scaling")
        L.append("")
        L.append("The same layers with a hashed 1/4 or 1/2 of each layer's file bytes, or every file "
                 "twice (bench/make-image.sh); stowaway -j1 and igzip -dc, median of %d. The 2x "
                 "image's second copy is in the same layers as the first, so its archives of 64 KiB "
                 "and more are answered by the scan's memory of walked archives "
                 "(scanner/stream/archmemo.c) rather than walked again: it costs less than twice "
                 "the bytes, and pulls the line down." % N)
        L.append("")
        fa = fb = None
        if len(scaling) >= 3:
            xs = [s[2] for s in scaling]
            ys = [s[4].median for s in scaling]
            fa, fb, r2 = linear_fit(xs, ys)
        L.append(row("image", "uncompressed MB", "gzip MB", "stowaway s", "CPU s", "MB/s", "fit s",
                     "residual", "igzip s", "vs igzip", "peak RSS MB"))
        L.append(row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"))
        for s, name, nb, cb, cs, ci in scaling:
            fit = fa + fb * nb if fb is not None else None
            L.append(row(name, "%.0f" % (nb / MB), "%.0f" % (cb / MB), fmt_s(cs.median),
                         fmt_s(cs.cpu), fmt_mb(nb / cs.median), fmt_s(fit) if fit else "",
                         "%+.1f%%" % (100 * (cs.median - fit) / cs.median) if fit else "",
                         fmt_s(ci.median), "%.2fx" % (ci.median / cs.median), fmt_mb(cs.rss)))
        if fb is not None:
            L.append("")
            L.append("Least-squares fit: t = %.3f s + bytes / (%.0f MB/s); R² = %.4f." % (fa, 1 / fb / MB, r2))
            ca, cb2, cr2 = linear_fit([s[2] for s in scaling], [s[4].cpu for s in scaling])
            L.append("The same fit on CPU time (user + sys, less sensitive to other load on the "
                     "machine): t = %.3f s + bytes / (%.0f MB/s); R² = %.4f." % (ca, 1 / cb2 / MB, cr2))
        L.append("")

    if rescan:
        cold_t, cold_rss = rescan["cold"]
        c = rescan["case"]
        L.append("## Cached re-scan")
        L.append("")
        L.append("`stowaway scan --db FILE -q full.oci` (default -j): first scan into an empty "
                 "database, then %d re-scans of the same image." % N)
        L.append("")
        L.append(row("", "median s", "min s", "max s", "peak RSS MB"))
        L.append(row("---", "---:", "---:", "---:", "---:"))
        L.append(row("first scan (empty db)", fmt_s(cold_t), "", "", fmt_mb(cold_rss)))
        L.append(row("re-scan (cached)", fmt_s(c.median), fmt_s(min(c.times)), fmt_s(max(c.times)),
                     fmt_mb(c.rss)))
        L.append("")

    if huge:
        L.append("## Huge image (peak RSS)")
        L.append("")
        L.append("huge.oci: one gzip layer, %.2f GB uncompressed (%.2f GB gzip) in files of a few GB; "
                 "%d run(s). A single layer leaves -j2 nothing to run in parallel but the "
                 "scanning of file contents." % (huge["bytes"] / 1e9, huge["comp"] / 1e9, a.huge_runs))
        L.append("")
        L.append(row("case", "median s", "MB/s", "peak RSS MB"))
        L.append(row("---", "---:", "---:", "---:"))
        for c in huge["cases"]:
            L.append(row(c.label, fmt_s(c.median), fmt_mb(huge["bytes"] / c.median), fmt_mb(c.rss)))
        L.append("")
        L.append("Findings in the large files: %s (a fake GitHub token is planted across a 1 GiB "
                 "boundary of part-01.log)." % (", ".join(
                     "%s in %s" % (x.get("rule"), x.get("path")) for x in huge["found"]) or "none"))
        L.append("")

    if profs:
        L += profile_lines(profs, stw)

    L.append("## Machine")
    L.append("")
    L.append("```")
    L += machine()
    L.append("```")
    L.append("")
    L.append("Tools: %s; %s; %s; %s; %s." % (
        first_line("igzip --version 2>&1 | grep -i igzip || igzip --version"),
        first_line("gzip --version"), first_line("zstd --version").strip("* "),
        first_line("tar --version"),
        ("secretlint " + first_line("'%s' --version" % a.secretlint)) if a.secretlint else "secretlint skipped"))
    L.append("")
    text = "\n".join(L)
    print(text)
    if a.out:
        # The other benchmarks (nested.py, githistory.py) keep their own
        # marked sections of the same file: carry them over.
        kept = []
        if os.path.exists(a.out):
            old = open(a.out).read()
            for m in re.finditer(r"<!-- (\w+):begin -->.*?<!-- \1:end -->\n?",
                                 old, re.S):
                kept.append(m.group(0).rstrip("\n"))
        if kept:
            text = text.rstrip("\n") + "\n\n" + "\n\n".join(kept) + "\n"
        with open(a.out, "w") as f:
            f.write(text)
        log("wrote " + a.out)


if __name__ == "__main__":
    try:
        main()
    except Failed as e:
        raise SystemExit("runbench.py: " + str(e))
