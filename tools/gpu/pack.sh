#!/usr/bin/env bash
# Here: packs what a lent GPU machine needs to run mudit into one folder to carry (default .gpu,
# ignored by git): the stripped `mudit`, its libraries and the GPU test programs of a CUDA build,
# the shared libraries they load that a bare machine lacks (every `ldd` hit outside glibc,
# libstdc++, libgcc and torch's own folder), and stamp.txt naming the torch the build linked.
#
#   tools/gpu/pack.sh [--build-dir DIR] [--out DIR]
#
# Why a prebuilt: the device machine has CUDA, PyTorch, CMake and Ninja but no Debian packages,
# and a call carries at most 64 MiB. Building there needs the `build` packages of
# tools/deps/debian.txt with their dependencies: 426 .deb files, 944 MB (FluidSynth pulls SDL and
# Mesa, aubio FFmpeg, FAISS BLAS). The prebuilt and its libraries are about 18 MB compressed.
# tools/gpu/run.sh refuses a carry whose torch differs from the machine's (the C++ ABI).
# The folder also holds carry.tar.gz, the same files compressed: carry that (`.gpu/carry.tar.gz`)
# and run.sh unpacks it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build
OUT=$ROOT/.gpu
LIMIT_MB=56   # of the 64 MiB a call carries, leaving room for the working tree
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD=$(cd "$2" && pwd); shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "pack: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

programs=("$BUILD/bin/mudit" "$BUILD/tests/mudit_gpu_tests")
for p in "${programs[@]}"; do
  [ -x "$p" ] || { echo "pack: $p is missing: build first (tools/bootstrap.sh)" >&2; exit 1; }
done
deps=$(ldd "$BUILD/bin/mudit")
torch_lib=$(awk '$1 == "libtorch_cpu.so" {print $3}' <<<"$deps" | xargs -r dirname)
[ -n "$torch_lib" ] || { echo "pack: $BUILD/bin/mudit does not load libtorch_cpu.so" >&2; exit 1; }
grep -q 'libtorch_cuda.so' <<<"$deps" || {
  echo "pack: $BUILD/bin/mudit is not a CUDA build (no libtorch_cuda.so)" >&2; exit 1; }
torch_version=$(sed -n "s/^__version__ = '\(.*\)'$/\1/p" "$torch_lib/../version.py")
[ -n "$torch_version" ] || { echo "pack: cannot read the torch version in $torch_lib/../version.py" >&2; exit 1; }
site=$(cd "$torch_lib/../.." && pwd)   # torch's own libraries and the nvidia wheels live here

tmp="$OUT.part"
rm -rf "$tmp"
mkdir -p "$tmp/bin" "$tmp/lib" "$tmp/tests"
strip -o "$tmp/bin/mudit" "$BUILD/bin/mudit"
strip -o "$tmp/tests/mudit_gpu_tests" "$BUILD/tests/mudit_gpu_tests"

# The run-time closure: every library ldd resolves, minus the C/C++ runtime (the machine's own
# is newer) and torch's folder (the machine's torch takes its place).
system='^(libc|libm|libpthread|libdl|librt|libutil|libresolv|ld-linux-x86-64|libstdc\+\+|libgcc_s)\.so'
missing=()
while read -r name arrow path _; do
  [ "$arrow" = "=>" ] || continue
  if [ "$path" = "not" ]; then missing+=("$name"); continue; fi
  [[ "$name" =~ $system ]] && continue
  case "$path" in "$site"/*) continue ;; esac
  if [ ! -e "$tmp/lib/$name" ]; then
    if [[ "$name" == libmudit* ]]; then strip -o "$tmp/lib/$name" "$(readlink -f "$path")"
    else cp -L "$path" "$tmp/lib/$name"; fi
  fi
done < <(for p in "${programs[@]}"; do ldd "$p"; done)
if [ ${#missing[@]} -gt 0 ]; then
  echo "pack: libraries not found here: ${missing[*]}" >&2; exit 1
fi

{
  echo "torch $torch_version"
  echo "site $site"   # where the packing machine keeps torch and the nvidia wheels
  echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+changes')"
  echo "packed $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$tmp/stamp.txt"

tar -C "$tmp" -czf "$tmp.tar.gz" bin lib tests stamp.txt
mv "$tmp.tar.gz" "$tmp/carry.tar.gz"
size_mb=$(du -sm "$tmp/carry.tar.gz" | cut -f1)
if [ "$size_mb" -gt "$LIMIT_MB" ]; then
  rm -rf "$tmp"
  echo "pack: $size_mb MB is over the $LIMIT_MB MB a device call can carry beside the tree" >&2
  exit 1
fi
rm -rf "$OUT"
mv "$tmp" "$OUT"
echo "pack: $OUT: $(ls "$OUT/lib" | wc -l) libraries, $(du -sm --exclude carry.tar.gz "$OUT" | cut -f1) MB;" \
  "carry.tar.gz $size_mb MB; torch $torch_version"
