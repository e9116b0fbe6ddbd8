#!/usr/bin/env bash
# delta_bench: outpost against generic differs on the corpus (../shared/corpus/make_corpus.sh),
# side by side in one run. Prints one table: per scenario/variant and tool, the bytes shipped,
# time to diff, time to apply and peak RSS of each (GNU time). Every outpost apply must end with
# the target's manifest digest equal to the source's (checked against the layout's index.json);
# a mismatch fails the run.
#
# outpost's diff runs twice: "outpost" starts with an empty hub cache (every recipe is probed:
# one full compression per layer; every tar indexed), "outpost cached" runs again with the cache
# the first run filled. "go gzip (ref)" is Go's own compress/gzip (level 6, in memory) compressing the
# uncompressed layers the far side lacks once: the yardstick of the issue's time goals (diff at
# most 2x it, apply at most 1.5x it; cached diff at least 50 MB/s of those uncompressed layers).
# A summary under the table prints those ratios per pair.
#
# Only outpost rebuilds the compressed blobs: the other tools' bytes are deltas between the
# uncompressed tars of the layers the far side lacks (each against the v1 layer at the same
# position), "balena" is librsync over the whole uncompressed image (all layers concatenated)
# then zstd -19, "docker" is the compressed bytes of the layers the far side lacks. "outpost" rows
# count the whole bundle (manifest, config, header, signature space); "outpost deltas only" is
# its layer deltas alone, the figure comparable with the generic differs'.
#
# usage: delta_bench.sh [OUTPOST_BINARY] [CORPUS_OUT_DIR] [SCENARIO/VARIANT ...]
#   env ONLY_OUTPOST=1: measure outpost and docker native only (the generic differs take long).
#   env BSDIFF_MAX_BYTES (default 100000000): bsdiff is skipped for larger layers (it needs
#   ~17x the layer in RAM and minutes per 100 MB); the table says "skipped".
set -euo pipefail

outpost=${1:-build/cli/outpost}
corpus=${2:-/tmp/outpost-corpus/out}
shift 2 2>/dev/null || shift $#
pairs=("$@")
if [[ ${#pairs[@]} -eq 0 ]]; then
  for d in "$corpus"/*/*/; do d=${d%/}; pairs+=("${d#"$corpus"/}"); done
fi
bsdiff_max=${BSDIFF_MAX_BYTES:-100000000}
work=${BENCH_WORK:-/tmp/outpost-delta-bench}
rm -rf "$work"; mkdir -p "$work"
results="$work/results.tsv"
summary="$work/summary.txt"
: >"$results"; : >"$summary"
goflate=$work/goflate
GO111MODULE=off GOPATH=/usr/share/gocode go build -o "$goflate" "$(dirname "$0")/../../tests/oracles/goflate/main.go"

# measure LABEL CMD...: runs CMD under GNU time, appends "seconds maxrss_kb" to $work/LABEL.time
measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/$label.time" "$@" >/dev/null
}
secs() { cut -d' ' -f1 "$work/$1.time"; }
rss() { cut -d' ' -f2 "$work/$1.time"; }
manifest_digest() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"])' "$1"; }
# delta_bytes BUNDLE: the bytes of its layer deltas alone (tar-delta and raw-delta payloads), the
# part comparable with the generic differs' output (docs/bundle-format.md: the header is zstd)
delta_bytes() {
  python3 - "$1" <<'PY'
import json, struct, subprocess, sys
b = open(sys.argv[1], "rb").read()
version, stored = struct.unpack("<II", b[8:16])
header = b[16:16 + stored]
if version >= 2:
    header = subprocess.run(["zstd", "-dc"], input=header, stdout=subprocess.PIPE, check=True).stdout
h = json.loads(header)
print(sum(l["payload"]["length"] for l in h["layers"] if l["method"] in ("tar-delta", "raw-delta")))
PY
}
# layers DIR: "digest size" per layer of the layout's only manifest
layers() {
  python3 - "$1" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
for l in m["layers"]:
    print(l["digest"][7:], l["size"])
PY
}
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"; }

# tool NAME PAIR OLD NEW: a generic differ over one pair of uncompressed tars; accumulates into
# $work/acc.NAME (bytes diff_s apply_s max_rss_kb)
acc() {
  local name=$1 bytes=$2 d=$3 a=$4 r=$5
  local f="$work/acc.$name"
  [[ -f $f ]] || echo "0 0 0 0" >"$f"
  read -r b0 d0 a0 r0 <"$f"
  python3 -c "import sys; b,d,a,r,b1,d1,a1,r1=sys.argv[1:]; print(int(b)+int(b1), round(float(d)+float(d1),2), round(float(a)+float(a1),2), max(int(r),int(r1)))" \
    "$b0" "$d0" "$a0" "$r0" "$bytes" "$d" "$a" "$r" >"$f"
}

generic() {
  local old=$1 new=$2 t=$work/t
  rm -rf "$t"; mkdir -p "$t"
  measure xd.d xdelta3 -9 -f -e -s "$old" "$new" "$t/xd"
  measure xd.a xdelta3 -f -d -s "$old" "$t/xd" "$t/xd.out"; cmp -s "$new" "$t/xd.out"
  acc xdelta3 "$(stat -c %s "$t/xd")" "$(secs xd.d)" "$(secs xd.a)" "$(max "$(rss xd.d)" "$(rss xd.a)")"
  measure zs.d zstd -q -f -19 --long=31 -T1 --patch-from="$old" "$new" -o "$t/zs"
  measure zs.a zstd -q -f -d --long=31 --patch-from="$old" "$t/zs" -o "$t/zs.out"; cmp -s "$new" "$t/zs.out"
  acc zstd-patch "$(stat -c %s "$t/zs")" "$(secs zs.d)" "$(secs zs.a)" "$(max "$(rss zs.d)" "$(rss zs.a)")"
  rdiff_pair rdiff "$old" "$new"
  if [[ $(stat -c %s "$new") -le $bsdiff_max ]]; then
    measure bs.d bsdiff "$old" "$new" "$t/bs"
    measure bs.a bspatch "$old" "$t/bs.out" "$t/bs"; cmp -s "$new" "$t/bs.out"
    acc bsdiff "$(stat -c %s "$t/bs")" "$(secs bs.d)" "$(secs bs.a)" "$(max "$(rss bs.d)" "$(rss bs.a)")"
  else
    touch "$work/bsdiff.skipped"
  fi
  rm -rf "$t"
}

# rdiff_pair NAME OLD NEW: librsync signature + delta, then zstd -19 of the delta.
rdiff_pair() {
  local name=$1 old=$2 new=$3 t=$work/r
  rm -rf "$t"; mkdir -p "$t"
  measure rd.s rdiff signature "$old" "$t/sig"
  measure rd.d rdiff delta "$t/sig" "$new" "$t/delta"
  measure rd.z zstd -q -19 -T1 "$t/delta" -o "$t/delta.zst"
  measure rd.a sh -c "zstd -q -d -c '$t/delta.zst' | rdiff patch '$old' - '$t/out'"; cmp -s "$new" "$t/out"
  local dsec
  dsec=$(python3 -c "print($(secs rd.s)+$(secs rd.d)+$(secs rd.z))")
  acc "$name" "$(stat -c %s "$t/delta.zst")" "$dsec" "$(secs rd.a)" "$(max "$(rss rd.s)" "$(rss rd.d)" "$(rss rd.a)")"
  rm -rf "$t"
}
max() { printf '%s\n' "$@" | sort -n | tail -1; }

for pair in "${pairs[@]}"; do
  v1=$corpus/$pair/v1 v2=$corpus/$pair/v2
  rm -f "$work"/acc.* "$work/bsdiff.skipped"
  # outpost: diff with an empty recipe cache, again with the cache filled, and apply into a
  # fresh layout
  rm -rf "$work/out" "$work/b.bundle" "$work/cache"
  measure op.d "$outpost" diff --quiet --cache "$work/cache" --from "oci:$v1" --to "oci:$v2" -o "$work/b.bundle"
  measure op.w "$outpost" diff --quiet --cache "$work/cache" --from "oci:$v1" --to "oci:$v2" -o "$work/b.bundle"
  measure op.a "$outpost" apply --quiet "$work/b.bundle" --base "oci:$v1" --into "oci:$work/out"
  want=$(manifest_digest "$v2") got=$(manifest_digest "$work/out")
  if [[ $want != "$got" ]]; then echo "delta_bench: $pair: outpost rebuilt $got, source is $want" >&2; exit 1; fi
  row "$pair" outpost "$(stat -c %s "$work/b.bundle")" "$(secs op.d)" "$(secs op.a)" "$(max "$(rss op.d)" "$(rss op.a)") digest-ok"
  row "$pair" "outpost cached" "$(stat -c %s "$work/b.bundle")" "$(secs op.w)" "$(secs op.a)" "$(max "$(rss op.w)" "$(rss op.a)") digest-ok"
  row "$pair" "outpost deltas only" "$(delta_bytes "$work/b.bundle")" - - -
  mapfile -t old_layers < <(layers "$v1")
  mapfile -t new_layers < <(layers "$v2")
  declare -A have=()
  for l in "${old_layers[@]}"; do have[${l%% *}]=1; done
  native=0 plain=0 go_s=0
  mkdir -p "$work/tars"
  for i in "${!new_layers[@]}"; do
    read -r nd ns <<<"${new_layers[$i]}"
    [[ -n ${have[$nd]:-} ]] && continue
    native=$((native + ns))
    gzip -dc "$v2/blobs/sha256/$nd" >"$work/tars/new"
    plain=$((plain + $(stat -c %s "$work/tars/new")))
    read -r gsec _ _ < <("$goflate" -level 6 -gzip -bench <"$work/tars/new")
    go_s=$(python3 -c "print(round($go_s + $gsec, 2))")
    [[ -n ${ONLY_OUTPOST:-} ]] && continue
    od=${old_layers[$i]%% *}
    gzip -dc "$v1/blobs/sha256/$od" >"$work/tars/old"
    generic "$work/tars/old" "$work/tars/new"
  done
  unset have
  python3 - "$pair" "$go_s" "$plain" "$(secs op.d)" "$(secs op.w)" "$(secs op.a)" >>"$summary" <<'PY'
import sys
pair, go, plain, d, w, a = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), *map(float, sys.argv[4:])
print(f"{pair}: diff {d / go:.2f}x go gzip (goal <= 2), cached diff {plain / w / 1e6:.1f} MB/s of "
      f"{plain / 1e6:.1f} MB uncompressed (goal >= 50), apply {a / go:.2f}x go gzip (goal <= 1.5)")
PY
  # balena-style: the whole uncompressed image, old vs new
  if [[ -z ${ONLY_OUTPOST:-} ]]; then
  : >"$work/tars/old.img"; : >"$work/tars/new.img"
  for l in "${old_layers[@]}"; do gzip -dc "$v1/blobs/sha256/${l%% *}" >>"$work/tars/old.img"; done
  for l in "${new_layers[@]}"; do gzip -dc "$v2/blobs/sha256/${l%% *}" >>"$work/tars/new.img"; done
  rdiff_pair balena "$work/tars/old.img" "$work/tars/new.img"
  fi
  rm -rf "$work/tars"
  row "$pair" "docker native" "$native" - - -
  row "$pair" "go gzip (ref)" - "$go_s" - -
  for t in xdelta3 zstd-patch bsdiff rdiff balena; do
    if [[ -f $work/acc.$t ]]; then
      read -r b d a r <"$work/acc.$t"
      [[ $t == bsdiff && -f $work/bsdiff.skipped ]] && r="$r (partial: layers > $bsdiff_max B skipped)"
      row "$pair" "$t" "$b" "$d" "$a" "$r"
    elif [[ $t == bsdiff && -f $work/bsdiff.skipped ]]; then
      row "$pair" bsdiff skipped "(layer > $bsdiff_max B)" - -
    fi
  done
  rm -rf "$work/out" "$work/b.bundle"
done

printf '%-34s %-14s %14s %10s %10s %16s\n' "scenario/variant" tool bytes "diff s" "apply s" "peak RSS kB"
while IFS=$'\t' read -r p t b d a r; do
  printf '%-34s %-14s %14s %10s %10s %16s\n' "$p" "$t" "$b" "$d" "$a" "$r"
done <"$results"
echo
cat "$summary"
