#!/usr/bin/env python3
"""own_corpus.py - precision and recall of stowaway per rule and overall on
its own labelled corpus (tests/corpus/): every labelled file is packed into
a tar layer with Python's tarfile, the real binary scans the layers
(--format json --no-db), and each finding is compared with the labels.

Labels (one JSON object per line):
  tests/corpus/labels.jsonl   hand-written realistic files under
                              tests/corpus/files/ (READMEs with documented
                              keys, test suites, minified JS, lockfiles,
                              binaries, hashes, UUIDs, ...);
  tests/corpus/derived.jsonl  every rule's examples in other contexts,
                              written by tests/corpus/derive.py.
Each has "path" (inside the image; the content is tests/corpus/files/PATH,
or "file", or "text"/"b64" inline, or "make": see make()), "expect" (rule ids, repeated when a
rule must fire more than once; [] for a negative) and "reason"; "judge"
(derived records) limits the judgement to the named rules, since a rule's
example says what that rule must do, not what other rules make of it.
Realistic files are judged on every rule: any unlabelled finding on them
is a false positive.

Counting is per (file, rule) (see "Found under another rule" in the
report for the one exception): found n times where m are expected gives
min(n, m) true positives, n - m false positives when n > m, m - n misses
when m > n. Prints a Markdown report and exits 1 when overall precision or
recall is below --min-precision / --min-recall, when more than
--max-false-positives findings fire on files labelled negative for that
rule, or when a rule has no true or no false positive in the corpus.
Secrets are never printed: findings are named by file and rule."""
import argparse, base64, io, json, os, random, subprocess, sys, tarfile, tempfile, time
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(REPO, 'tests', 'corpus')


def make(corpus, how):
    """Files that are not committed as bytes: {"cc": SOURCE} compiles a C
    source of the corpus with the system compiler (a real ELF binary with
    the strings where a compiler puts them); {"random": [SEED, SIZE]} is
    seeded random bytes."""
    if 'cc' in how:
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, 'a.out')
            subprocess.run([os.environ.get('CC', 'cc'), '-O2', '-o', out,
                            os.path.join(corpus, 'files', how['cc'])], check=True)
            with open(out, 'rb') as f:
                return f.read()
    seed, size = how['random']
    return random.Random(seed).randbytes(size)


def load(corpus):
    recs = []
    for name in ('labels.jsonl', 'derived.jsonl'):
        with open(os.path.join(corpus, name), encoding='utf-8') as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                r = json.loads(line)
                if 'text' in r:
                    r['data'] = r['text'].encode('utf-8')
                elif 'b64' in r:
                    r['data'] = base64.b64decode(r['b64'])
                elif 'make' in r:
                    r['data'] = make(corpus, r['make'])
                else:
                    with open(os.path.join(corpus, 'files', r.get('file', r['path'])), 'rb') as fh:
                        r['data'] = fh.read()
                r['source'] = '%s:%d' % (name, n)
                recs.append(r)
    return recs


def build_layers(recs, d):
    """Each record at its own path; records whose path is taken already
    (etc/shadow of two examples) go to the next layer. Every layer is a
    separate target, so nothing overlays anything."""
    layers = []
    for i, r in enumerate(recs):
        for k, paths in enumerate(layers):
            if r['path'] not in paths:
                break
        else:
            layers.append({})
            k = len(layers) - 1
        layers[k][r['path']] = i
    files = []
    for k, paths in enumerate(layers):
        fn = os.path.join(d, 'corpus-%d.tar' % k)
        with tarfile.open(fn, 'w') as tar:
            for p, i in sorted(paths.items()):
                data = recs[i]['data']
                ti = tarfile.TarInfo(p)
                ti.size = len(data)
                ti.mode = 0o644
                ti.mtime = 1700000000
                tar.addfile(ti, io.BytesIO(data))
        files.append(fn)
    return files, layers


def scan(binary, files):
    t = time.time()
    p = subprocess.run([binary, 'scan', '--no-db', '--format', 'json', '--fail-on', 'info', '-q'] + files,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1):
        sys.stderr.write(p.stderr.decode(errors='replace'))
        raise SystemExit('stowaway failed with exit status %d' % p.returncode)
    return json.loads(p.stdout), time.time() - t


def rule_ids(binary):
    p = subprocess.run([binary, 'rules', 'list'], stdout=subprocess.PIPE, check=True)
    lines = p.stdout.decode().splitlines()
    return [l.split()[0] for l in lines[1:-1] if l.strip()] if lines and lines[0].split()[0] == 'ID' \
        else [l.split()[0] for l in lines[:-1] if l.strip()]


MARKER = '<!-- own corpus: written by bench/accuracy/own_corpus.py --update -->'


def stock_section(w):
    """What tests/stock-findings.yaml expects on stock content (the list
    itself is the reference; this is its summary)."""
    try:
        import yaml
        with open(os.path.join(REPO, 'tests', 'stock-findings.yaml'), encoding='utf-8') as f:
            stock = yaml.safe_load(f) or {}
    except (ImportError, OSError):
        return
    w('\n# Findings on stock content\n')
    w('`tests/cli/test_stock_images.sh` scans a `debootstrap --variant=minbase bookworm` root filesystem and a '
      '`node_modules` tree of 17 popular npm packages (`tests/stock/npm/`, installed from its lockfile) and fails '
      'unless the findings equal `tests/stock-findings.yaml` (path, rule, severity; every entry has a reason). '
      'Building the content needs the network and about two minutes, so the test is **opt-in**: '
      '`STW_STOCK_IMAGES=1` builds it into `<build dir>/stock-cache` (later runs reuse it and take seconds); '
      'without the cache and the variable it is skipped. `tests/cli/test_own_corpus.sh` and '
      '`tests/cli/test_accuracy.sh` run in the default suite (a few seconds each under ASan).\n')
    w('| content | findings | by severity |')
    w('| --- | --- | --- |')
    for name, entries in stock.items():
        sev = Counter(e['severity'] for e in entries or [])
        w('| %s | %d | %s |' % (name, len(entries or []), ', '.join(
            '%s %d' % (k, sev[k]) for k in ('critical', 'high', 'medium', 'low', 'info') if sev[k]) or '-'))
    w('\nNothing on stock content is reported above low: the setuid/setgid programs of the base system are '
      'low, and the published keys and documentation examples that packages ship (GnuTLS self-test keys, '
      'AWS API reference examples in aws-sdk, a demo key in the MUI docs, a URL-parser fixture) are info by '
      'their sha256 in `signatures/known-test-keys.yaml`, each with its source. Placeholders such as '
      '`AKIAIOSFODNN7EXAMPLE` are dropped and not listed.')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--stowaway', default=os.environ.get('STOWAWAY', os.path.join(REPO, 'build', 'stowaway')))
    ap.add_argument('--corpus', default=CORPUS)
    ap.add_argument('--min-precision', type=float, default=1.0)
    ap.add_argument('--min-recall', type=float, default=1.0)
    ap.add_argument('--max-false-positives', type=int, default=0)
    ap.add_argument('-o', '--output', help='write the Markdown report here too')
    ap.add_argument('--update', metavar='ACCURACY_MD',
                    help='replace (or append) this report as the section of ACCURACY_MD after the '
                         'marker line, keeping what comes before it (tests/accuracy.md)')
    a = ap.parse_args()

    recs = load(a.corpus)
    with tempfile.TemporaryDirectory() as d:
        files, layers = build_layers(recs, d)
        report, secs = scan(a.stowaway, files)
    # image index -> layer path -> record
    where = {}
    for k, paths in enumerate(layers):
        for p, i in paths.items():
            where[(k, p)] = i
    found = defaultdict(Counter)
    stray = []
    for f in report['findings']:
        i = where.get((f['image'], f['path']))
        if i is None:
            stray.append(f)
            continue
        found[i][f['rule']] += 1

    per = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    has_pos, has_neg = Counter(), Counter()
    misses, alarms, instead = [], [], []
    for i, r in enumerate(recs):
        want = Counter(r['expect'])
        got = found.get(i, Counter())
        if 'judge' in r:
            mine = Counter({k: v for k, v in got.items() if k in r['judge']})
            # One finding per secret and file: when a broader rule reports
            # the same secret at a higher severity (a JWT in an
            # Authorization header), the example's secret is still found.
            others = sorted(k for k in got if k not in r['judge'])
            for rule in r['expect']:
                if not mine[rule] and others:
                    mine[rule] = 1
                    instead.append((rule, r, others))
            got = mine
        for rule in set(want) | set(got):
            w, g = want[rule], got[rule]
            per[rule][0] += min(w, g)
            if g > w:
                per[rule][1] += g - w
                alarms.append((rule, r, g - w))
            if w > g:
                per[rule][2] += w - g
                misses.append((rule, r, w - g))
        for rule in want:
            has_pos[rule] += 1
        if r.get('kind') == 'fp' and r.get('rule'):
            has_neg[r['rule']] += 1
        elif not r['expect']:
            has_neg['*'] += 1
    tp = sum(v[0] for v in per.values())
    fp = sum(v[1] for v in per.values())
    fn = sum(v[2] for v in per.values())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    rules = rule_ids(a.stowaway)
    uncovered = [x for x in rules if not has_pos[x] or not has_neg[x]]
    n_real = sum(1 for r in recs if r['source'].startswith('labels'))
    n_neg = sum(1 for r in recs if not r['expect'])

    out = [MARKER, '']
    w = out.append
    w('# Accuracy on stowaway\'s own labelled corpus\n')
    w('Generated by `bench/accuracy/own_corpus.py` (run by `tests/cli/test_own_corpus.sh`); do not edit by hand.')
    w('%d labelled files (%d realistic ones in `tests/corpus/files/`, %d derived from every rule\'s examples '
      'by `tests/corpus/derive.py`; %d of them negatives), packed into %d tar layers and scanned by the real '
      'binary in %.2f s.\n' % (len(recs), n_real, len(recs) - n_real, n_neg, len(files), secs))
    w('| measure | result |')
    w('| --- | --- |')
    w('| precision (all findings) | %d / %d = **%.4f** (threshold %.2f) |' % (tp, tp + fp, precision, a.min_precision))
    w('| recall (all labelled secrets) | %d / %d = **%.4f** (threshold %.2f) |' % (tp, tp + fn, recall, a.min_recall))
    w('| false positives | **%d** (threshold %d) |' % (fp, a.max_false_positives))
    w('| rules without a true and a false positive in the corpus | %d of %d |' % (len(uncovered), len(rules)))
    w('')
    w('## Realistic files\n')
    w('| file | expected | found | why |')
    w('| --- | --- | --- | --- |')
    for i, r in enumerate(recs):
        if not r['source'].startswith('labels'):
            continue
        got = found.get(i, Counter())
        fmt = lambda c: ', '.join('%s%s' % (k, ' x%d' % v if v > 1 else '') for k, v in sorted(c.items())) or 'none'
        w('| `%s` | %s | %s | %s |' % (r['path'], fmt(Counter(r['expect'])), fmt(got), r['reason'].replace('|', '\\|')))
    w('\n## Per rule\n')
    w('| rule | labelled | found | false positives | precision | recall |')
    w('| --- | --- | --- | --- | --- | --- |')
    for rule in sorted(set(rules) | set(per)):
        t_, f_, n_ = per[rule]
        w('| %s | %d | %d | %d | %s | %s |' % (rule, t_ + n_, t_, f_, '%.3f' % (t_ / (t_ + f_)) if t_ + f_ else '-',
                                              '%.3f' % (t_ / (t_ + n_)) if t_ + n_ else '-'))
    w('\n## Found under another rule\n')
    w('A derived true positive whose secret another rule reports instead (a scan keeps one finding per '
      'secret and file: the most severe, then the most specific). Counted as found.\n')
    for rule, r, others in instead:
        w('- %s: `%s` reported as %s' % (rule, r['path'], ', '.join(others)))
    if not instead:
        w('None.')
    w('\n## Missed\n')
    for rule, r, n in misses:
        w('- %s: `%s` (%s)%s' % (rule, r['path'], r['reason'], ' x%d' % n if n > 1 else ''))
    if not misses:
        w('None.')
    w('\n## False positives\n')
    for rule, r, n in alarms:
        w('- %s on `%s` (%s)%s' % (rule, r['path'], r['reason'], ' x%d' % n if n > 1 else ''))
    if not alarms:
        w('None.')
    if uncovered:
        w('\n## Rules the corpus does not cover (run tests/corpus/derive.py)\n')
        for x in uncovered:
            w('- %s (%d positives, %d negatives)' % (x, has_pos[x], has_neg[x]))
    stock_section(w)
    text = '\n'.join(out) + '\n'
    sys.stdout.write(text)
    if a.output:
        with open(a.output, 'w') as f:
            f.write(text)
    if a.update:
        with open(a.update, encoding='utf-8') as f:
            old = f.read()
        head = old.split(MARKER)[0].rstrip('\n')
        with open(a.update, 'w', encoding='utf-8') as f:
            f.write(head + '\n\n' + text)
    bad = []
    if precision < a.min_precision:
        bad.append('precision %.4f < %.4f' % (precision, a.min_precision))
    if recall < a.min_recall:
        bad.append('recall %.4f < %.4f' % (recall, a.min_recall))
    if fp > a.max_false_positives:
        bad.append('%d false positives > %d' % (fp, a.max_false_positives))
    if uncovered:
        bad.append('%d rules not covered' % len(uncovered))
    if stray:
        bad.append('%d findings outside the corpus files' % len(stray))
    if bad:
        sys.stderr.write('own corpus below threshold: %s\n' % '; '.join(bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
