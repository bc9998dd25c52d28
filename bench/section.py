"""section.py - writes a benchmark's markdown section into a results file
between <!-- NAME:begin --> and <!-- NAME:end --> markers, replacing what
was there (appending when the markers are missing), so several benchmarks
share bench/RESULTS.md without overwriting each other."""
import os


def replace_section(path, name, text):
    """text must start with the begin marker and end with the end marker
    and a newline."""
    begin, end = "<!-- %s:begin -->" % name, "<!-- %s:end -->" % name
    old = open(path).read() if os.path.exists(path) else ""
    b, e = old.find(begin), old.find(end)
    if b >= 0 and e > b:
        old = old[:b] + text + old[e + len(end) + 1:]
    else:
        old = old.rstrip("\n") + "\n\n" + text
    with open(path, "w") as f:
        f.write(old)
