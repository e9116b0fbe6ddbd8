#!/usr/bin/env bash
# man_page.sh OUTPOST VERSION OUT [CMD]: OUT.gz, the man page of `outpost CMD` (`outpost` itself
# without CMD), made by help2man from its --help and named outpost-CMD as git's pages are.
set -euo pipefail
outpost=$1 version=$2 out=$3 cmd=${4:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
wrapper=$dir/outpost${cmd:+-$cmd}
printf '#!/bin/bash\nexec -a outpost %q %s "$@"\n' "$outpost" "$cmd" > "$wrapper"
chmod +x "$wrapper"
summary=$("$wrapper" --help | sed -n '1{s/^ *//;s/\.$//;p}')
help2man --no-info --version-string="$version" --name="$summary" "$wrapper" > "$out"
gzip -9nf "$out"
