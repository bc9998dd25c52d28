# shellcheck shell=bash
# registry_lib.sh - a real registry for the CLI tests: Debian's
# docker-registry (distribution) on 127.0.0.1, a free port, filesystem
# storage under $WORKDIR, optionally with htpasswd basic auth, TLS from a CA
# made here, or blob downloads redirected to a second server. Source after
# lib.sh. Every server started is killed when the test exits.

REG_PIDS=""

reg_cleanup() {
    local p
    for p in $REG_PIDS; do
        kill "$p" 2>/dev/null || true
    done
    for p in $REG_PIDS; do
        wait "$p" 2>/dev/null || true
    done
}
at_exit reg_cleanup

# reg_require: skips the test (77) when the real tools are missing.
reg_require() {
    local t
    for t in docker-registry skopeo openssl htpasswd python3; do
        command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
    done
}

# reg_free_port: prints a TCP port free on 127.0.0.1 right now.
reg_free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# reg_wait_port PORT PID LOG: waits (at most ~15 s) until 127.0.0.1:PORT
# accepts connections; fails if the server died.
reg_wait_port() {
    local port=$1 pid=$2 log=$3 _
    for _ in $(seq 1 150); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -20 "$log" >&2
            fail "server on port $port exited at start"
        fi
        sleep 0.1
    done
    tail -20 "$log" >&2
    fail "server on port $port did not open within 15 s"
}

# reg_make_ca DIR: a CA and a server certificate for 127.0.0.1 signed by
# it: DIR/ca.pem, DIR/server.pem, DIR/server.key.
reg_make_ca() {
    local d=$1
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=stowaway test CA" \
        -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null ||
        fail "openssl: CA"
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null ||
        fail "openssl: server key"
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        >"$d/ext.cnf"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -CAcreateserial -days 2 -extfile "$d/ext.cnf" -out "$d/server.pem" \
        2>/dev/null || fail "openssl: server certificate"
}

# reg_start NAME [--htpasswd USER PASS] [--tls CADIR] [--redirect BASEURL]
#           [--token REALM CERT]
# Starts a registry storing under $WORKDIR/NAME. Sets REG_ADDR
# (127.0.0.1:PORT), REG_DIR, REG_LOG (with the access log) and REG_STORAGE.
reg_start() {
    local name=$1
    shift
    local user="" pass="" tls="" redirect="" realm="" tcert=""
    while [ $# -gt 0 ]; do
        case $1 in
        --token) realm=$2 tcert=$3; shift 3 ;;
        --htpasswd) user=$2 pass=$3; shift 3 ;;
        --tls) tls=$2; shift 2 ;;
        --redirect) redirect=$2; shift 2 ;;
        *) fail "reg_start: bad argument $1" ;;
        esac
    done
    REG_DIR="$WORKDIR/$name"
    REG_STORAGE="$REG_DIR/storage"
    REG_LOG="$REG_DIR/registry.log"
    mkdir -p "$REG_STORAGE"
    local port
    port=$(reg_free_port)
    REG_ADDR="127.0.0.1:$port"
    {
        echo "version: 0.1"
        echo "log:"
        echo "  level: info"
        echo "storage:"
        echo "  filesystem:"
        echo "    rootdirectory: $REG_STORAGE"
        echo "http:"
        echo "  addr: $REG_ADDR"
        echo "  secret: stowaway-test-secret"
        if [ -n "$tls" ]; then
            echo "  tls:"
            echo "    certificate: $tls/server.pem"
            echo "    key: $tls/server.key"
        fi
        if [ -n "$user" ]; then
            htpasswd -Bbn "$user" "$pass" >"$REG_DIR/htpasswd" ||
                fail "htpasswd failed"
            echo "auth:"
            echo "  htpasswd:"
            echo "    realm: stowaway-test"
            echo "    path: $REG_DIR/htpasswd"
        fi
        if [ -n "$realm" ]; then
            echo "auth:"
            echo "  token:"
            echo "    realm: $realm"
            echo "    service: stowaway-registry"
            echo "    issuer: stowaway-test"
            echo "    rootcertbundle: $tcert"
        fi
        if [ -n "$redirect" ]; then
            echo "middleware:"
            echo "  storage:"
            echo "    - name: redirect"
            echo "      options:"
            echo "        baseurl: $redirect"
        fi
    } >"$REG_DIR/config.yml"
    docker-registry serve "$REG_DIR/config.yml" >"$REG_LOG" 2>&1 &
    local pid=$!
    REG_PIDS="$REG_PIDS $pid"
    reg_wait_port "$port" "$pid" "$REG_LOG"
}

# reg_push OCIDIR TAG DEST [skopeo args...]: copies oci:OCIDIR:TAG to
# docker://DEST (e.g. 127.0.0.1:PORT/fixture/base:1) with skopeo.
reg_push() {
    local dir=$1 tag=$2 dest=$3
    shift 3
    skopeo --insecure-policy copy -q --dest-tls-verify=false "$@" \
        "oci:$dir:$tag" "docker://$dest" >"$WORKDIR/skopeo.log" 2>&1 || {
        cat "$WORKDIR/skopeo.log" >&2
        fail "skopeo copy oci:$dir:$tag docker://$dest"
    }
}

# reg_layers_of DEST [skopeo args...]: prints the layer digests skopeo
# sees in DEST's manifest, one per line.
reg_layers_of() {
    local dest=$1
    shift
    skopeo --insecure-policy inspect --tls-verify=false --raw "$@" \
        "docker://$dest" | python3 -c 'import json,sys
for l in json.load(sys.stdin)["layers"]:
    print(l["digest"])'
}

# reg_serve_py NAME PORT SCRIPT ARGS...: runs a small python server from
# this file on 127.0.0.1:PORT in the background (killed on exit).
reg_serve_py() {
    local name=$1 port=$2 script=$3
    shift 3
    python3 -c "$script" "$port" "$@" >"$WORKDIR/$name.log" 2>&1 &
    local pid=$!
    REG_PIDS="$REG_PIDS $pid"
    reg_wait_port "$port" "$pid" "$WORKDIR/$name.log"
}

# Blob storage behind a redirect: serves the files of a registry's storage
# directory (with Range), logging each request, when, and whether it
# carried credentials. MODE "flaky" answers the first GET of each file 503
# with Retry-After: 1; "cut" sends half of it and drops the connection.
# shellcheck disable=SC2034 # used by the sourcing test
REG_FILE_SERVER='
import http.server, os, re, sys, time
port, root, log, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
seen = set()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        rel = os.path.normpath(self.path.split("?")[0]).lstrip("/")
        full = os.path.join(root, rel)
        rng = self.headers.get("Range", "")
        first = rel not in seen
        seen.add(rel)
        with open(log, "a") as f:
            f.write("%.3f GET /%s auth=%s range=%s\n" % (time.time(), rel,
                    "yes" if self.headers.get("Authorization") else "no",
                    rng or "-"))
        if rel.startswith("..") or not os.path.isfile(full):
            self.send_error(404)
            return
        if first and mode == "flaky":
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(full, "rb") as f:
            data = f.read()
        m = re.match(r"bytes=(\d+)-$", rng)
        start = int(m.group(1)) if m else 0
        self.send_response(206 if m else 200)
        if m:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (
                start, len(data) - 1, len(data)))
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if first and mode == "cut" and len(data) > 1024:
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data[start:])
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
'

# A token server for distribution'"'"'s token auth: RS256 JWTs signed with
# openssl, the certificate in x5c. With the right basic credentials every
# requested action is granted; anonymously only pull of public/*.
# shellcheck disable=SC2034 # used by the sourcing test
REG_TOKEN_SERVER='
import base64, http.server, json, os, subprocess, sys, time, urllib.parse
port, key, cert, user, pw, log = sys.argv[1:7]
der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                     capture_output=True, check=True).stdout
good = "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        auth = self.headers.get("Authorization", "")
        with open(log, "a") as f:
            f.write("token %s auth=%s\n" % (u.query, "yes" if auth else "no"))
        if auth and auth != good:
            self.send_error(401)
            return
        access = []
        for s in q.get("scope", []):
            for sc in s.split(" "):
                typ, name, acts = sc.split(":")
                acts = acts.split(",")
                if not auth:
                    acts = ["pull"] if name.startswith("public/") and \
                        "pull" in acts else []
                access.append({"type": typ, "name": name, "actions": acts})
        now = int(time.time())
        hdr = {"typ": "JWT", "alg": "RS256",
               "x5c": [base64.b64encode(der).decode()]}
        claims = {"iss": "stowaway-test", "sub": user if auth else "",
                  "aud": q.get("service", [""])[0], "exp": now + 600,
                  "nbf": now - 60, "iat": now, "jti": os.urandom(8).hex(),
                  "access": access}
        si = b64u(json.dumps(hdr).encode()) + "." + \
            b64u(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                             input=si.encode(), capture_output=True,
                             check=True).stdout
        body = json.dumps({"token": si + "." + b64u(sig),
                           "expires_in": 600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), H).serve_forever()
'
