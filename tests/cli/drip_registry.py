#!/usr/bin/env python3
"""drip_registry.py - a registry on 127.0.0.1 that serves an OCI layout
(repository "app", tag from the layout's index) over the HTTP API v2, and
drips one kind of answer at 4 bytes a second, for test_deadline.sh.

  drip_registry.py LAYOUT MODE PORTFILE
      MODE: manifest - manifests drip; blob - the largest layer blob drips
      after its first 64 KiB; token - /v2/ asks for a bearer token whose
      endpoint drips; none - nothing drips.
      The chosen port is written to PORTFILE once the server listens.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAYOUT, MODE, PORTFILE = sys.argv[1:4]
with open(os.path.join(LAYOUT, "index.json")) as f:
    INDEX = json.load(f)
MAN = INDEX["manifests"][0]
TAG = MAN.get("annotations", {}).get("org.opencontainers.image.ref.name", "1")


def blob_path(digest):
    return os.path.join(LAYOUT, "blobs", "sha256", digest.split(":", 1)[1])


with open(blob_path(MAN["digest"])) as f:
    LAYERS = json.load(f)["layers"]
BIG = max(LAYERS, key=lambda l: l["size"])["digest"]


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, ctype, extra=None, drip_from=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if drip_from is None:
            self.wfile.write(body)
            return
        self.wfile.write(body[:drip_from])
        self.wfile.flush()
        try:
            for i in range(drip_from, len(body), 4):
                self.wfile.write(body[i:i + 4])
                self.wfile.flush()
                time.sleep(1)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        p = self.path.split("?", 1)[0]
        if p == "/token":
            body = json.dumps({"token": "t" * 64}).encode()
            return self.send(200, body, "application/json",
                             drip_from=0 if MODE == "token" else None)
        if MODE == "token" and self.headers.get("Authorization") is None:
            host = self.headers.get("Host")
            return self.send(401, b"{}", "application/json", {
                "WWW-Authenticate": 'Bearer realm="http://%s/token",'
                'service="drip",scope="repository:app:pull"' % host})
        if p == "/v2/":
            return self.send(200, b"{}", "application/json")
        if p in ("/v2/app/manifests/" + TAG, "/v2/app/manifests/" + MAN["digest"]):
            with open(blob_path(MAN["digest"]), "rb") as f:
                body = f.read()
            return self.send(200, body, MAN["mediaType"],
                             {"Docker-Content-Digest": MAN["digest"]},
                             drip_from=0 if MODE == "manifest" else None)
        if p.startswith("/v2/app/blobs/sha256:"):
            d = p.rsplit("/", 1)[1]
            try:
                with open(blob_path(d), "rb") as f:
                    body = f.read()
            except OSError:
                return self.send(404, b"{}", "application/json")
            drip = 65536 if MODE == "blob" and d == BIG else None
            if drip is not None and len(body) <= drip:
                drip = 0
            return self.send(200, body, "application/octet-stream",
                             {"Docker-Content-Digest": d}, drip_from=drip)
        return self.send(404, b"{}", "application/json")


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
