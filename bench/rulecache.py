#!/usr/bin/env python3
"""rulecache.py - what the compiled rules cache saves: the CPU time (user +
sys, median of --runs) of `stowaway scan --no-db` of the 26 KiB demo image
with the built-in rules, and with the built-ins plus --generated custom
rules, each without the cache (--no-rules-cache), with an empty cache (the
run that compiles and writes the entry) and with a warm one. Prints a
markdown table; the cache lives in a temporary XDG_CACHE_HOME.

    python3 bench/rulecache.py --bin build-rel/stowaway
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "fixtures", "demo", "demo.docker.tar")


def generated_rules(n):
    """n rules in four shapes: keyword + regex, a regex that is its own
    prefilter (no keywords), keywords with a path regex, path only."""
    out = ["version: 1", "rules:"]
    for i in range(n):
        out += ["  - id: gen-rule-%d" % i, "    title: 'generated rule %d'" % i,
                "    category: custom", "    severity: high"]
        k = i % 4
        if k == 0:
            out += ["    keywords: ['gk%dx_']" % i,
                    "    regex: '(?<secret>gk%dx_[A-Za-z0-9]{%d,40})'"
                    % (i, 20 + i % 10),
                    "    secret-group-name: secret"]
        elif k == 1:
            out += ["    regex: '(?i)(?:cfg%d|setting%d)[_-]?(?:key|token)"
                    "\\s*[:=]\\s*[\"'']?(?<secret>[A-Za-z0-9/+]{32,64})'"
                    % (i, i),
                    "    secret-group-name: secret"]
        elif k == 2:
            out += ["    keywords: ['svc%d', 'srv%d']" % (i, i),
                    "    regex: '(?:svc|srv)%d[a-z]*_(?<secret>[0-9a-f]{40})'"
                    % i,
                    "    secret-group-name: secret",
                    "    path: '(?:^|/)conf%d/[^/]+\\.(?:ini|cfg|yaml)$'" % i]
        else:
            out += ["    path: '(?:^|/)\\.secret%d(?:\\.[a-z]+)?$'" % i]
    return "\n".join(out) + "\n"


def cpu_ms(cmd, env):
    """CPU time (user + sys) of one run of cmd, in ms."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return 1000 * ((after.ru_utime - before.ru_utime) +
                   (after.ru_stime - before.ru_stime))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="a Release stowaway")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--generated", type=int, default=400)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="rulecache-bench.")
    try:
        rules = os.path.join(tmp, "generated.yaml")
        with open(rules, "w") as f:
            f.write(generated_rules(a.generated))
        cache = os.path.join(tmp, "cache")
        env = dict(os.environ, XDG_CACHE_HOME=cache)
        print("| rules | no cache | empty cache | warm cache |")
        print("| --- | --- | --- | --- |")
        for label, extra in (("built-in", []),
                             ("built-in + %d generated" % a.generated,
                              ["--rules", rules])):
            base = [a.bin, "scan", "--no-db"] + extra + [DEMO]
            off = [cpu_ms(base[:3] + ["--no-rules-cache"] + base[3:], env)
                   for _ in range(a.runs)]
            cold = []
            for _ in range(a.runs):
                shutil.rmtree(cache, ignore_errors=True)
                cold.append(cpu_ms(base, env))
            warm = [cpu_ms(base, env) for _ in range(a.runs)]
            print("| %s | %.0f ms | %.0f ms | %.0f ms |" %
                  (label, statistics.median(off), statistics.median(cold),
                   statistics.median(warm)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
