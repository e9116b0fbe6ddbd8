#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 into ./build-fuzz and runs each for a fixed time
# (FUZZ_SECONDS, default 20), starting from its seeds in fuzz/corpus/NAME/ (one target per
# folder there; fuzz/make_seeds.cc writes them). Fails on any crash, leak, sanitizer report or
# timeout. What a run finds new stays in build-fuzz/fuzz-corpus/, not in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-20}
build=build-fuzz
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOUTPOST_FUZZ=ON -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
names=()
for dir in fuzz/corpus/*/; do names+=("$(basename "$dir")"); done
cmake --build "$build" -j "$(nproc)" --target "${names[@]/#/fuzz_}"

for name in "${names[@]}"; do
  work=$build/fuzz-corpus/$name
  mkdir -p "$work"
  echo "fuzz: fuzz_$name for ${seconds}s"
  "$build/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=0 \
    "$work" "fuzz/corpus/$name" 2>"$build/fuzz-$name.log" || { tail -40 "$build/fuzz-$name.log"; exit 1; }
done
echo "fuzz: no crashes"
