#!/usr/bin/env python3
"""A small Docker token service for tests (distribution's `auth: token`).

usage: token_server.py PORT KEY.pem CERT.pem ISSUER SERVICE USER:PASS COUNT_FILE

GET /token?service=S&scope=repository:NAME:ACTIONS... with HTTP basic credentials USER:PASS
answers {"token": JWT, "expires_in": 300}: an RS256 JWT whose x5c header carries CERT (the
registry's rootcertbundle), granting every action asked for. Wrong or missing credentials: 401.
Each token issued appends a line to COUNT_FILE, so tests can see that tokens are cached.
"""
import base64, json, os, subprocess, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, KEY, CERT, ISSUER, SERVICE, USERPASS, COUNT = sys.argv[1:8]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der():
    pem = open(CERT).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return "".join(body.split())


def sign(data):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=data,
                          capture_output=True, check=True).stdout


def access(scopes):
    out = []
    for scope in scopes:
        parts = scope.split(":")
        if len(parts) < 3:
            continue
        out.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": parts[-1].split(",")})
    return out


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        with open(COUNT + ".requests", "a") as f:  # every request, so tests can see none came
            f.write(("basic" if self.headers.get("Authorization") else "anonymous") + "\n")
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        expected = "Basic " + base64.b64encode(USERPASS.encode()).decode()
        if url.path != "/token" or self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [cert_der()]}
        claims = {"iss": ISSUER, "sub": USERPASS.split(":")[0], "aud": SERVICE, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(),
                  "access": access(query.get("scope", []))}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        token = signing_input.decode() + "." + b64url(sign(signing_input))
        body = json.dumps({"token": token, "expires_in": 300}).encode()
        with open(COUNT, "a") as f:
            f.write(" ".join(query.get("scope", [])) + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
