#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds, and runs every test
# (unit and integration, against a real registry, skopeo and the encoder oracles) in parallel.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh --test
if [[ -z "${OUTPOST_FIXTURES:-}" && -d ../shared/fixtures ]]; then
  export OUTPOST_FIXTURES=$(cd ../shared/fixtures && pwd)
fi
bash packaging/build.sh "$@"
ctest --test-dir "${OUTPOST_BUILD_DIR:-build}" --output-on-failure -j "$(( $(nproc) * 2 ))" --timeout 900
