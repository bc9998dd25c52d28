#!/usr/bin/env python3
"""Mint the fake credentials planted in the benchmark image.

Each value has the shape of a real one (prefix, alphabet, length and, for
GitHub tokens, the CRC32 checksum GitHub appends), so a scanner that validates
checksums still reports it; none of them grants access to anything. Seeded:
a (family, seed) pair always gives the same value, so images are reproducible.

usage: mint.py FAMILY SEED     FAMILY: ghp | aws_id | aws_secret
"""
import random
import string
import sys
import zlib

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def base62(n, width):
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(width, "0")


def mint(family, seed):
    rnd = random.Random(f"stowaway-bench:{family}:{seed}")
    if family == "ghp":
        # GitHub's format: prefix, 30 random base62 chars, CRC32 of those as 6 base62 chars.
        body = "".join(rnd.choice(BASE62) for _ in range(30))
        return "ghp_" + body + base62(zlib.crc32(body.encode()) & 0xFFFFFFFF, 6)
    if family == "aws_id":
        return "AKIA" + "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    if family == "aws_secret":
        return "".join(rnd.choice(string.ascii_letters + string.digits + "/+") for _ in range(40))
    raise SystemExit(f"mint.py: unknown family {family}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: mint.py FAMILY SEED")
    print(mint(sys.argv[1], sys.argv[2]))
