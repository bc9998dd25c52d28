#!/usr/bin/env bash
# test_artifacts.sh - the `COPY . .` image: a stock-looking base layer that
# must stay quiet, an app layer carrying .git/ (token in the remote URL),
# editor/CI metadata, a key store and credential files, and a layer that
# deletes .git/. Checks COPY-artifacts (one finding per directory, remote
# redacted, third-party trees quiet) and the credential-file rules, through
# the real CLI, fresh and from the layer cache.
. "$(dirname "$0")/lib.sh"

IMG="$WORKDIR/copy-dot.docker.tar"
# A token with a valid checksum: a wrong one is no token, and no rule
# (not even a generic one) reports it.
TOKEN="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"

python3 - "$IMG" "$TOKEN" <<'PY' || fail "image generator failed"
import hashlib, io, json, sys, tarfile

out, token = sys.argv[1], sys.argv[2]

def layer(files):
    """files: (path, bytes or None for a directory, mode)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, data, mode in files:
            ti = tarfile.TarInfo(path)
            ti.mtime = 1700000000
            ti.mode = mode
            if data is None:
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            else:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()

def F(path, data, mode=0o644):
    return (path, data if isinstance(data, bytes) else data.encode(), mode)

def D(path):
    return (path, None, 0o755)

CERT = ("-----BEGIN CERTIFICATE-----\n"
        "MIIBszCCAVmgAwIBAgIUYmFzZTY0LWNlcnRpZmljYXRlLWJvZHkwCgYIKoZIzj0E\n"
        "-----END CERTIFICATE-----\n")
stock_shadow = ("root:*:19745:0:99999:7:::\ndaemon:*:19745:0:99999:7:::\n"
                "_apt:*:19745:0:99999:7:::\nnobody:*:19745:0:99999:7:::\n")
l0 = layer([
    D("etc"), F("etc/shadow", stock_shadow, 0o640), F("etc/shadow-", stock_shadow, 0o600),
    F("etc/gshadow", "root:*::\nshadow:*::\n", 0o640),
    F("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"),
    D("etc/ssl"), D("etc/ssl/certs"), F("etc/ssl/certs/ca-certificates.crt", CERT),
    F("etc/ssl/certs/java.jks", b"\xfe\xed\xfe\xed\x00\x00\x00\x02"),
    D("usr"), D("usr/share"), D("usr/share/doc"), D("usr/share/doc/git"),
    F("usr/share/doc/git/README", "see .git/config and Dockerfile\n"),
    D("usr/local/lib/node_modules/npm/node_modules/ip/.github"),
    F("usr/local/lib/node_modules/npm/node_modules/ip/.github/dependabot.yml", "x\n"),
    F("usr/local/lib/node_modules/npm/node_modules/ip/Dockerfile", "FROM node\n"),
])

git_config = ('[core]\n\trepositoryformatversion = 0\n[remote "origin"]\n'
              '\turl = https://deploy:%s@git.example.com/acme/app.git\n'
              '\tfetch = +refs/heads/*:refs/remotes/origin/*\n' % token)
app = [D("app"), D("app/.git"), F("app/.git/HEAD", "ref: refs/heads/main\n"),
       F("app/.git/config", git_config)]
for i in range(100):
    app.append(F("app/.git/objects/%02x/%038x" % (i, i), b"x\x01" * 20))
app += [
    F("app/.env", "NODE_ENV=production\nDB_PASSWORD=Vq8zM3kX7pLw2\n", 0o600),
    F("app/.env.example", "DB_PASSWORD=secret\nJWT_SECRET=your_jwt_secret_here\n"
      "API_TOKEN=<your-api-token>\nSTRIPE_SECRET_KEY=sk_test_xxxxxxxxxxxxxxxx\n"),
    F("app/Dockerfile", "FROM node:20\nCOPY . .\n"),
    F("app/.dockerignore", "node_modules\n"),
    F("app/.gitlab-ci.yml", "test:\n  script: npm test\n"),
    D("app/.github"), D("app/.github/workflows"),
    F("app/.github/workflows/ci.yml", "on: push\n"),
    F("app/.github/CODEOWNERS", "* @acme\n"),
    F("app/.vscode/settings.json", "{}\n"),
    F("app/node_modules/left-pad/.github/workflows/ci.yml", "on: push\n"),
    F("app/node_modules/left-pad/.git/HEAD", "ref: refs/heads/master\n"),
    F("app/node_modules/left-pad/index.js", "module.exports = 1\n"),
    F("app/certs/client.p12", b"\x30\x82\x0a\x5a\x02\x01\x03\x30\x82\x0a\x20"),
    F("root/.docker/config.json",
      '{"auths":{"registry.example.com":{"auth":"ZGVwbG95OlRyMHViNGRvci1hbmQtMy1tb3JlLXdvcmRz"}}}'),
    F("root/.npmrc", "//registry.npmjs.org/:_authToken=npm_Zq4T9wLm2Xc7Vb1Nh8Kd3Rf6Gp0Sj5Ya2Eu7\n"),
    F("root/.bash_history", "ls\nmysql -h db -uroot -pK9v2QxL7 app\nexit\n"),
    F("etc/shadow", stock_shadow + "app:$6$rT5mK2vQ$Xb9nL4wZ7pC2yH6dF0gJ2sA8eU4oI7mX3zR5vB9nQ1cKx7mLq2Pz.:19745:0:99999:7:::\n", 0o640),
]
l1 = layer(app)
l2 = layer([D("app"), F("app/.wh..git", b"")])

layers = [l0, l1, l2]
history = ["ADD rootfs.tar /", "COPY . /app", "RUN rm -rf /app/.git"]
cfg = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
    "rootfs": {"type": "layers",
               "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]},
    "history": [{"created_by": h} for h in history]}).encode()
cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
members, paths = [], []
for l in layers:
    d = hashlib.sha256(l).hexdigest()
    members.append((d + "/layer.tar", l))
    paths.append(d + "/layer.tar")
members.append((cfg_name, cfg))
members.append(("manifest.json", json.dumps(
    [{"Config": cfg_name, "RepoTags": ["test/copy-dot:1"], "Layers": paths}]).encode()))
with tarfile.open(out, "w") as t:
    for name, data in members:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mtime = 1700000000
        t.addfile(ti, io.BytesIO(data))
PY

# What check_report checks, as a cj_all table.
report_table() {
    cat <<'EOF'
# The stock layer is quiet: shadow without hashes, CA certificates and
# trust stores, packages' .github/ and Dockerfile.
none layer=0 # the stock base layer produced findings

# COPY-artifacts
count 1 path=app/.git # want one finding for app/.git
has path=app/.git kind=artifact rule=git-directory severity=high \
    layer=1 visible=false removed_in_layer=2 \
    # app/.git must be high, from layer 1, deleted in layer 2
has path=app/.git \
    'detail~remote origin https://deploy:\*\*\*\*@git\.example\.com/acme/app\.git' \
    # app/.git detail must carry the redacted remote
has path=app/.git 'excerpt~^ghp_' \
    # app/.git must carry the credential's redacted excerpt
# Files inside .git are not artifacts of their own; the token in
# .git/config is still a secret of its own (what Gitleaks would report).
none 'path~^app/\.git/.' kind=artifact \
    # a file inside .git reported as an artifact
has path=app/.git/config kind=secret 'excerpt~^ghp_' \
    # the token in app/.git/config must be a secret finding
count 1 path=app/.github kind=artifact rule=github-directory \
    severity=low visible=true # app/.github once, low
has path=app/.vscode rule=vscode-directory severity=low # app/.vscode
has path=app/Dockerfile rule=dockerfile severity=low # app/Dockerfile
has path=app/.dockerignore rule=dockerignore-file # app/.dockerignore
has path=app/.gitlab-ci.yml rule=gitlab-ci-file # app/.gitlab-ci.yml
has path=app/certs/client.p12 rule=keystore-file severity=high \
    # PKCS#12 key store by name
has path=app/node_modules/left-pad/.git severity=info \
    # a package's .git is info
none 'path~node_modules/left-pad/\.github' \
    # a package's .github must stay quiet

# credential files
has path=app/.env rule=env-file-secret kind=credential-file visible=true \
    # app/.env
none path=app/.env.example # .env.example fired
has path=root/.docker/config.json rule=docker-config-auth \
    # docker config auth
has path=root/.npmrc rule=npmrc-auth-token # .npmrc
has path=root/.bash_history rule=history-mysql-password \
    # mysql -p in bash history
count 1 path=etc/shadow rule=shadow-password-hash layer=1 \
    # one hashed shadow entry, in layer 1
EOF
}

# check_report REPORT [LINE]: report_table and LINE (one more table line)
# in one cj_all, and no secret in full in REPORT.
check_report() {
    local r=$1
    cj_all "$r" < <(report_table; [ -z "${2-}" ] || printf '%s\n' "$2")

    grep -q -F -e "$TOKEN" -e "K9v2QxL7" -e "Vq8zM3kX7pLw2" "$r" &&
        fail "$r: a secret appears in full"
    return 0
}

scan_json fresh "$IMG"
check_report "$WORKDIR/fresh.json"

note "again, from the layer cache"
scan_json cached "$IMG"
check_report "$WORKDIR/cached.json" \
    'eval all(l["cached"] for l in I[0]["layers"]) # second scan did not use the cache'
same_findings "$WORKDIR/fresh.json" "$WORKDIR/cached.json" \
    "fresh vs cached" --fingerprints
note "ok"
