#!/usr/bin/env bash
# Build an arm64 (aarch64) version of the corpus's "security update" base-layer pair:
#
#   WORKDIR/tars/base-v1.tar   Debian bookworm arm64 base packages, versions = column 2 of versions.lock
#   WORKDIR/tars/base-v2.tar   the same packages at column 3 (bookworm-security / -updates versions)
#
# Both are uncompressed layer tars built exactly like base-v1/base-v2 of the x86-64 corpus
# (/work/shared/corpus/make_corpus.sh, functions mkbase + mktar): tools/corpus.py extract +
# usrmerge + mktar with the same fixed times T1/T2, only from the arm64 .debs.  They let the
# layer bench measure outpost's ELF handling on AArch64 code (e_machine 183) as well as x86-64:
#
#   build/bench/delta_layer_bench/delta_layer_bench --classes \
#       WORKDIR/tars/base-v1.tar:WORKDIR/tars/base-v2.tar
#
# Usage:  make_arm64_pair.sh [WORKDIR] [VERSIONS_LOCK]
#   WORKDIR        default /tmp/outpost-corpus-arm64 (outside the repository)
#   VERSIONS_LOCK  the x86-64 corpus's lock (pkg v1 v2 suite), default
#                  ${OUTPOST_CORPUS:-/tmp/outpost-corpus}/versions.lock (run make_corpus.sh first)
# Needs root: adds the arm64 architecture to dpkg and updates apt's indexes when they lack it.
#
# Deterministic and re-runnable: the arm64 version chosen for each package/column is recorded in
# WORKDIR/versions-arm64.lock on the first run and reused afterwards (delete it to re-resolve);
# .debs are cached in WORKDIR/debs; every timestamp is fixed; build/ is wiped on each run.
# Architecture-all packages have no arm64 build and are downloaded as pkg=ver (the _all.deb).
# If the lock's version has no arm64 build (e.g. a per-architecture binNMU "+bN"), the nearest
# arm64 version is used (highest one <= the lock's version, else the lowest one above) and a
# WARNING line is printed.
set -euo pipefail
export LC_ALL=C TZ=UTC
umask 022

W=${1:-/tmp/outpost-corpus-arm64}
XLOCK=${2:-${OUTPOST_CORPUS:-/tmp/outpost-corpus}/versions.lock}
CORPUS=$(cd "$(dirname "$0")/../../../shared/corpus" && pwd)   # make_corpus.sh and tools/corpus.py
PY="python3 $CORPUS/tools/corpus.py"
ARCH=arm64
DEBS=$W/debs
B=$W/build
export CORPUS_BUILD=$B
ALOCK=$W/versions-arm64.lock                  # pkg col arch version   (arch = arm64 | all)
[ -s "$XLOCK" ] || { echo "no versions lock $XLOCK: build the x86-64 corpus first (../shared/corpus/make_corpus.sh)" >&2; exit 1; }
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  apt-get update -q >&2
fi
mkdir -p "$W" "$DEBS" "$W/tars"

# same fixed build times as make_corpus.sh
T1=1790812800        # 2026-10-01T00:00:00Z : v1 build
T2=1794700800        # 2026-11-15T00:00:00Z : v2 build

# copied verbatim from make_corpus.sh
BASE_PKGS="apt base-files bash ca-certificates coreutils curl dash debconf debian-archive-keyring debianutils diffutils
findutils git git-man gpgv grep gzip hostname libacl1 libapt-pkg6.0 libattr1 libaudit-common libaudit1 libblkid1
libbrotli1 libbz2-1.0 libc-bin libc6 libcap-ng0 libcap2 libcom-err2 libcrypt1 libcurl3-gnutls libcurl4 libdb5.3
libdebconfclient0 liberror-perl libexpat1 libffi8 libgcc-s1 libgcrypt20 libgdbm-compat4 libgdbm6 libgmp10 libgnutls30
libgpg-error0 libgssapi-krb5-2 libhogweed6 libicu72 libidn2-0 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0
libldap-2.5-0 liblz4-1 liblzma5 libmd0 libmount1 libncursesw6 libnettle8 libnghttp2-14 libnsl2 libp11-kit0
libpam-modules libpam-modules-bin libpam-runtime libpam0g libpcre2-8-0 libperl5.36 libproc2-0 libpsl5
libpython3-stdlib libpython3.11-minimal libpython3.11-stdlib libreadline8 librtmp1 libsasl2-2 libsasl2-modules-db
libseccomp2 libselinux1 libsemanage-common libsemanage2 libsepol2 libsmartcols1 libsqlite3-0 libssh2-1 libssl3
libstdc++6 libsystemd0 libtasn1-6 libtinfo6 libtirpc-common libtirpc3 libudev1 libunistring2 libuuid1 libxml2
libxxhash0 libzstd1 login mawk media-types ncurses-base ncurses-bin netbase openssl passwd perl perl-base
perl-modules-5.36 procps python3 python3-minimal python3.11 python3.11-minimal readline-common sed sensible-utils
tar tzdata util-linux zlib1g"
# same order as make_corpus.sh's debs_for: package names sorted (C locale), duplicates removed
PKGS=$(echo $BASE_PKGS | tr ' ' '\n' | sort -u)

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
xver() { awk -v p="$1" -v c="$2" '$1==p {print $c}' "$XLOCK"; }   # xver PKG 2|3 -> x86 lock version

# ---------------------------------------------------------------- 1. arm64 versions
resolve() {  # resolve PKG COL -> "arch version" (arch = all | arm64)
  local p=$1 col=$2 v a cands best
  v=$(xver "$p" "$col"); [ -n "$v" ] || { echo "no version for $p in $XLOCK" >&2; exit 1; }
  # architecture-all at this version? (it is then the same .deb on every architecture)
  a=$(apt-cache show "$p=$v" 2>/dev/null | awk '/^Architecture:/ {print $2; exit}' || true)
  if [ "$a" = all ]; then echo "all $v"; return; fi
  cands=$(apt-cache madison "$p:$ARCH" 2>/dev/null | awk -F'|' -v p="$p" '
            { gsub(/ /, "", $1); gsub(/ /, "", $2) }
            ($1 == p || $1 == p":'$ARCH'") && $3 !~ /Sources/ {print $2}' | sort -u)
  [ -n "$cands" ] || { echo "no $ARCH version of $p at all" >&2; exit 1; }
  if echo "$cands" | grep -qxF -- "$v"; then echo "$ARCH $v"; return; fi
  best=""
  for c in $cands; do   # highest candidate <= v
    if dpkg --compare-versions "$c" le "$v" && { [ -z "$best" ] || dpkg --compare-versions "$c" gt "$best"; }; then best=$c; fi
  done
  if [ -z "$best" ]; then
    for c in $cands; do # else lowest candidate > v
      if [ -z "$best" ] || dpkg --compare-versions "$c" lt "$best"; then best=$c; fi
    done
  fi
  echo "WARNING: $p v$((col-1)): $v has no $ARCH build, using $best (available: $(echo $cands))" >&2
  echo "$ARCH $best"
}
touch "$ALOCK"
n=0
for p in $PKGS; do for col in 2 3; do
  if ! awk -v p="$p" -v c="$col" '$1==p && $2==c {f=1} END {exit !f}' "$ALOCK"; then
    r=$(resolve "$p" "$col")          # a failure here stops the script (set -e)
    echo "$p $col $r" >> "$ALOCK"; n=$((n+1))
  fi
done; done
sort -u -o "$ALOCK" "$ALOCK"
[ $n = 0 ] || log "resolved $n package versions -> $ALOCK"

# ---------------------------------------------------------------- 2. download (cached)
chown _apt "$DEBS" 2>/dev/null || true
debfile() {  # debfile PKG COL -> path of the cached .deb (downloads if needed)
  local p=$1 col=$2 a v enc f spec
  read -r a v < <(awk -v p="$p" -v c="$col" '$1==p && $2==c {print $3, $4}' "$ALOCK")
  enc=${v//:/%3a}
  f=$DEBS/${p}_${enc}_${a}.deb
  if [ ! -s "$f" ]; then
    if [ "$a" = all ]; then spec="$p=$v"; else spec="$p:$a=$v"; fi
    (cd "$DEBS" && apt-get download -q "$spec" >&2)
    [ -s "$f" ] || { echo "download of $spec did not produce $f" >&2; exit 1; }
  fi
  [ "$(dpkg-deb -f "$f" Architecture)" = "$a" ] || { echo "wrong architecture in $f" >&2; exit 1; }
  echo "$f"
}
debs_for() { local col=$1 p; for p in $PKGS; do debfile "$p" "$col"; done; }   # in package-name order
log "fetching $ARCH .debs into $DEBS"
for col in 2 3; do debs_for $col > /dev/null; done

# ---------------------------------------------------------------- 3. rootfs + tars (mkbase + mktar)
rm -rf "$B"; mkdir -p "$B/rootfs"
mkbase() {  # mkbase NAME COL EPOCH   (as make_corpus.sh)
  local r=$B/rootfs/$1
  log "rootfs $1"
  rm -rf "$r"; mkdir -p "$r"
  $PY extract "$r" $3 $(debs_for $2)
  $PY usrmerge "$r" $3
}
mktar() {   # mktar ROOTFS TARNAME DIR_MTIME [FORCE_MTIME]   (as make_corpus.sh, into WORKDIR/tars)
  log "tar $2"
  $PY mktar "$B/rootfs/$1" "$W/tars/$2.tar.tmp" "$3" "${4:-}"
  mv "$W/tars/$2.tar.tmp" "$W/tars/$2.tar"
}
mkbase base-v1 2 $T1
mktar base-v1 base-v1 $T1
rm -rf "$B/rootfs/base-v1"
mkbase base-v2 3 $T2
mktar base-v2 base-v2 $T2
rm -rf "$B"

(cd "$W/tars" && sha256sum base-v1.tar base-v2.tar) > "$W/TAR_SHA256"
log "done: $(cd "$W/tars" && ls -l base-v1.tar base-v2.tar | awk '{printf "%s %s  ", $9, $5}')"
