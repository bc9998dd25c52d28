#!/usr/bin/env python3
"""gitleaks_corpus.py - measures stowaway's rules against Gitleaks' own rule
samples (../shared/corpus/gitleaks-samples.jsonl, MIT): every sample becomes
a file in one tar layer, the real binary scans that layer (--format json),
and the findings are mapped back to the samples.

  recall       share of the literal true positives (kind "tp", not
               "generated") found by SOME stowaway rule;
  false alarms negatives (kind "fp") on which the stowaway rule(s) that
               correspond to the Gitleaks rule fired (another rule firing
               is allowed, as in Gitleaks' own tests).

Prints a Markdown report (committed as tests/accuracy.md) and exits 1 when
recall is below --min-recall or there are more than --max-false-alarms.
Sample text is never printed in full: misses show the rule and 12
characters."""
import argparse, io, json, os, re, subprocess, sys, tarfile, tempfile, time
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# Gitleaks rule id -> regex over stowaway rule ids that stand for the same
# credential. A negative "fires" only when one of these fires on it.
GENERIC = r'^(?:generic-|http-|curl-)|-url-password$'
FAMILY = {
    '1password-secret-key': r'^onepassword-secret-key$',
    '1password-service-account-token': r'^onepassword-service-account-token$',
    'aws-amazon-bedrock-api-key-long-lived': r'^aws-bedrock-api-key$',
    'aws-amazon-bedrock-api-key-short-lived': r'^aws-bedrock-short-lived-key$',
    'anthropic-admin-api-key': r'^anthropic-admin-key$',
    'anthropic-api-key': r'^anthropic-api-key$',
    'artifactory-api-key': r'^jfrog-api-key$',
    'artifactory-reference-token': r'^jfrog-reference-token$',
    'atlassian-api-token': r'^atlassian-api-token',
    'aws-access-token': r'^aws-access-key-(?:id|pair)$',
    'azure-ad-client-secret': r'^azure-ad-client-secret$',
    'beamer-api-token': r'^beamer-',
    'clickhouse-cloud-api-secret-key': r'^clickhouse-',
    'cloudflare-api-key': r'^cloudflare-api-token$',
    'cloudflare-global-api-key': r'^cloudflare-global-api-key$',
    'cloudflare-origin-ca-key': r'^cloudflare-origin-ca-key$',
    'cohere-api-token': r'^cohere-',
    'curl-auth-header': r'^(?:curl-header-credential|http-basic-auth-header|http-bearer-auth-header)$',
    'curl-auth-user': r'^curl-basic-auth$',
    'databricks-api-token': r'^databricks-',
    'discord-client-id': r'^discord-client-secret$',
    'discord-client-secret': r'^discord-client-secret$',
    'easypost-api-token': r'^easypost-api-key$',
    'easypost-test-api-token': r'^easypost-test-api-key$',
    'facebook-page-access-token': r'^facebook-page-access-token$',
    'flyio-access-token': r'^flyio-',
    'freemius-secret-key': r'^freemius-',
    'gcp-api-key': r'^google-api-key$',
    'generic-api-key': GENERIC,
    'github-app-token': r'^github-(?:app|user-to-server)-token$',
    'github-fine-grained-pat': r'^github-fine-grained-pat$',
    'github-oauth': r'^github-oauth-token$',
    'github-pat': r'^github-pat$',
    'github-refresh-token': r'^github-refresh-token$',
    'gitlab-pat': r'^gitlab-pat$',
    'gitlab-pat-routable': r'^gitlab-pat$',
    'gitlab-ptt': r'^gitlab-pipeline-trigger-token$',
    'gitlab-rrt': r'^gitlab-runner-registration-token$',
    'gitlab-runner-authentication-token-routable': r'^gitlab-runner-token$',
    'grafana-cloud-api-token': r'^grafana-cloud-token$',
    'grafana-service-account-token': r'^grafana-service-account-token$',
    'hashicorp-tf-api-token': r'^terraform-cloud-token$',
    'hashicorp-tf-password': r'^terraform-password$',
    'huggingface-access-token': r'^huggingface-token$',
    'huggingface-organization-api-token': r'^huggingface-org-token$',
    'infracost-api-token': r'^infracost-',
    'jwt-base64': r'^jwt-base64$',
    'kubernetes-secret-yaml': r'^kubernetes-secret-data$',
    'mailchimp-api-key': r'^mailchimp-',
    'cisco-meraki-api-key': r'^cisco-meraki',
    'notion-api-token': r'^notion-',
    'nuget-config-password': r'^nuget-config-password$',
    'octopus-deploy-api-key': r'^octopus-',
    'okta-access-token': r'^okta-',
    'openshift-user-token': r'^openshift-',
    'perplexity-api-key': r'^perplexity-',
    'prefect-api-token': r'^prefect-',
    'privateai-api-token': r'^privateai',
    'private-key': r'private-key$',
    'pkcs12-file': r'(?:pkcs12|p12|pfx)',
    'pulumi-api-token': r'^pulumi-',
    'readme-api-token': r'^readme-',
    'sentry-org-token': r'^sentry-org-token$',
    'sentry-user-token': r'^sentry-user-token$',
    'slack-bot-token': r'^slack-bot-token$',
    'slack-user-token': r'^slack-user-token$',
    'slack-config-access-token': r'^slack-config-access-token$',
    'slack-config-refresh-token': r'^slack-config-refresh-token$',
    'slack-legacy-bot-token': r'^slack-legacy-bot-token$',
    'slack-legacy-workspace-token': r'^slack-workspace-token$',
    'slack-legacy-token': r'^slack-legacy-token$',
    'sourcegraph-access-token': r'^sourcegraph-',
    'stripe-access-token': r'^stripe-',
    'square-access-token': r'^square-access-token$',
    'sumologic-access-id': r'^sumologic-access-id$',
    'sumologic-access-token': r'^sumologic-access-key$',
    'telegram-bot-api-token': r'^telegram-',
    'vault-service-token': r'^vault-(?:service|legacy)-token$',
    'etsy-access-token': r'^etsy-',
    'settlemint-application-access-token': r'^settlemint-',
    'settlemint-personal-access-token': r'^settlemint-',
    'settlemint-service-access-token': r'^settlemint-',
}
# Ids of Gitleaks' detector tests (not tied to one rule's format).
DETECTOR_TESTS_FROM = 6366


def family(glid):
    if glid in FAMILY:
        return re.compile(FAMILY[glid])
    return re.compile('^' + re.escape(glid.split('-')[0]) + '-')


def load(path):
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip()]


def build_layer(samples, out):
    """One tar layer: sample i at samples/<i>/<its path or sample.txt>."""
    with tarfile.open(out, 'w') as tar:
        for i, s in enumerate(samples):
            name = s.get('path') or 'sample.txt'
            data = s['text'].encode('utf-8', 'surrogatepass')
            ti = tarfile.TarInfo('samples/%05d/%s' % (i, name.lstrip('/')))
            ti.size = len(data)
            ti.mode = 0o644
            tar.addfile(ti, io.BytesIO(data))


def scan(binary, layer):
    t = time.time()
    p = subprocess.run([binary, 'scan', '--no-db', '--format', 'json', '--fail-on', 'info', '-q', layer],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1):
        sys.stderr.write(p.stderr.decode(errors='replace'))
        raise SystemExit('stowaway failed with exit status %d' % p.returncode)
    hits = defaultdict(list)
    for f in json.loads(p.stdout)['findings']:
        m = re.match(r'samples/(\d+)/', f['path'] or '')
        if m:
            hits[int(m.group(1))].append(f['rule'])
    return hits, time.time() - t


def preview(text):
    t = text.strip().replace('\n', ' ').replace('|', '\\|').replace('`', "'")
    return '`' + t[:12] + '…`' + ' (%d chars)' % len(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--stowaway', default=os.environ.get('STOWAWAY', os.path.join(REPO, 'build', 'stowaway')))
    ap.add_argument('--corpus', default=os.environ.get('STW_GITLEAKS_CORPUS', os.path.join(
        REPO, '..', 'shared', 'corpus', 'gitleaks-samples.jsonl')))
    ap.add_argument('--min-recall', type=float, default=0.98)
    ap.add_argument('--max-false-alarms', type=int, default=0)
    ap.add_argument('-o', '--output', help='write the Markdown report here too')
    a = ap.parse_args()
    samples = load(a.corpus)
    with tempfile.TemporaryDirectory() as d:
        layer = os.path.join(d, 'gitleaks-samples.tar')
        build_layer(samples, layer)
        hits, secs = scan(a.stowaway, layer)

    per = defaultdict(lambda: [0, 0, 0, 0, 0])  # tp, found, gen, gen found, fp fired
    fp_total = Counter()
    misses, alarms = [], []
    lit = {'rules': [0, 0], 'detector': [0, 0]}
    gen = [0, 0]
    for i, s in enumerate(samples):
        g, found = s['rule'], hits.get(i, [])
        if s['kind'] == 'tp' and s.get('generated'):
            gen[0] += 1
            gen[1] += bool(found)
            per[g][2] += 1
            per[g][3] += bool(found)
        elif s['kind'] == 'tp':
            part = 'detector' if i >= DETECTOR_TESTS_FROM else 'rules'
            lit[part][0] += 1
            lit[part][1] += bool(found)
            per[g][0] += 1
            per[g][1] += bool(found)
            if not found:
                misses.append((g, i, s))
        else:
            fp_total[g] += 1
            fam = family(g)
            fired = sorted({r for r in found if fam.search(r)})
            if fired:
                per[g][4] += 1
                alarms.append((g, i, fired, s))
    n_lit = lit['rules'][0] + lit['detector'][0]
    f_lit = lit['rules'][1] + lit['detector'][1]
    # The threshold applies to the literal samples of Gitleaks' rule tests
    # (981, the corpus README's "literal" count); the detector tests exercise
    # Gitleaks' engine (decoding, allowlists), not a credential format.
    recall = lit['rules'][1] / lit['rules'][0] if lit['rules'][0] else 0.0
    pct = lambda a_, b_: '%.1f %%' % (100.0 * a_ / b_) if b_ else '-'
    out = []
    w = out.append
    w('# Accuracy against Gitleaks\' rule samples\n')
    w('Generated by `bench/accuracy/gitleaks_corpus.py` (run by `tests/cli/test_accuracy.sh`); do not edit by hand.')
    w('Every sample of `gitleaks-samples.jsonl` is a file in one tar layer scanned by the real binary '
      '(%d samples, scanned in %.2f s).\n' % (len(samples), secs))
    w('| measure | result |')
    w('| --- | --- |')
    w('| literal true positives of Gitleaks\' rule tests | %d / %d = **%s** (threshold %.0f %%) |'
      % (lit['rules'][1], lit['rules'][0], pct(lit['rules'][1], lit['rules'][0]), 100 * a.min_recall))
    w('| all literal true positives, incl. detector tests | %d / %d = %s |' % (f_lit, n_lit, pct(f_lit, n_lit)))
    w('| Gitleaks\' detector tests (generic, not one format) | %d / %d = %s |' % (lit['detector'][1], lit['detector'][0], pct(lit['detector'][1], lit['detector'][0])))
    w('| generated true positives found (for information) | %d / %d = %s |' % (gen[1], gen[0], pct(gen[1], gen[0])))
    w('| negatives on which the corresponding rule fired | **%d** / %d (threshold %d) |' % (len(alarms), sum(fp_total.values()), a.max_false_alarms))
    w('')
    w('## Per Gitleaks rule\n')
    w('| Gitleaks rule | literal tp found | generated tp found | negatives fired |')
    w('| --- | --- | --- | --- |')
    for g in sorted(set(per) | set(fp_total)):
        t, f, gt, gf, fa = per[g]
        w('| %s | %s | %s | %s |' % (g, '%d/%d' % (f, t) if t else '-', '%d/%d' % (gf, gt) if gt else '-',
                                     '%d/%d' % (fa, fp_total[g]) if fp_total[g] else '-'))
    w('\n## Literal true positives missed\n')
    for g, i, s in misses:
        w('- %s (sample %d): %s' % (g, i, preview(s['text'])))
    if not misses:
        w('None.')
    w('\n## Negatives that fired the corresponding rule\n')
    for g, i, fired, s in alarms:
        w('- %s (sample %d): %s fired on %s' % (g, i, ', '.join(fired), preview(s['text'])))
    if not alarms:
        w('None.')
    text = '\n'.join(out) + '\n'
    sys.stdout.write(text)
    if a.output:
        # tests/accuracy.md carries own_corpus.py's report after a marker
        # line: keep it.
        tail = ''
        if os.path.exists(a.output):
            with open(a.output, encoding='utf-8') as f:
                old = f.read()
            i = old.find('<!-- own corpus:')
            tail = '\n' + old[i:] if i >= 0 else ''
        with open(a.output, 'w') as f:
            f.write(text + tail)
    ok = recall >= a.min_recall and len(alarms) <= a.max_false_alarms
    if not ok:
        sys.stderr.write('accuracy below threshold: recall %.4f (min %.2f), false alarms %d (max %d)\n'
                         % (recall, a.min_recall, len(alarms), a.max_false_alarms))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
