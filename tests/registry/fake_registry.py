#!/usr/bin/env python3
"""A misbehaving registry for fault tests: serves an OCI layout read-only over the distribution
API, and damages the largest blob it serves.

usage: fake_registry.py PORT OCI_DIR MODE
MODE wrong-digest:   the largest blob is served with one byte changed (same length).
MODE truncated:      the largest blob's response announces its full length, sends half and closes.
MODE truncate-once:  like truncated for the first request only; later (Range) requests are honest.
"""
import json, os, re, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, ROOT, MODE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
BLOBS = os.path.join(ROOT, "blobs", "sha256")
LARGEST = max(os.listdir(BLOBS), key=lambda h: os.path.getsize(os.path.join(BLOBS, h)))
state = {"damaged": 0}


def tags():
    index = json.load(open(os.path.join(ROOT, "index.json")))
    return {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.path == "/v2/":
            return self.reply(200, b"{}")
        m = re.match(r"^/v2/(.+)/manifests/(.+)$", self.path)
        if m:
            ref = m.group(2)
            desc = tags().get(ref)
            hexd = desc["digest"][7:] if desc else ref[7:]
            path = os.path.join(BLOBS, hexd)
            if not os.path.exists(path):
                return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            data = open(path, "rb").read()
            media = json.loads(data).get("mediaType", "application/vnd.oci.image.manifest.v1+json")
            return self.reply(200, data, [("Content-Type", media), ("Docker-Content-Digest", "sha256:" + hexd)])
        m = re.match(r"^/v2/(.+)/blobs/sha256:([0-9a-f]{64})$", self.path)
        if not m or not os.path.exists(os.path.join(BLOBS, m.group(2))):
            return self.reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        hexd = m.group(2)
        data = open(os.path.join(BLOBS, hexd), "rb").read()
        start = 0
        rng = self.headers.get("Range")
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
        body = data[start:]
        damage = hexd == LARGEST and self.command == "GET" and (
            MODE != "truncate-once" or state["damaged"] == 0)
        if damage and MODE == "wrong-digest":
            body = body[:len(body) // 2] + bytes([body[len(body) // 2] ^ 0xFF]) + body[len(body) // 2 + 1:]
        headers = [("Docker-Content-Digest", "sha256:" + hexd)]
        if start:
            headers.append(("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data))))
        if damage and MODE in ("truncated", "truncate-once"):
            state["damaged"] += 1
            self.send_response(206 if start else 200)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.reply(206 if start else 200, body, headers)


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
