#!/usr/bin/env bash
# Installs mudit from BUILD into a scratch prefix, builds tests/consumer against it and runs it.
set -euo pipefail
build=$1
src=$2
work="$build/consumer"
# The install refreshes the prefix in place; the consumer build reconfigures only when new (Ninja
# re-runs CMake by itself when the installed package files change).
cmake --install "$build" --prefix "$work/prefix" >"$work.install.log" 2>&1 || {
  cat "$work.install.log"; exit 1; }
if [ ! -f "$work/build/build.ninja" ]; then
  launcher=""
  if command -v ccache >/dev/null; then launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"; fi
  cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release $launcher \
    -DCMAKE_PREFIX_PATH="$work/prefix" >"$work.configure.log" 2>&1 || {
    cat "$work.configure.log"; exit 1; }
fi
cmake --build "$work/build" >"$work.build.log" 2>&1 || { cat "$work.build.log"; exit 1; }
out=$("$work/build/consumer")
echo "$out"
grep -q "caught: typo.yaml:1:8: unknown key 'frams' (did you mean 'frames'?)" <<<"$out"
grep -q "frames=32" <<<"$out"
# The installed CLI runs from the prefix without LD_LIBRARY_PATH.
"$work/prefix/bin/mudit" --version | grep -q "LibTorch"
echo "consumer OK"
