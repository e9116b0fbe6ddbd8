#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_bundle_head (fuzz/corpus/bundle_head/): small whole bundles
(head and payload, each under 4 KB) laid out as docs/bundle-format.md says: format 2 unsigned and
signed (Ed25519, a throwaway key made with openssl), format 1 (plain JSON header), and one with a
layer payload spread over two chunks. Needs python3, zstd and openssl on PATH. The protocol tests
(BundleHeadTest.FuzzSeedsAreBundlesThisBuildReads) check that this build reads every seed."""
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "bundle_head")


def zstd(data):
    return subprocess.run(["zstd", "-q", "-19", "-c"], input=data, check=True, capture_output=True).stdout


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def bundle(version=2, key=None, chunk_bytes=1 << 20):
    manifest = b'{"schemaVersion":2}'
    config = b'{"rootfs":{}}'
    layer = bytes((i * 7 + i // 251) & 0xFF for i in range(600))
    payload = b""
    spans = []
    for data, encoding in ((manifest, "zstd"), (config, "raw"), (layer, "raw")):
        stored = zstd(data) if encoding == "zstd" else data
        spans.append({"offset": len(payload), "length": len(stored), "encoding": encoding})
        payload += stored
    header = {
        "target_reference": "oci:/srv/app:2.0", "created_by": "seed", "payload_bytes": len(payload),
        "registry_bytes": len(layer),
        "manifest": {"digest": sha(manifest), "size": len(manifest),
                     "media_type": "application/vnd.oci.image.manifest.v1+json", "payload": spans[0]},
        "config": {"digest": sha(config), "size": len(config),
                   "media_type": "application/vnd.oci.image.config.v1+json", "payload": spans[1]},
        "bases": [],
        "layers": [{"media_type": "application/vnd.oci.image.layer.v1.tar", "digest": sha(layer),
                    "size": len(layer), "diff_id": sha(layer), "method": "whole", "recipe": "",
                    "payload": spans[2]}],
    }
    text = json.dumps(header, separators=(",", ":")).encode()
    stored = text if version == 1 else zstd(text)
    chunks = [payload[i:i + chunk_bytes] for i in range(0, len(payload), chunk_bytes)]
    head = b"OUTPOSTB" + struct.pack("<II", version, len(stored)) + stored + struct.pack("<I", len(chunks))
    for c in chunks:
        head += hashlib.sha256(c).digest() + struct.pack("<I", len(c))
    sig = b""
    if key:
        with tempfile.TemporaryDirectory() as d:
            msg = os.path.join(d, "msg")
            with open(msg, "wb") as f:
                f.write(head)
            signature = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", msg],
                                       check=True, capture_output=True).stdout
            der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"], check=True,
                                 capture_output=True).stdout
            sig = der[-32:] + signature
    return head + struct.pack("<I", len(sig)) + sig + payload


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        key = os.path.join(d, "key.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True, capture_output=True)
        seeds = {"v2-unsigned.bundle": bundle(), "v2-signed.bundle": bundle(key=key),
                 "v1-plain-json.bundle": bundle(version=1), "v2-small-chunks.bundle": bundle(chunk_bytes=256)}
    for name, data in seeds.items():
        assert len(data) < 4096, name
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
