#!/usr/bin/env python3
"""stock_findings.py - compares stowaway's findings on stock content (a
debootstrap Debian root filesystem, a node_modules tree of popular npm
packages) with the expected list in tests/stock-findings.yaml, so that a
new false alarm on stock images fails the test suite.

  stock_findings.py --stowaway BIN [--expected YAML] NAME=LAYER.tar ...

Each LAYER.tar is scanned (--format json --no-db); its findings, as a
multiset of (path, rule, severity), must equal the entries listed under
NAME in the YAML file (every entry: path, rule, severity, reason). Prints
what is unexpected and what is missing, exits 1 if anything is.
--write prints a YAML section for NAME with the current findings, keeping
the reasons already written and marking new ones "TODO: reason" (for a
person to judge: fix the rule or explain the finding)."""
import argparse, json, os, subprocess, sys
from collections import Counter

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def scan(binary, layer):
    p = subprocess.run([binary, 'scan', '--no-db', '--format', 'json', '--fail-on', 'info', '-q', layer],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1):
        sys.stderr.write(p.stderr.decode(errors='replace'))
        raise SystemExit('stowaway failed on %s with exit status %d' % (layer, p.returncode))
    rep = json.loads(p.stdout)
    if rep.get('errors'):
        raise SystemExit('scan of %s reported errors: %s' % (layer, rep['errors']))
    return rep['findings']


def key(f):
    return (f['path'], f['rule'], f['severity'])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--stowaway', default=os.environ.get('STOWAWAY', os.path.join(REPO, 'build', 'stowaway')))
    ap.add_argument('--expected', default=os.path.join(REPO, 'tests', 'stock-findings.yaml'))
    ap.add_argument('--write', action='store_true')
    ap.add_argument('images', nargs='+', metavar='NAME=LAYER.tar')
    a = ap.parse_args()
    with open(a.expected, encoding='utf-8') as f:
        expected = yaml.safe_load(f) or {}
    bad = 0
    for spec in a.images:
        name, layer = spec.split('=', 1)
        found = scan(a.stowaway, layer)
        want = expected.get(name) or []
        if a.write:
            reasons = {}
            for e in want:
                reasons.setdefault(key(e), []).append(e['reason'])
            print('%s:' % name)
            for f in sorted(found, key=lambda f: (key(f), f.get('line') or 0)):
                r = reasons.get(key(f), [])
                reason = r.pop(0) if r else 'TODO: reason'
                print('  - {path: %s, rule: %s, severity: %s,\n     reason: %s}'
                      % (json.dumps(f['path']), f['rule'], f['severity'], json.dumps(reason)))
            continue
        for e in want:
            if not e.get('reason') or 'TODO' in e['reason']:
                print('%s: entry without a reason: %s' % (name, key(e)))
                bad += 1
        got, exp = Counter(map(key, found)), Counter(map(key, want))
        extra, missing = got - exp, exp - got
        for k, n in sorted(extra.items()):
            print('%s: UNEXPECTED %s %s %s%s' % ((name,) + k + (' x%d' % n if n > 1 else '',)))
        for k, n in sorted(missing.items()):
            print('%s: MISSING %s %s %s%s' % ((name,) + k + (' x%d' % n if n > 1 else '',)))
        bad += sum(extra.values()) + sum(missing.values())
        print('%s: %d findings, %d expected, %d unexpected, %d missing'
              % (name, len(found), len(want), sum(extra.values()), sum(missing.values())))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
