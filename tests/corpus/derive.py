#!/usr/bin/env python3
"""derive.py - writes tests/corpus/derived.jsonl, the per-rule part of the
labelled corpus: every example of every rule in signatures/*.yaml, placed
in contexts that `stowaway rules test` does not try.

  config  the example between unrelated configuration lines, at the
          rule's example path (a tp must still fire, an fp stay quiet);
  binary  a one-line true positive of a content rule without a path,
          NUL-terminated between bytes of machine code (tokens hide in
          compiled programs), at usr/lib/.

The output is committed: it is ground truth, so a later change that
weakens a rule together with its examples still fails the corpus test.
Run it again after adding rules (bench/accuracy/own_corpus.py fails while
a rule has no true and no false positive in the corpus) and review the
diff: a changed line of an existing rule is a changed label.
Each record judges its own rule only ("judge": [rule]): an example says
whether that rule must fire, not what other rules make of it (a truncated
`OPENAI_API_KEY=sk-proj-...` is an fp of openai-project-key and rightly a
generic-secret; the tp of a service-account JSON also holds a PEM key).
The realistic files of labels.jsonl are judged on every rule."""
import argparse, base64, glob, json, os, random, sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

HEAD = '# settings written by the deploy job\nlog_level = info\nworkers = 4\n\n'
TAIL = '\n\ntimeout = 30\nretries = 3\n'

def machine_code(rnd, n):
    """Bytes that look like a compiled program: no printable runs long
    enough to matter, many NULs and high bytes."""
    out = bytearray()
    while len(out) < n:
        b = rnd.randrange(256)
        out.append(b if (b < 0x20 or b > 0x7e) else 0)
    return bytes(out)


def rules():
    for f in sorted(glob.glob(os.path.join(REPO, 'signatures', '*.yaml'))):
        with open(f, encoding='utf-8') as fh:
            d = yaml.safe_load(fh) or {}
        for r in d.get('rules') or []:
            yield os.path.basename(f), r


def derive():
    out = []
    for fname, r in rules():
        rid = r['id']
        ex = r.get('examples') or {}
        base = ex.get('path') or 'settings.conf'
        for kind in ('tp', 'fp'):
            for i, text in enumerate(ex.get(kind) or []):
                expect = [rid] if kind == 'tp' else []
                reason = '%s example %d of %s (%s) between config lines' % (kind, i + 1, rid, fname)
                path = base if base.startswith('etc/') else 'rules/%s/%s-%d/%s' % (rid, kind, i + 1, base)
                out.append({'path': path, 'text': HEAD + text + TAIL, 'rule': rid, 'kind': kind,
                            'judge': [rid], 'expect': expect, 'reason': reason})
                one_line = '\n' not in text.strip()
                if kind == 'tp' and one_line and 'path' not in r and r.get('kind', 'secret') == 'secret':
                    rnd = random.Random('%s:%d' % (rid, i))
                    blob = machine_code(rnd, 512) + text.strip().encode() + b'\0' + machine_code(rnd, 512)
                    out.append({'path': 'usr/lib/libcorpus-%s-%d.so' % (rid, i + 1),
                                'b64': base64.b64encode(blob).decode(), 'rule': rid, 'kind': kind,
                                'judge': [rid], 'expect': expect,
                                'reason': 'tp example %d of %s inside machine code' % (i + 1, rid)})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('-o', '--output', default=os.path.join(HERE, 'derived.jsonl'))
    a = ap.parse_args()
    text = ''.join(json.dumps(x, sort_keys=True) + '\n' for x in derive())
    with open(a.output, 'w', encoding='utf-8') as f:
        f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
