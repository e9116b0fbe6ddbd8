#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 into ./build-fuzz and runs each for a fixed time
# (FUZZ_SECONDS, default 20). Fails on any crash, leak, sanitizer report or timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-20}
build=build-fuzz
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOUTPOST_FUZZ=ON -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
targets=(fuzz_gzip_decoder fuzz_zstd_decoder fuzz_tar_reader fuzz_recipe_parser fuzz_bundle_head)
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"

# Seeds: one valid input per target, so the fuzzer starts past the magic numbers.
seeds=$build/fuzz-seeds
rm -rf "$seeds" && mkdir -p "$seeds"/{gzip,zstd,tar,recipe}
printf 'outpost fuzz seed\n%.0s' {1..50} > "$seeds/plain"
gzip -n -c "$seeds/plain" > "$seeds/gzip/a.gz"
cat "$seeds/gzip/a.gz" "$seeds/gzip/a.gz" > "$seeds/gzip/two-members.gz"
zstd -q -c "$seeds/plain" > "$seeds/zstd/a.zst"
tar --mtime=@0 -cf "$seeds/tar/a.tar" -C "$seeds" plain
echo 'v1 gzip hdr=1f8b08000000000000ff deflate=go:6' > "$seeds/recipe/go"
echo 'v1 zstd level=3 checksum=1 size=none workers=1' > "$seeds/recipe/zstd"
cp -r fuzz/corpus/bundle_head "$seeds/bundle_head"  # small signed and unsigned bundles

run() {  # target seed-dir
  local work=$build/fuzz-corpus/$1
  mkdir -p "$work"
  echo "fuzz: $1 for ${seconds}s"
  "$build/fuzz/$1" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=0 \
    "$work" "$seeds/$2" 2>"$build/fuzz-$1.log" || { tail -40 "$build/fuzz-$1.log"; exit 1; }
}
run fuzz_gzip_decoder gzip
run fuzz_zstd_decoder zstd
run fuzz_tar_reader tar
run fuzz_recipe_parser recipe
run fuzz_bundle_head bundle_head
echo "fuzz: no crashes"
