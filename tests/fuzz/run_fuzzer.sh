#!/usr/bin/env bash
# Runs a libFuzzer target from its seed corpus for a number of executions (or seconds).
#   run_fuzzer.sh BINARY SEED_DIR RUNS [SECONDS] [extra libFuzzer flags...]
# New inputs go to a scratch corpus that is removed afterwards (the seeds are never written).
# A finding leaves its input as crash-* / leak-* / timeout-* in $MUDIT_FUZZ_ARTIFACTS (default:
# the current folder) and fails the run. The last line: "fuzz NAME: N execs, cov C, ft F".
set -uo pipefail
bin=$1 seeds=$2 runs=$3 secs=${4:-0}
shift $(( $# < 4 ? $# : 4 ))
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
artifacts=${MUDIT_FUZZ_ARTIFACTS:-$PWD}
mkdir -p "$artifacts"
# LeakSanitizer stays on; LibTorch's and OpenMP's one-time allocations are reachable and exempt.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
args=(-runs="$runs" -seed=1 -max_len=65536 -timeout=30 -rss_limit_mb=4096 -print_final_stats=1
      -artifact_prefix="$artifacts/$(basename "$bin")-")
[ "$secs" != 0 ] && args+=(-max_total_time="$secs")
# Per-target flags: tests/fuzz/<name>.flags (fuzz_http keeps state across requests by design,
# tokens, jobs and the verified-header cache, so libFuzzer's per-input leak check only costs).
flags="$(dirname "${BASH_SOURCE[0]}")/$(basename "$bin" | sed 's/^fuzz_//').flags"
[ -f "$flags" ] && read -r -a extra <"$flags" && args+=("${extra[@]}")
"$bin" "${args[@]}" "$@" "$scratch" "$seeds" >"$scratch.log" 2>&1
status=$?
if [ $status -ne 0 ]; then
  tail -60 "$scratch.log"
  rm -f "$scratch.log"
  exit $status
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch.log")
cov=$(grep -o 'cov: [0-9]*' "$scratch.log" | tail -1 | cut -d' ' -f2)
ft=$(grep -o 'ft: [0-9]*' "$scratch.log" | tail -1 | cut -d' ' -f2)
rm -f "$scratch.log"
echo "fuzz $(basename "$bin"): ${execs:-0} execs, cov ${cov:-0}, ft ${ft:-0}"
