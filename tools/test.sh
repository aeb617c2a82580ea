#!/usr/bin/env bash
# Builds mudit and runs every test except those labelled gpu.
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
ctest --test-dir "$ROOT/build" -LE gpu --output-on-failure -j"$(nproc)" --timeout 1500 "$@" 2>&1 |
  tee "$log"
status=${PIPESTATUS[0]}

total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
skipped=$(grep -c '(Skipped)' "$log" || true)
end=$(date +%s)
echo "test: build $((built - start)) s, tests $((end - built)) s, total $((end - start)) s"
if [ -n "$total" ]; then
  echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit "$status"
