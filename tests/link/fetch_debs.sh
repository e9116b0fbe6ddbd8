#!/usr/bin/env bash
# Downloads the real Debian packages WatchStory's Debian test builds its images from
# (tests/link/debian_image.h) into DIR (default /var/cache/outpost/debs, the test's default;
# $OUTPOST_DEBS overrides both): DIR/new/ holds apt's candidate of every package, DIR/old/ the
# bookworm release's version of the packages the story updates. Skips what is already there, so
# running it again downloads nothing. Needs apt's package lists (install-deps.sh updates them).
set -euo pipefail
dir=${1:-${OUTPOST_DEBS:-/var/cache/outpost/debs}}
packages=(perl-base perl-modules-5.36 libssl3 haproxy postgresql-client-15 libpq5 systemd libsystemd-shared
  mariadb-client apache2-utils libgpgme11 libzstd-dev redis-tools)
updated=(apache2-utils libgpgme11 libzstd-dev)  # keep in step with debian_image.cc

sudo=""
[[ $(id -u) -ne 0 && ! -w "$(dirname "$dir")" ]] && sudo="sudo"
$sudo mkdir -p "$dir/new" "$dir/old"
$sudo chmod a+rwx "$dir/new" "$dir/old"

have() { compgen -G "$1/$2_*.deb" >/dev/null; }
for p in "${packages[@]}"; do
  have "$dir/new" "$p" || (cd "$dir/new" && apt-get download -q "$p")
done
for p in "${updated[@]}"; do
  have "$dir/old" "$p" && continue
  version=$(apt-cache madison "$p" | awk -F' *[|] *' '$3 ~ / bookworm\/main / {print $2; exit}')
  [[ -n "$version" ]] || { echo "fetch_debs: no bookworm/main version of $p" >&2; exit 1; }
  (cd "$dir/old" && apt-get download -q "$p=$version")
done
echo "fetch_debs: the story's packages are in $dir"
