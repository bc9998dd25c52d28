#!/usr/bin/env python3
"""Pick a deterministic fraction of a layer's files for the scaling images.

Reads a NUL-separated path list (find -print0) on stdin and writes the chosen
paths, NUL-separated, to stdout. Directories are always kept so every kept
file has its parents; other entries are kept when a hash of the path falls
below FRACTION, so each size keeps the same mix of file kinds and sizes as
the full image and a smaller fraction is a subset of a larger one.

usage: subset.py FRACTION < paths0 > kept0     (0 < FRACTION <= 1)
"""
import os
import sys
import zlib


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: subset.py FRACTION < paths0 > kept0")
    frac = float(sys.argv[1])
    if not 0.0 < frac <= 1.0:
        raise SystemExit("subset.py: FRACTION must be in (0, 1]")
    limit = int(frac * 2**32)
    data = sys.stdin.buffer.read()
    out = []
    for path in data.split(b"\0"):
        if not path:
            continue
        if frac >= 1.0 or os.path.isdir(path) and not os.path.islink(path):
            out.append(path)
        elif zlib.crc32(path) < limit:
            out.append(path)
    sys.stdout.buffer.write(b"".join(p + b"\0" for p in out))


if __name__ == "__main__":
    main()
