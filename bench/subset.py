#!/usr/bin/env python3
"""Pick a deterministic fraction of a layer's bytes for the scaling images.

Reads a NUL-separated path list (find -print0, run in the layer's directory)
on stdin and writes the chosen paths, NUL-separated, in input order, to
stdout. Directories are always kept so every kept file has its parents.
Regular files are visited in the order of a hash of their path and taken
while they fit in FRACTION of the layer's file bytes, so a smaller image has
the same mix of file kinds and sizes as the full one and its size is close to
the fraction (a count-based pick would not be: a few large binaries dominate).
Symlinks and other entries are kept when the hash falls below FRACTION.

usage: subset.py FRACTION < paths0 > kept0     (0 < FRACTION <= 1)
"""
import os
import stat
import sys
import zlib


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: subset.py FRACTION < paths0 > kept0")
    frac = float(sys.argv[1])
    if not 0.0 < frac <= 1.0:
        raise SystemExit("subset.py: FRACTION must be in (0, 1]")
    paths = [p for p in sys.stdin.buffer.read().split(b"\0") if p]
    if frac >= 1.0:
        sys.stdout.buffer.write(b"".join(p + b"\0" for p in paths))
        return
    keep = set()
    files = []
    for p in paths:
        st = os.lstat(p)
        if stat.S_ISDIR(st.st_mode):
            keep.add(p)
        elif stat.S_ISREG(st.st_mode):
            files.append((zlib.crc32(p), st.st_size, p))
        elif zlib.crc32(p) < frac * 2**32:
            keep.add(p)
    budget = frac * sum(size for _, size, _ in files)
    for _, size, p in sorted(files):
        if size <= budget:
            keep.add(p)
            budget -= size
    sys.stdout.buffer.write(b"".join(p + b"\0" for p in paths if p in keep))


if __name__ == "__main__":
    main()
