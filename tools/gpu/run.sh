#!/usr/bin/env bash
# There (a lent GPU machine, in the repository root, with .gpu/carry.tar.gz carried): the one
# device call. Unpacks the prebuilt that tools/gpu/pack.sh made here, checks it against the
# machine's torch, runs the GPU tests and the GPU benchmarks, and writes results.json and
# results.md to $OUT (out/gpu when $OUT is unset).
#
#   tools/gpu/run.sh [--dry-run] [--carry DIR] [--budget SECONDS]
#
#   --dry-run   everything that needs no GPU, on the CPU, at the benchmarks' smallest size
#               (tests/gpu/rehearsal.sh runs it in a bare Debian root in CI)
#   --carry     the folder holding carry.tar.gz (default .gpu)
#   --budget    seconds the whole call may take (default 540): each step gets what is left
#
# The device tool: run with carry [".gpu"] and the command `bash tools/gpu/run.sh`.
# Environment: MUDIT_TORCH_ROOT (the torch package folder; default: python3's torch).
# Exit: 0 all passed; 1 a step failed (results.md says which); 2 bad use; 3 the carry does not
# fit this machine (missing, another torch, a library not found).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
DRY=0 CARRY=.gpu BUDGET=540
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --carry) CARRY=$2; shift ;;
    --budget) BUDGET=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
RESULTS=${OUT:-$ROOT/out/gpu}
mkdir -p "$RESULTS"
START=$(date +%s)
fail() { echo "run: $*" >&2; exit 3; }
left() { echo $((BUDGET - ($(date +%s) - START))); }

# --- the carry against this machine -----------------------------------------------------------
[ -f "$CARRY/carry.tar.gz" ] || fail "no $CARRY/carry.tar.gz: run tools/gpu/pack.sh here first"
PREFIX=$(mktemp -d /tmp/mudit-gpu.XXXXXX)
trap 'rm -rf "$PREFIX"' EXIT
tar -C "$PREFIX" -xzf "$CARRY/carry.tar.gz" || fail "cannot unpack $CARRY/carry.tar.gz"
TORCH=${MUDIT_TORCH_ROOT:-$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)}
[ -n "$TORCH" ] && [ -f "$TORCH/version.py" ] || fail "no torch found (set MUDIT_TORCH_ROOT)"
have=$(sed -n "s/^__version__ = '\(.*\)'$/\1/p" "$TORCH/version.py")
want=$(sed -n 's/^torch //p' "$PREFIX/stamp.txt")
[ "$have" = "$want" ] || fail "the carry was built against torch $want, this machine has $have:" \
  "pack a build made against $have"
export LD_LIBRARY_PATH="$PREFIX/lib:$TORCH/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
MUDIT=$PREFIX/bin/mudit
for p in "$MUDIT" "$PREFIX/tests/mudit_gpu_tests"; do
  lost=$(ldd "$p" | awk '$3 == "not" {print $1}' | tr '\n' ' ')
  [ -z "$lost" ] || fail "$(basename "$p") cannot load: $lost"
done
"$MUDIT" --version >"$RESULTS/version.txt" 2>&1 || fail "mudit --version failed"
version=$(head -1 "$RESULTS/version.txt")
echo "run: $version ($(sed -n 's/^commit //p' "$PREFIX/stamp.txt")), torch $have"

if [ "$DRY" = 1 ]; then
  device=cpu card="CPU ($(nproc) cores, dry run)"
else
  device=cuda
  card=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
  [ -n "$card" ] || fail "nvidia-smi finds no GPU (use --dry-run on a machine without one)"
fi
echo "run: device $device: $card"

# --- steps ---------------------------------------------------------------------------------------
declare -a names statuses seconds
step() {  # step NAME TIMEOUT_SHARE COMMAND...: runs with a share of the budget left, logs to $RESULTS
  local name=$1 share=$2; shift 2
  local limit=$(( $(left) * share / 100 ))
  local t0=$(date +%s) status
  if [ "$limit" -lt 10 ]; then
    status="not run (budget spent)"
  else
    timeout "$limit" "$@" >"$RESULTS/$name.log" 2>&1
    case $? in
      0) status=passed ;;
      124) status="timed out after ${limit} s" ;;
      *) status=failed ;;
    esac
  fi
  names+=("$name") statuses+=("$status") seconds+=($(( $(date +%s) - t0 )))
  echo "run: $name: $status ($(( $(date +%s) - t0 )) s)"
}

step gpu-tests 50 "$PREFIX/tests/mudit_gpu_tests" --gtest_output="json:$RESULTS/gpu-tests.json"
bench_args=(device --device "$device" --json "$RESULTS/bench.json")
[ "$DRY" = 1 ] && bench_args+=(--scale tiny --warmup 1 --repeats 2)
step bench 90 "$MUDIT" bench "${bench_args[@]}"

# --- results -------------------------------------------------------------------------------------
tests_line=$(grep -E '^\[  (PASSED|SKIPPED|FAILED) +\] [0-9]+ tests?' "$RESULTS/gpu-tests.log" 2>/dev/null |
  sed 's/^\[ *\([A-Z]*\) *\] \([0-9]*\) tests\{0,1\}.*/\2 \1/' | tr 'A-Z' 'a-z' | paste -sd, - | sed 's/,/, /g')
{
  echo "# mudit on $card"
  echo
  echo "$version, torch $have, $(date -u +%Y-%m-%dT%H:%M:%SZ)."
  echo
  echo "| step | result | seconds |"
  echo "|---|---|---|"
  for i in "${!names[@]}"; do echo "| ${names[$i]} | ${statuses[$i]} | ${seconds[$i]} |"; done
  echo
  echo "GPU tests: ${tests_line:-no summary}"
  echo
  if [ -f "$RESULTS/bench.log" ] && grep -q '^suite ' "$RESULTS/bench.log"; then
    echo "| measurement | value | unit | IQR |"
    echo "|---|---|---|---|"
    # mudit bench's table: suite (9 wide), measurement (40), value (14), unit (10), IQR (23), verdict
    awk '/^suite / {on = 1; next} on && length($0) > 50 {
      m = substr($0, 11, 40); v = substr($0, 52, 14); u = substr($0, 68, 10); q = substr($0, 79, 23)
      gsub(/^ +| +$/, "", m); gsub(/^ +| +$/, "", v); gsub(/^ +| +$/, "", u); gsub(/^ +| +$/, "", q)
      print "| " m " | " v " | " u " | " q " |" }' "$RESULTS/bench.log"
  fi
} >"$RESULTS/results.md"
{
  printf '{"card": "%s", "device": "%s", "version": "%s", "torch": "%s", "dry_run": %s, "steps": [' \
    "$card" "$device" "$version" "$have" "$([ "$DRY" = 1 ] && echo true || echo false)"
  for i in "${!names[@]}"; do
    [ "$i" -gt 0 ] && printf ', '
    printf '{"name": "%s", "result": "%s", "seconds": %s}' "${names[$i]}" "${statuses[$i]}" "${seconds[$i]}"
  done
  printf ']}\n'
} >"$RESULTS/results.json"
echo "run: wrote $RESULTS/results.md and results.json"
for s in "${statuses[@]}"; do [ "$s" = passed ] || exit 1; done
exit 0
