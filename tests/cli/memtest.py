#!/usr/bin/env python3
"""memtest.py STOWAWAY SIZE_MB DIR: streams a one-layer tar holding a file of
SIZE_MB megabytes (pseudo-random text, an RSA key at its very end) into
`stowaway scan --no-db --format json -`, then prints the child's peak RSS in
KiB and whether the key at the end was found, as JSON. The tar is generated on
the fly: nothing of that size touches the disk."""
import json
import os
import random
import resource
import subprocess
import sys
import tarfile

stowaway, size_mb, keyfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
key = open(keyfile, "rb").read()
block = bytes(random.Random(7).choice(b"abcdefghij klmnop\n") for _ in range(1 << 20))
size = size_mb * (1 << 20) + len(key)

proc = subprocess.Popen([stowaway, "scan", "--no-db", "--format", "json", "-"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)


ti = tarfile.TarInfo("data/huge.log")
ti.size = size
ti.mode = 0o644
out = proc.stdin
out.write(ti.tobuf(format=tarfile.PAX_FORMAT))
for _ in range(size_mb):
    out.write(block)
out.write(key)
out.write(b"\0" * ((-size) % 512 + 1024))  # padding, end-of-archive blocks
out.close()
report = json.loads(proc.stdout.read())
rc = proc.wait()
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
found = [f for f in report["findings"] if f["path"] == "data/huge.log"
         and f["kind"] == "private-key"]
print(json.dumps({"rc": rc, "rss_kib": rss, "key_found": len(found),
                  "key_offset": found[0]["offset"] if found else None,
                  "expected_offset": size - len(key)}))
