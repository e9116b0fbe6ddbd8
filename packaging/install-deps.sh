#!/usr/bin/env bash
# Installs what outpost needs on Debian 12, and only what is missing (safe to run again).
#   install-deps.sh          build dependencies only
#   install-deps.sh --demo   also what packaging/demo.sh runs: docker-registry, skopeo, python3
#   install-deps.sh --test   also the real components the tests use: docker-registry, skopeo,
#                            umoci, the encoder oracles (Go, pgzip, pigz, gzip, zstd) and the
#                            generic differs the benchmark compares against, the AArch64 cross
#                            compiler the ELF_REF tests build their arm64 samples with, and what
#                            packaging/deb_test.sh checks the .deb with (systemd, man-db),
#                            and the Debian packages a story test builds its images from
#                            (tests/link/fetch_debs.sh).
set -euo pipefail

build_pkgs=(build-essential cmake ninja-build pkg-config git ca-certificates
  libboost-dev libboost-system-dev libssl-dev zlib1g-dev libzstd-dev librsync-dev
  libsqlite3-dev libyaml-cpp-dev libspdlog-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libxxhash-dev libbenchmark-dev libisal-dev
  libhowardhinnant-date-dev tzdata help2man libzydis-dev)
demo_pkgs=(docker-registry skopeo python3)
test_pkgs=(docker-registry skopeo umoci golang-go golang-github-klauspost-pgzip-dev
  golang-github-klauspost-compress-dev pigz gzip zstd python3 openssl apache2-utils
  xdelta3 bsdiff rdiff time jq clang-14 libclang-rt-14-dev curl systemd man-db adduser
  gcc-aarch64-linux-gnu)

want=("${build_pkgs[@]}")
[[ "${1:-}" == "--demo" ]] && want+=("${demo_pkgs[@]}")
[[ "${1:-}" == "--test" ]] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "outpost: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [[ "${1:-}" == "--test" ]]; then
  bash "$(dirname "$0")/../tests/link/fetch_debs.sh" >&2
fi
