#!/usr/bin/env bash
# Builds the .deb from an existing build (./build or $OUTPOST_BUILD_DIR), installs it with
# dpkg -i on this machine, and checks what an operator gets: `outpost --version`, the man pages,
# the `outpost` user, both units passing `systemd-analyze verify`, the configs as conffiles
# (and explaining what is missing with --check-config). Purges it afterwards. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${OUTPOST_BUILD_DIR:-build}
fail() { echo "deb_test: FAILED: $*" >&2; exit 1; }

cmake --build "$build" --target outpost outpost_man
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls -t "$build"/outpost_*.deb | head -1)
echo "deb_test: built $deb ($(du -k "$deb" | cut -f1) KiB)"
info=$(dpkg-deb --info "$deb")
grep -q 'Depends:.*libc6' <<<"$info" || fail "no shared-library dependencies in $deb"

dpkg -i "$deb" >/dev/null
trap 'dpkg --purge outpost >/dev/null 2>&1 || true' EXIT
version=$(/usr/bin/outpost --version)
grep -qx "outpost [0-9.]*" <<<"$version" || fail "outpost --version said: $version"
for page in outpost outpost-hub outpost-agent outpost-pki outpost-diff outpost-apply; do
  [[ -f /usr/share/man/man1/$page.1.gz ]] || fail "no man page $page(1)"
done
getent passwd outpost >/dev/null || fail "no outpost user"
grep -qx /etc/outpost/hub.yaml /var/lib/dpkg/info/outpost.conffiles || fail "hub.yaml is not a conffile"
for unit in outpost-hub outpost-agent; do
  out=$(systemd-analyze verify "/usr/lib/systemd/system/$unit.service" 2>&1) || fail "$unit: $out"
  [[ -z "$out" ]] || fail "$unit: systemd-analyze verify says: $out"
done
# The shipped configs parse; what they lack on a fresh machine is named (the certificates).
for d in hub agent; do
  if msg=$(outpost "$d" --config "/etc/outpost/$d.yaml" --check-config 2>&1); then
    fail "$d.yaml checked ok without certificates"
  fi
  grep -q "/etc/outpost/pki/" <<<"$msg" || fail "$d --check-config did not name the missing file: $msg"
done
dpkg --purge outpost >/dev/null
[[ ! -e /usr/bin/outpost && ! -e /etc/outpost/hub.yaml ]] || fail "purge left files behind"
echo "deb_test: ok (installed, --version, man pages, user, units verified, configs checked, purged)"
