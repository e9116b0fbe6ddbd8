#!/usr/bin/env python3
"""Writes a test image into an OCI layout: random gzip layers, a config with correct diff_ids.

usage: make_image.py DIR TAG SIZE[,SIZE...] [--index]   (sizes in bytes of uncompressed data)
--index writes an OCI index over two platform images (linux/amd64, linux/arm64) instead.
"""
import gzip, hashlib, io, json, os, sys


def put_blob(root, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(root, "blobs", "sha256", digest)
    with open(path, "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def gzip_stream_blob(root, size):
    """Streams `size` random bytes through gzip (level 0: fast, still valid gzip) to a blob."""
    tmp = os.path.join(root, "blobs", "sha256", ".tmp")
    plain = hashlib.sha256()
    with open(tmp, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=0, mtime=0) as gz:
            left = size
            while left > 0:
                piece = os.urandom(min(left, 1 << 20))
                plain.update(piece)
                gz.write(piece)
                left -= len(piece)
    packed = hashlib.sha256()
    with open(tmp, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            packed.update(block)
    digest = packed.hexdigest()
    os.rename(tmp, os.path.join(root, "blobs", "sha256", digest))
    return {"digest": "sha256:" + digest, "size": os.path.getsize(os.path.join(root, "blobs", "sha256", digest))}, \
        "sha256:" + plain.hexdigest()


def image(root, sizes, arch):
    layers, diff_ids = [], []
    for size in sizes:
        desc, diff_id = gzip_stream_blob(root, size)
        desc["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
        layers.append(desc)
        diff_ids.append(diff_id)
    config = {"architecture": arch, "os": "linux", "config": {},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cdesc = put_blob(root, json.dumps(config).encode())
    cdesc["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": cdesc, "layers": layers}
    mdesc = put_blob(root, json.dumps(manifest).encode())
    mdesc["mediaType"] = manifest["mediaType"]
    return mdesc


def main():
    root, tag, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(",")]
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(root, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    if "--index" in sys.argv:
        entries = []
        for arch in ("amd64", "arm64"):
            d = image(root, sizes, arch)
            d["platform"] = {"os": "linux", "architecture": arch}
            entries.append(d)
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                 "manifests": entries}
        top = put_blob(root, json.dumps(index).encode())
        top["mediaType"] = index["mediaType"]
    else:
        top = image(root, sizes, "amd64")
    top["annotations"] = {"org.opencontainers.image.ref.name": tag}
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [top]}, f)
    print(top["digest"])


main()
