#!/usr/bin/env bash
# Sets up a Debian 12 machine for mudit and builds it. Idempotent: a second run installs nothing
# and only rebuilds what changed.
#
#   tools/bootstrap.sh [--test-extras] [--no-build] [--build-dir DIR] [--build-type TYPE]
#
#   1. Debian packages (apt-get; needs root or sudo, only when something is missing)
#   2. LibTorch from the PyPI `torch` wheel, once per machine, in a virtual environment under
#      $MUDIT_HOME (default /opt/mudit, or ~/.local/share/mudit when /opt is not writable).
#      Skipped when Torch_DIR, MUDIT_TORCH_DIR or CMAKE_PREFIX_PATH points at a LibTorch.
#      --test-extras also installs the Python packages some tests compare against, and
#      Chromium (with CJK fonts) for the evaluation report's browser test.
#   3. CMake configure (Ninja, ccache, precompiled torch header, RelWithDebInfo) and build.
#
# Environment: MUDIT_HOME, MUDIT_TORCH_VERSION (default below), MUDIT_PYTHON_BOOTSTRAP (the
# python3 that creates the venv), Torch_DIR / MUDIT_TORCH_DIR / CMAKE_PREFIX_PATH (your LibTorch).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TORCH_VERSION=${MUDIT_TORCH_VERSION:-2.11.0}
BUILD_DIR="$ROOT/build"
BUILD_TYPE=RelWithDebInfo
TEST_EXTRAS=0
DO_BUILD=1

while [ $# -gt 0 ]; do
  case "$1" in
    --test-extras) TEST_EXTRAS=1 ;;
    --no-build) DO_BUILD=0 ;;
    --build-dir) BUILD_DIR=$2; shift ;;
    --build-type) BUILD_TYPE=$2; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bootstrap: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "bootstrap: $*"; }

# --- 1. Debian packages ---------------------------------------------------------------------
# One list for the whole project (tools/deps/debian.txt): the toolchain, tools, the libraries and
# data of the build, the run-time data of the tests; --test-extras adds a headless browser for the
# report's and the search page's tests, clang with its sanitizer and libFuzzer runtimes, valgrind.
roles=(toolchain tool build run)
[ "$TEST_EXTRAS" = 1 ] && roles+=(extra)
mapfile -t DEB_PACKAGES < <("$ROOT/tools/deps/list.sh" "${roles[@]}")
[ ${#DEB_PACKAGES[@]} -gt 0 ] || { echo "bootstrap: tools/deps/debian.txt lists nothing" >&2; exit 1; }

missing=()
while read -r pkg status; do
  [ "$status" = "installed" ] || missing+=("$pkg")
done < <(for p in "${DEB_PACKAGES[@]}"; do
  s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  echo "$p ${s:-absent}"
done)

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
      SUDO=sudo
    else
      echo "bootstrap: missing Debian packages and not root: apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  say "installing ${#missing[@]} Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
else
  say "${#DEB_PACKAGES[@]} Debian packages present"
fi

# --- 2. LibTorch ------------------------------------------------------------------------------
user_torch=""
for candidate in "${Torch_DIR:-}" "${MUDIT_TORCH_DIR:-}"; do
  if [ -n "$candidate" ] && { [ -f "$candidate/TorchConfig.cmake" ] ||
     [ -f "$candidate/share/cmake/Torch/TorchConfig.cmake" ]; }; then
    user_torch=$candidate
  fi
done
if [ -z "$user_torch" ] && [ -n "${CMAKE_PREFIX_PATH:-}" ]; then
  IFS=':' read -r -a prefixes <<<"$CMAKE_PREFIX_PATH"
  for p in "${prefixes[@]}"; do
    if [ -f "$p/Torch/TorchConfig.cmake" ] || [ -f "$p/share/cmake/Torch/TorchConfig.cmake" ]; then
      user_torch=$p
    fi
  done
fi

if [ -z "${MUDIT_HOME:-}" ]; then
  if [ -w /opt ] || [ -w /opt/mudit ]; then MUDIT_HOME=/opt/mudit; else MUDIT_HOME="$HOME/.local/share/mudit"; fi
fi
VENV="$MUDIT_HOME/venv"
PY="$VENV/bin/python3"

venv_has_torch() {
  [ -x "$PY" ] && "$PY" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$TORCH_VERSION' else 1)" 2>/dev/null
}

if [ -n "$user_torch" ]; then
  say "using your LibTorch at $user_torch"
elif venv_has_torch; then
  say "LibTorch $TORCH_VERSION present in $VENV"
else
  say "installing torch==$TORCH_VERSION (LibTorch) into $VENV — once per machine, a few GB"
  mkdir -p "$MUDIT_HOME"
  BOOT_PY=${MUDIT_PYTHON_BOOTSTRAP:-python3}
  [ -x "$PY" ] || "$BOOT_PY" -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip
  if ! "$PY" -m pip install -q "torch==$TORCH_VERSION"; then
    echo "bootstrap: the PyPI torch wheel could not be installed; falling back to Debian's" \
      "libtorch-dev (LibTorch 1.13, CPU only)" >&2
    DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq libtorch-dev >/dev/null
    user_torch=/usr
  fi
fi

if [ "$TEST_EXTRAS" = 1 ] && [ -z "$user_torch" ]; then
  req="$ROOT/tools/requirements-test.txt"
  stamp="$VENV/.mudit-test-extras"
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing test extras from tools/requirements-test.txt"
    "$PY" -m pip install -q -r "$req"
    echo "$want" >"$stamp"
  else
    say "test extras present"
  fi
fi

# --- 3. Configure and build -----------------------------------------------------------------
[ "$DO_BUILD" = 1 ] || exit 0

# Two build trees share the cache (this one and tools/fuzz.sh's clang sanitizer tree): more room
# than ccache's default 5 GB, so that neither evicts the other.
if command -v ccache >/dev/null; then
  max=$(ccache --get-config max_size 2>/dev/null | sed -n 's/^\([0-9]*\).*G.*$/\1/p')
  if [ -n "$max" ] && [ "$max" -lt 15 ]; then
    say "ccache: max_size ${max}G -> 15G"
    ccache --max-size 15G >/dev/null
  fi
fi

cmake_args=(-S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE")
if [ -n "$user_torch" ]; then
  cmake_args+=(-DMUDIT_TORCH_DIR="$user_torch")
else
  cmake_args+=(-DMUDIT_PYTHON="$PY")
fi
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  say "configuring $BUILD_DIR ($BUILD_TYPE)"
  mkdir -p "$BUILD_DIR"
  cmake "${cmake_args[@]}" >"$BUILD_DIR/configure.log" 2>&1 || {
    cat "$BUILD_DIR/configure.log" >&2
    exit 1
  }
fi
say "building (ninja, $(nproc) jobs)"
cmake --build "$BUILD_DIR" -- -j"$(nproc)"
say "done: $BUILD_DIR/bin/mudit"
