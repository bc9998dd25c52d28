#!/usr/bin/env python3
"""coverage.py - writes signatures/COVERAGE.md: every rule id of Trivy's
built-in secret rules and of Gitleaks' default config, each with the
stowaway rules that cover it or the one-line reason it is deliberately not
covered. Fails (exit 1, problems on stderr) when an id of either list has
neither, when a row names a rule that does not exist, or when a mapping
names a peer id the peer no longer has.

  coverage.py --trivy BUILTIN_RULES_GO --gitleaks GITLEAKS_TOML \\
              [--trivy-rev REV] [--gitleaks-rev REV] [-o signatures/COVERAGE.md]

BUILTIN_RULES_GO is pkg/fanal/secret/builtin-rules.go of
aquasecurity/trivy, GITLEAKS_TOML config/gitleaks.toml of gitleaks/gitleaks
(read their ids only; nothing of them is copied). The mappings are ours:
Trivy's in signatures/trivy-ids.yaml (the loader resolves Trivy configs'
enable-builtin-rules/disable-rules through it), Gitleaks' in
tools/coverage-gitleaks.tsv. Standard library only."""
import argparse, glob, os, re, sys, tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SIG = os.path.join(REPO, 'signatures')

# Findings that come from detectors in C rather than rule files.
DETECTORS = {'keystore-file': 'scanner/detect/artifact.c'}
GENERIC = {'generic-secret', 'generic-password', 'generic-password-unquoted'}


def trivy_ids(path):
    """Top-level rule ids of builtin-rules.go: `ID:` at two tabs (allow
    rules nested inside a rule sit deeper)."""
    with open(path, encoding='utf-8') as f:
        ids = re.findall(r'^\t\tID:\s*"([^"]+)"', f.read(), re.M)
    if not ids:
        sys.exit('%s: no rule ids found (not builtin-rules.go?)' % path)
    return ids


def gitleaks_ids(path):
    with open(path, 'rb') as f:
        ids = [r['id'] for r in tomllib.load(f).get('rules', [])]
    if not ids:
        sys.exit('%s: no [[rules]] found' % path)
    return ids


def our_rules():
    """Rule id -> rule file, from every signatures/*.yaml (a rule starts
    with `  - id: ` at the indentation the rule files use)."""
    out = {}
    for p in sorted(glob.glob(os.path.join(SIG, '*.yaml'))):
        with open(p, encoding='utf-8') as f:
            for m in re.finditer(r'^  - id: (\S+)\s*$', f.read(), re.M):
                out[m.group(1)] = os.path.basename(p)
    for k, v in DETECTORS.items():
        out[k] = v
    return out


def trivy_map(problems):
    """signatures/trivy-ids.yaml: one flow mapping a line,
    `- {id: X, rules: [a, b]}` or `- {id: X, reason: '...'}`."""
    path = os.path.join(SIG, 'trivy-ids.yaml')
    out = {}
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            if not line.startswith('  - {'):
                continue
            m = re.match(r"  - \{id: ([^,]+), (?:rules: \[([^\]]*)\]|reason: '((?:[^']|'')*)')\}\s*$", line)
            if not m:
                problems.append('trivy-ids.yaml:%d: not {id, rules} or {id, reason}' % n)
                continue
            rules = [r.strip() for r in (m.group(2) or '').split(',') if r.strip()]
            reason = (m.group(3) or '').replace("''", "'")
            out[m.group(1)] = (rules, reason, '')
    return out


def gitleaks_map(problems):
    path = os.path.join(HERE, 'coverage-gitleaks.tsv')
    out = {}
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            if line.startswith('#') or not line.strip():
                continue
            cols = line.rstrip('\n').split('\t')
            if len(cols) != 3:
                problems.append('coverage-gitleaks.tsv:%d: want 3 tab-separated columns' % n)
                continue
            gid, rules, text = cols
            rules = [] if rules == '-' else [r for r in rules.split(',') if r]
            # A row without rules is a deliberate gap and says why; a row
            # with rules may carry a note on how they cover it.
            out[gid] = (rules, text if not rules else '', text if rules else '')
    return out


def check(peer, ids, mapping, ours, problems):
    for pid in ids:
        if pid not in mapping:
            problems.append('%s id %s: no row (map it to rules or give the reason)' % (peer, pid))
            continue
        rules, reason, _ = mapping[pid]
        if not rules and not reason:
            problems.append('%s id %s: neither rules nor a reason' % (peer, pid))
        for r in rules:
            if r not in ours:
                problems.append('%s id %s: no stowaway rule %s' % (peer, pid, r))
    for pid, (rules, reason, _) in mapping.items():
        # An id the peer dropped but still documents (Trivy's docs enable
        # aws-account-id) stays mappable, as a reason: configs name it.
        if pid not in ids and (rules or not reason):
            problems.append('%s id %s: mapped to rules but not in the %s list given' % (peer, pid, peer))


def status(rules):
    if not rules:
        return 'not covered'
    return 'generic' if set(rules) <= GENERIC else 'specific'


def table(w, peer, ids, mapping, ours):
    counts = {'specific': 0, 'generic': 0, 'not covered': 0}
    w('| %s id | stowaway rules | note |' % peer)
    w('| --- | --- | --- |')
    for pid in sorted(ids):
        rules, reason, note = mapping[pid]
        counts[status(rules)] += 1
        cell = ', '.join('`%s`' % r for r in rules) if rules else '**not covered**'
        w('| `%s` | %s | %s |' % (pid, cell, (reason or note).replace('|', '\\|')))
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--trivy', required=True, help="Trivy's pkg/fanal/secret/builtin-rules.go")
    ap.add_argument('--gitleaks', required=True, help="Gitleaks' config/gitleaks.toml")
    ap.add_argument('--trivy-rev', default='', help='the Trivy commit read, for the header')
    ap.add_argument('--gitleaks-rev', default='', help='the Gitleaks commit read, for the header')
    ap.add_argument('-o', '--output', default=os.path.join(SIG, 'COVERAGE.md'))
    a = ap.parse_args()

    problems = []
    ours = our_rules()
    tids, gids = trivy_ids(a.trivy), gitleaks_ids(a.gitleaks)
    tmap, gmap = trivy_map(problems), gitleaks_map(problems)
    check('Trivy', tids, tmap, ours, problems)
    check('Gitleaks', gids, gmap, ours, problems)
    if problems:
        sys.stderr.write(''.join(p + '\n' for p in problems))
        return 1

    lines = []
    w = lines.append
    w('# Coverage of Trivy\'s and Gitleaks\' rules\n')
    w('Generated by `tools/coverage.py` from our rule files, `signatures/trivy-ids.yaml`, '
      '`tools/coverage-gitleaks.tsv`, Trivy\'s `pkg/fanal/secret/builtin-rules.go`%s and '
      'Gitleaks\' `config/gitleaks.toml`%s; do not edit by hand. Every id of either list '
      'names the stowaway rules that find what it finds, or why it is deliberately not '
      'covered. *specific*: a rule for the format (or the file); *generic*: found by a '
      'name = value rule (`generic-secret` and kin), as the peer itself finds it by a '
      'vendor name next to the value.\n' % (
          ' (%s)' % a.trivy_rev[:12] if a.trivy_rev else '',
          ' (%s)' % a.gitleaks_rev[:12] if a.gitleaks_rev else ''))
    body = []
    summary = []
    for peer, ids, mapping in (('Trivy', tids, tmap), ('Gitleaks', gids, gmap)):
        sub = []
        c = table(sub.append, peer, ids, mapping, ours)
        summary.append('| %s | %d | %d | %d | %d |' % (
            peer, len(ids), c['specific'], c['generic'], c['not covered']))
        body.append('\n## %s (%d rule ids)\n' % (peer, len(ids)))
        body.extend(sub)
        gone = sorted(pid for pid in mapping if pid not in ids)
        if gone:
            body.append('\nIds %s configs may still name, no longer in its list: %s.' % (
                peer, '; '.join('`%s` (%s)' % (pid, mapping[pid][1]) for pid in gone)))
    w('| peer | rule ids | specific | generic | not covered (reason given) |')
    w('| --- | --- | --- | --- | --- |')
    lines.extend(summary)
    lines.extend(body)
    with open(a.output, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
