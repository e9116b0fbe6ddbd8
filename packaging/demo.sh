#!/usr/bin/env bash
# The README's main-job command: installs the build dependencies, builds outpost, creates a small
# sample image itself (generated rootfs tars, gzip'ed, written as an OCI image layout), inspects
# it, copies it oci -> oci and oci -> docker-archive, and shows which digests were kept; then
# the main job by hand (demo-delta.sh: diff, signed bundle, apply at a site), and last the whole
# story with real components (demo-watch.sh: two docker-registry on loopback, the hub watching
# one, the agent publishing into the other through the link simulator at 256 kbit/s).
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh --demo
bash packaging/build.sh
outpost="$PWD/${OUTPOST_BUILD_DIR:-build}/cli/outpost"

work=$(mktemp -d /tmp/outpost-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
layout="$work/sample"
mkdir -p "$layout/blobs/sha256" "$work/rootfs"

# Stores file $1 as a blob; prints "<digest> <size>".
put_blob() {
  local hex size
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  cp "$1" "$layout/blobs/sha256/$hex"
  echo "sha256:$hex $size"
}

echo "== creating a sample image in $layout"
layers="" diff_ids=""
for n in 1 2; do
  dir="$work/rootfs/layer$n"
  mkdir -p "$dir/etc" "$dir/usr/share/sample"
  echo "sample layer $n" >"$dir/etc/sample-$n"
  seq 1 $((n * 20000)) >"$dir/usr/share/sample/numbers-$n"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$dir" -cf "$work/layer$n.tar" .
  diff_ids+="${diff_ids:+,}\"sha256:$(sha256sum "$work/layer$n.tar" | cut -d' ' -f1)\""
  gzip -n -6 -c "$work/layer$n.tar" >"$work/layer$n.tar.gz"
  read -r digest size < <(put_blob "$work/layer$n.tar.gz")
  layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$digest\",\"size\":$size}"
done
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
  "$diff_ids" >"$work/config.json"
read -r config_digest config_size < <(put_blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
  "$config_digest" "$config_size" "$layers" >"$work/manifest.json"
read -r manifest_digest manifest_size < <(put_blob "$work/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"1.0"}}]}' \
  "$manifest_digest" "$manifest_size" >"$layout/index.json"

echo; echo "== outpost inspect oci:$layout:1.0"
"$outpost" inspect "oci:$layout:1.0"

echo; echo "== outpost copy oci -> oci"
"$outpost" copy "oci:$layout:1.0" "oci:$work/copy:1.0"
"$outpost" inspect --json "oci:$work/copy:1.0" >"$work/copy.json"

echo; echo "== outpost copy oci -> docker-archive"
"$outpost" copy "oci:$layout:1.0" "docker-archive:$work/sample.tar:sample:1.0"
"$outpost" inspect --json "docker-archive:$work/sample.tar" >"$work/archive.json"

field() { grep -m1 "\"$1\"" "$2" | sed 's/.*: "\(.*\)".*/\1/'; }
echo; echo "== digests"
echo "source manifest          $manifest_digest"
echo "oci copy manifest        $(field digest "$work/copy.json")"
echo "source config (image ID) $config_digest"
echo "oci copy config          $(field config "$work/copy.json")"
echo "docker-archive config    $(field config "$work/archive.json")"
[[ $(field digest "$work/copy.json") == "$manifest_digest" ]] || { echo "demo: oci copy changed the manifest digest" >&2; exit 1; }
[[ $(field config "$work/archive.json") == "$config_digest" ]] || { echo "demo: docker-archive changed the image ID" >&2; exit 1; }
echo "demo: OK (oci copy is byte-identical; the docker-archive keeps the image ID)"

echo; echo "== the main job: diff an old and a new image into a signed bundle, apply it at a site"
bash packaging/demo-delta.sh "$outpost"

echo; echo "== the whole story: a push at home arrives at a remote site's registry over a 256 kbit/s link"
bash packaging/demo-watch.sh "$outpost" "$PWD/${OUTPOST_BUILD_DIR:-build}/tests/linksim/outpost-linksim"
