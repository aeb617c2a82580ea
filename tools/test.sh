#!/usr/bin/env bash
# Builds mudit and runs every test except those labelled gpu; then, in a clang build with
# AddressSanitizer + UndefinedBehaviorSanitizer (build-fuzz), the unit tests again and a short
# run of every fuzz target (only when no ctest arguments are given; MUDIT_TEST_SANITIZE=0 skips).
#
#   tools/test.sh [extra ctest arguments, e.g. -L unit or -R Config]
#
# Exit status: the tests' result. The last line is a summary: "tests: N passed, N failed, N skipped".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
start=$(date +%s)

"$ROOT/tools/bootstrap.sh" --test-extras || { echo "test: bootstrap failed" >&2; exit 1; }
built=$(date +%s)

log="$ROOT/build/ctest.log"
ctest --test-dir "$ROOT/build" -LE gpu --output-on-failure -j"$(nproc)" --timeout 600 "$@" 2>&1 |
  tee "$log"
status=${PIPESTATUS[0]}

total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
skipped=$(grep -c '(Skipped)' "$log" || true)

# The sanitizer stage: the unit tests under ASan + UBSan and a short run of every fuzz target,
# in a clang build tree (build-fuzz; tools/fuzz.sh). MUDIT_TEST_SANITIZE=0 leaves it out.
if [ "${MUDIT_TEST_SANITIZE:-1}" != 0 ] && [ $# -eq 0 ]; then
  if command -v clang++ >/dev/null; then
    slog="$ROOT/build-fuzz/ctest.log"
    mkdir -p "$ROOT/build-fuzz"
    "$ROOT/tools/fuzz.sh" --unit 2>&1 | tee "$slog"
    sstatus=${PIPESTATUS[0]}
    [ "$sstatus" = 0 ] || status=$sstatus
    stotal=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$slog" | tail -1)
    sfailed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of.*/\1/p' "$slog" | tail -1)
    if [ -n "$stotal" ] && [ -n "$total" ]; then
      total=$((total + stotal))
      failed=$((failed + sfailed))
      skipped=$((skipped + $(grep -c '(Skipped)' "$slog" || true)))
    elif [ -z "$stotal" ]; then
      echo "test: the sanitizer stage did not run its tests (see above)"
      failed=$((${failed:-0} + 1))
      status=1
    fi
  else
    echo "test: clang++ not found (tools/bootstrap.sh --test-extras): sanitizer stage skipped"
  fi
fi
end=$(date +%s)
echo "test: build $((built - start)) s, tests $((end - built)) s, total $((end - start)) s"
if [ -n "$total" ]; then
  echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit "$status"
