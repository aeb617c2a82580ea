#!/usr/bin/env bash
# Fuzzing and sanitizer runs, in a second build tree (default build-fuzz): clang, AddressSanitizer
# + UndefinedBehaviorSanitizer on mudit's code (LibTorch as shipped), libFuzzer coverage.
#
#   tools/fuzz.sh [--runs N] [--time S] [TARGET...]   each fuzz target (default: all) from its
#                                                      seeds in tests/fuzz/corpus/; a table of
#                                                      executions and coverage at the end
#   tools/fuzz.sh --unit [ctest arguments]             the unit tests under ASan + UBSan and a
#                                                      short run of every fuzz target (CTest
#                                                      labels sanitize_unit, one process per
#                                                      test executable, and fuzz; tools/test.sh)
#   tools/fuzz.sh --build-only
#
# Options: --build-dir DIR, --jobs J (ninja). Findings (crash-*, leak-*, timeout-*) are kept in
# $MUDIT_FUZZ_ARTIFACTS (default build-fuzz/findings). Needs clang and libclang-rt-14-dev
# (tools/bootstrap.sh --test-extras installs them). Exit status: non-zero on any finding.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build-fuzz"
RUNS=100000 TIME=0 MODE=fuzz JOBS=$(nproc)
targets=() ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift ;;
    --time) TIME=$2; shift ;;
    --build-dir) BUILD=$2; shift ;;
    --jobs) JOBS=$2; shift ;;
    --unit) MODE=unit; shift; ctest_args=("$@"); break ;;
    --build-only) MODE=build ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
all=(safetensors config manifest muchin lyrics wordpiece audio http plan)
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz: unknown target '$t' (${all[*]})" >&2; exit 2; }
done
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (tools/bootstrap.sh --test-extras)" >&2; exit 1; }

if [ ! -f "$BUILD/build.ninja" ]; then
  echo "fuzz: configuring $BUILD (clang, address,undefined, libFuzzer)"
  mkdir -p "$BUILD"
  # -O1 and line tables only: symbolised reports at half the compile time of -O2 -g.
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
    -DMUDIT_SANITIZE=address,undefined -DMUDIT_FUZZ=ON >"$BUILD/configure.log" 2>&1 || {
    cat "$BUILD/configure.log" >&2
    exit 1
  }
fi

# LibTorch's and OpenMP's one-time allocations are reachable at exit, not leaks; CUDA's loader
# needs the shadow gap.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:protect_shadow_gap=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ "$MODE" = unit ]; then
  # The executables of the tests labelled unit (tests/CMakeLists.txt: mudit_gtest(NAME unit ...)).
  units=$(sed -n 's/^ *mudit_gtest(\(mudit_[a-z0-9_]*\) unit .*/\1/p' "$ROOT/tests/CMakeLists.txt" | tr '\n' ' ')
  echo "fuzz: building the unit tests and fuzz targets under ASan + UBSan"
  # shellcheck disable=SC2086
  ninja -C "$BUILD" -j"$JOBS" $units "${all[@]/#/fuzz_}" >"$BUILD/build.log" 2>&1 || {
    tail -40 "$BUILD/build.log" >&2
    exit 1
  }
  exec ctest --test-dir "$BUILD" -L 'sanitize_unit|fuzz' --output-on-failure -j"$(nproc)" \
    --timeout 1500 "${ctest_args[@]}"
fi

echo "fuzz: building ${targets[*]}"
ninja -C "$BUILD" -j"$JOBS" "${targets[@]/#/fuzz_}" >/dev/null
[ "$MODE" = build ] && exit 0

export MUDIT_FUZZ_ARTIFACTS=${MUDIT_FUZZ_ARTIFACTS:-$BUILD/findings}
status=0 table=()
for t in "${targets[@]}"; do
  start=$(date +%s)
  if line=$("$ROOT/tests/fuzz/run_fuzzer.sh" "$BUILD/bin/fuzz_$t" "$ROOT/tests/fuzz/corpus/$t" \
              "$RUNS" "$TIME" | tail -1); then
    table+=("$t|${line#*: }|$(( $(date +%s) - start )) s|clean")
  else
    table+=("$t|-|$(( $(date +%s) - start )) s|FINDING (see $MUDIT_FUZZ_ARTIFACTS)")
    status=1
  fi
  echo "fuzz: $t done"
done
echo "| target | executions, coverage | time | result |"
echo "|---|---|---|---|"
for row in "${table[@]}"; do echo "| ${row//|/ | } |"; done
exit $status
