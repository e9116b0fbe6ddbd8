#!/usr/bin/env bash
# The main job, end to end, on a pair of images this script makes itself: an old image (a base
# layer of system binaries + an app layer) and a new one (the app's library patched, a file
# added, a new layer), gzip-compressed by Python's zlib like Jib and rules_pkg do. It writes a
# signed bundle, applies it at a "remote site" that holds only the old image as a `docker save`
# archive, and shows the rebuilt image's manifest digest equal to the source's, and the bytes
# shipped versus what a registry would have shipped.
#
# usage: packaging/demo-delta.sh [OUTPOST_BINARY]   (packaging/demo.sh calls it at its end)
set -euo pipefail
outpost=$(realpath "${1:-build/cli/outpost}")
work=$(mktemp -d /tmp/outpost-demo-delta.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

python3 - <<'PY'
import gzip, hashlib, io, json, os, tarfile

def tar_of(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1700000000, 0o755
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()

def put(root, data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(f"{root}/blobs/sha256", exist_ok=True)
    open(f"{root}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d

def image(root, tag, layers):
    diff_ids, descs = [], []
    for files in layers:
        tar = tar_of(files)
        blob = gzip.compress(tar, compresslevel=6, mtime=0)
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(root, blob), "size": len(blob)})
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/app/run"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(root, config), "size": len(config)},
                           "layers": descs}).encode()
    md = put(root, manifest)
    open(f"{root}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(manifest),
                            "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    open(f"{root}/index.json", "w").write(json.dumps(index))

def read(path, limit=4 << 20):
    try:
        return open(path, "rb").read(limit)
    except OSError:
        return b""

bins = {f"usr/bin/{n}": read(f"/usr/bin/{n}") for n in sorted(os.listdir("/usr/bin"))[:150]}
bins = {k: v for k, v in bins.items() if v}
lib = read("/usr/lib/x86_64-linux-gnu/libcrypto.so.3") or os.urandom(1 << 20)
docs = {f"app/doc/{i}.txt": (f"release notes {i}\n" * 200).encode() for i in range(50)}
app_v1 = {"app/lib/libcore.so": lib, "app/run": b"#!/bin/sh\nexec /app/lib/libcore.so\n", **docs}
patched = bytearray(lib)
for off in range(4096, len(patched), 65536):
    patched[off:off + 16] = b"security-fix-v2!"
app_v2 = dict(app_v1, **{"app/lib/libcore.so": bytes(patched), "app/doc/CHANGES": b"2.0: security fix\n"})
image("hub", "1.0", [bins, app_v1])
image("hub2", "2.0", [bins, app_v2, {"app/data/seed.json": b'{"version": 2}\n'}])
PY

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

run "$outpost" keygen -o hub.key
run "$outpost" copy oci:hub:1.0 docker-archive:site-v1.tar:app:1.0   # what the remote site holds
# --from names what the site holds: its docker-archive (tars only), so the bundle carries the
# recipe that recompresses each tar it already has into the exact blob.
run "$outpost" diff --from docker-archive:site-v1.tar --to oci:hub2:2.0 -o app-2.0.bundle --sign-key hub.key
run "$outpost" inspect app-2.0.bundle
run "$outpost" apply app-2.0.bundle --base docker-archive:site-v1.tar --into oci:site:2.0 --verify-key hub.key.pub
src=$(python3 -c 'import json; print(json.load(open("hub2/index.json"))["manifests"][0]["digest"])')
got=$(python3 -c 'import json; print(json.load(open("site/index.json"))["manifests"][0]["digest"])')
say "compare manifest digests"
echo "source:  $src"
echo "rebuilt: $got"
[[ $src == "$got" ]] && echo "identical: the remote site holds the exact image (same digests, signatures keep working)"
registry=$(python3 -c '
import json, os
def blobs(root):
    idx = json.load(open(root + "/index.json"))
    m = json.load(open(root + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
    return {l["digest"]: l["size"] for l in m["layers"]}
old, new = blobs("hub"), blobs("hub2")
print(sum(s for d, s in new.items() if d not in old))')
echo "bytes shipped: $(stat -c %s app-2.0.bundle) (bundle) vs $registry (layers a registry would ship)"
[[ $src == "$got" ]]
