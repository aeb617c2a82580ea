#!/usr/bin/env bash
# Here (a Debian 12 machine): downloads the .deb files that tools/gpu/check.sh unpacks on the GPU
# machine — the packages in tools/gpu/deps.txt and their library dependencies, minus what every
# Linux system already has.
#
#   tools/gpu/pack_deps.sh [OUT_DIR]     (default: .deps, ignored by git; carry it to the device)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-$ROOT/.deps}
mapfile -t wanted < <(grep -v '^#' "$ROOT/tools/gpu/deps.txt" | grep -v '^$' | grep -v ' nodeps' | awk '{print $1}')
mapfile -t alone < <(grep -v '^#' "$ROOT/tools/gpu/deps.txt" | grep ' nodeps' | awk '{print $1}')

# The C/C++ runtime and toolchain (with libc6-dev's own chain: crypt, nsl, tirpc, kerberos,
# ssl), and source-only packages, are present or unneeded there.
skip='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libcrypt1|libcrypt-dev|libnsl2|libnsl-dev'
skip+='|libtirpc.*|rpcsvc-proto|libgssapi-krb5-2|libk5crypto3|libkrb5.*|libkeyutils1|libcom-err2'
skip+='|libssl3|libgcc-s1|gcc-[0-9]+-base|libstdc\+\+6|libgomp1|catch2|googletest)$'
mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances "${wanted[@]}" 2>/dev/null |
  grep -v '^ ' | grep -v '^<' | sort -u | grep -Ev "$skip")

mkdir -p "$OUT"
rm -f "$OUT"/*.deb
(cd "$OUT" && apt-get download "${closure[@]}" "${alone[@]}" >/dev/null 2>&1)
echo "pack_deps: $((${#closure[@]} + ${#alone[@]})) packages, $(du -sh "$OUT" | cut -f1) in $OUT"
