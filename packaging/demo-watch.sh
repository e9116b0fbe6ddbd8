#!/usr/bin/env bash
# The whole story on one machine, with real components: two docker-registry instances on
# loopback ("home" and "site") both holding test:1.0.0 (a base layer of system binaries and an
# app layer with a library), `outpost hub` watching home (`source: docker://home`, subscribed
# `test:*`), `outpost agent` publishing into site (`target: docker://site`), the two talking
# mutual TLS (certificates by `outpost pki`) through the link simulator at 256 kbit/s. Then
# test:2.0.0 (the library patched) is pushed at home with skopeo, and the script waits until the
# site registry serves it, and prints the bytes that crossed the link against what a registry
# pull would have shipped (manifest, config and the layers the site lacks), the time it took,
# and both manifest digests as skopeo reads them. Exits non-zero when the digests differ.
#
# usage: packaging/demo-watch.sh [OUTPOST_BINARY [LINKSIM_BINARY]]   (packaging/demo.sh calls it)
set -euo pipefail
outpost=$(realpath "${1:-build/cli/outpost}")
linksim=$(realpath "${2:-$(dirname "$outpost")/../tests/linksim/outpost-linksim}")
rate=32000  # bytes/s: 256 kbit/s
work=$(mktemp -d /tmp/outpost-demo-watch.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }
fail() {
  echo "demo-watch: $*" >&2
  for log in hub.log agent.log linksim.log; do [[ -f $log ]] && { echo "--- $log" >&2; tail -20 "$log" >&2; }; done
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A docker-registry on 127.0.0.1 storing under ./$1; sets $registry_host to its HOST:PORT.
start_registry() {
  local port
  port=$(free_port)
  mkdir -p "$1"
  cat >"$1/config.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/$1/storage}}
http: {addr: 127.0.0.1:$port, secret: outpost-demo}
EOF
  docker-registry serve "$1/config.yml" >"$1/registry.log" 2>&1 &
  pids+=($!)
  wait_for 20 port_open "$port" || fail "docker-registry $1 did not start"
  registry_host="127.0.0.1:$port"
}
skopeo_digest() { skopeo inspect --raw --tls-verify=false "$1" | sha256sum | sed 's/^/sha256:/; s/ .*//'; }
link_bytes() { python3 -c 'import json,sys; s=json.load(open("link.stats")); print(s["bytes_down"] + s["bytes_up"])'; }

python3 - <<'PY'
# test:1.0.0 and test:2.0.0 in one OCI layout ./images, gzip'ed by Python's zlib (like Jib).
import gzip, hashlib, io, json, os, tarfile

def tar_of(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1700000000, 0o755
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()

def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"images/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d

def image(tag, layers):
    diff_ids, descs = [], []
    for files in layers:
        tar = tar_of(files)
        blob = gzip.compress(tar, compresslevel=6, mtime=0)
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(blob), "size": len(blob)})
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/app/run"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(config), "size": len(config)},
                           "layers": descs}).encode()
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(manifest), "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": tag}}

def read(path, limit=4 << 20):
    try:
        return open(path, "rb").read(limit)
    except OSError:
        return b""

os.makedirs("images/blobs/sha256", exist_ok=True)
bins = {f"usr/bin/{n}": read(f"/usr/bin/{n}") for n in sorted(os.listdir("/usr/bin"))[:60]}
bins = {k: v for k, v in bins.items() if v}
lib = read("/usr/lib/x86_64-linux-gnu/libcrypto.so.3") or os.urandom(3 << 20)
docs = {f"app/doc/{i}.txt": (f"release notes {i}\n" * 200).encode() for i in range(50)}
app_v1 = {"app/lib/libcore.so": lib, "app/run": b"#!/bin/sh\nexec /app/lib/libcore.so\n", "app/version": b"1.0.0\n", **docs}
patched = bytearray(lib)
for off in range(4096, len(patched), 65536):
    patched[off:off + 16] = b"security-fix-v2!"
app_v2 = dict(app_v1, **{"app/lib/libcore.so": bytes(patched), "app/version": b"2.0.0\n"})
manifests = [image("1.0.0", [bins, app_v1]), image("2.0.0", [bins, app_v2])]
open("images/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests},
          open("images/index.json", "w"))
PY

say "two docker-registry instances on loopback: home (the hub's source) and site (the agent's target)"
start_registry home && home=$registry_host
start_registry site && site=$registry_host
echo "home: $home   site: $site"
run skopeo copy --quiet --dest-tls-verify=false oci:images:1.0.0 "docker://$home/test:1.0.0"
run skopeo copy --quiet --dest-tls-verify=false oci:images:1.0.0 "docker://$site/test:1.0.0"

say "certificates (outpost pki) and the bundle signing key"
"$outpost" pki init pki >/dev/null
"$outpost" pki issue pki hub --host 127.0.0.1 >/dev/null
"$outpost" pki issue pki oslo >/dev/null
"$outpost" keygen -o sign.key >/dev/null
ls pki

cat >hub.yaml <<EOF
listen: 127.0.0.1:0
state_dir: $work/hub-state
tls: {ca: pki/ca.pem, cert: pki/hub.pem, key: pki/hub.key}
sign_key: sign.key
source: docker://$home
poll_interval: 2s
sites:
  - name: oslo
    rate: 256kbit
    subscriptions:
      - images: ["test:*"]
EOF
say "hub.yaml"; cat hub.yaml
mkdir -p hub-state
"$outpost" hub --config hub.yaml >hub.log 2>&1 &
pids+=($!)
wait_for 20 test -s hub-state/port || fail "the hub did not start"
"$linksim" --upstream "127.0.0.1:$(cat hub-state/port)" --listen 0 --port-file link.port --stats-file link.stats \
  --rate-down "$rate" --rate-up "$rate" >linksim.log 2>&1 &
pids+=($!)
wait_for 10 test -s link.port || fail "the link simulator did not start"
cat >agent.yaml <<EOF
site: oslo
hub: 127.0.0.1:$(cat link.port)
state_dir: $work/agent-state
tls: {ca: pki/ca.pem, cert: pki/oslo.pem, key: pki/oslo.key}
target: docker://$site
verify_key: sign.key.pub
EOF
say "agent.yaml (hub: the link simulator's port, 256 kbit/s each way)"; cat agent.yaml
"$outpost" agent --config agent.yaml >agent.log 2>&1 &
pids+=($!)
wait_for 60 grep -q "site oslo: inventory of" hub.log || fail "the hub never received the site's inventory"
grep -m1 "site oslo: inventory of" hub.log

before=$(link_bytes)
start=$SECONDS
run skopeo copy --quiet --dest-tls-verify=false oci:images:2.0.0 "docker://$home/test:2.0.0"
say "waiting for the site registry to serve test:2.0.0 (the hub polls home, diffs, the agent fetches and publishes)"
wait_for 150 skopeo inspect --raw --tls-verify=false "docker://$site/test:2.0.0" || fail "test:2.0.0 never arrived at the site"
elapsed=$((SECONDS - start))
sleep 0.5  # the simulator writes its counters every 200 ms
crossed=$(($(link_bytes) - before))
grep -m1 "transfer .* queued" hub.log || true
grep -m1 "applied manifest" agent.log || true

registry=$(python3 - "$home" <<'PY'
import json, subprocess, sys
def manifest(tag):
    out = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{sys.argv[1]}/test:{tag}"],
                         check=True, capture_output=True).stdout
    return out
old, raw = json.loads(manifest("1.0.0")), manifest("2.0.0")
new, held = json.loads(raw), {l["digest"] for l in old["layers"]}
print(len(raw) + new["config"]["size"] + sum(l["size"] for l in new["layers"] if l["digest"] not in held))
PY
)
src=$(skopeo_digest "docker://$home/test:2.0.0")
got=$(skopeo_digest "docker://$site/test:2.0.0")
say "the result"
printf 'bytes that crossed the link (both ways, TLS included): %s\n' "$crossed"
printf 'bytes a registry pull would have shipped:              %s (manifest, config, changed layers: %s s at 256 kbit/s)\n' \
  "$registry" "$((registry / rate))"
printf 'time from the push at home to the site serving it:     %s s\n' "$elapsed"
printf 'home manifest digest (skopeo): %s\n' "$src"
printf 'site manifest digest (skopeo): %s\n' "$got"
[[ -n $src && $src == "$got" ]] || fail "DIGESTS DIFFER: the site does not hold the exact image"
echo "identical: the site registry serves the exact image home has, having received $crossed bytes instead of $registry"
