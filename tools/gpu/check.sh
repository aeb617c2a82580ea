#!/usr/bin/env bash
# There (the lent GPU machine, in the repository root, with .deps carried): unpacks the Debian
# packages into a prefix, builds mudit against the machine's own torch, prints `mudit --version`
# and runs the tests labelled gpu (plus the unit tests, as a smoke test of the build).
#
#   tools/gpu/check.sh            (MUDIT_CHECK_PYTHON: the python3 holding torch; default python3)
# Logs go to $OUT when set (the device tool's output folder), else to build-gpu/.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PY=${MUDIT_CHECK_PYTHON:-python3}
PREFIX=${MUDIT_DEPS_PREFIX:-/tmp/mudit-deps}
BUILD=build-gpu
LOGS=${OUT:-$BUILD}
mkdir -p "$PREFIX" "$LOGS"

[ -d .deps ] || { echo "check: no .deps folder; run tools/gpu/pack_deps.sh here first" >&2; exit 1; }
for f in .deps/*.deb; do dpkg -x "$f" "$PREFIX"; done
multiarch=$PREFIX/usr/lib/x86_64-linux-gnu
export PATH="$PREFIX/usr/bin:$PATH"
export PKG_CONFIG_SYSROOT_DIR="$PREFIX"
export PKG_CONFIG_LIBDIR="$multiarch/pkgconfig:$PREFIX/usr/share/pkgconfig"
export LD_LIBRARY_PATH="$multiarch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

torch_prefix=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)') || {
  echo "check: $PY cannot import torch" >&2; exit 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null |
  sed 's/^/check: GPU /'

cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$PREFIX/usr;$multiarch/cmake" \
  -DCMAKE_INCLUDE_PATH="$PREFIX/usr/include" -DCMAKE_LIBRARY_PATH="$multiarch" \
  -DMUDIT_SHARED_DIR="$ROOT/shared" >"$LOGS/configure.log" 2>&1 || {
  tail -30 "$LOGS/configure.log"; exit 1; }
cmake --build "$BUILD" -- -j"$(nproc)" >"$LOGS/build.log" 2>&1 || { tail -40 "$LOGS/build.log"; exit 1; }

"$BUILD/bin/mudit" --version | tee "$LOGS/version.txt"
ctest --test-dir "$BUILD" -L gpu --output-on-failure --no-tests=ignore 2>&1 | tee "$LOGS/gpu-tests.log"
gpu_status=${PIPESTATUS[0]}
ctest --test-dir "$BUILD" -L unit -j"$(nproc)" 2>&1 | tail -3 | tee "$LOGS/unit-tests.log"
unit_status=${PIPESTATUS[0]}
echo "check: gpu tests exit $gpu_status, unit tests exit $unit_status"
[ "$gpu_status" = 0 ] && [ "$unit_status" = 0 ]
