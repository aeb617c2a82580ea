#!/usr/bin/env bash
# Every suite that measures against PyTorch, at its smallest size with its PyTorch baseline: the
# runs interleave, report medians with interquartile ranges and a verdict, and the outputs agree
# within the stated tolerance. A port that drifts from the C++ model fails the run.
#
#   tests/integration/bench_smallest.sh MUDIT PYTHON SOURCE_DIR
set -euo pipefail
MUDIT=$1 PY=$2 SRC=$3
"$PY" -c 'import torch, safetensors' 2>/dev/null || { echo "skip: $PY lacks torch or safetensors"; exit 77; }
WORK=$(mktemp -d /tmp/mudit-bench-smallest.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export MUDIT_PYTHON=$PY OMP_WAIT_POLICY=PASSIVE

MUDIT_BENCH_SCRIPTS="$SRC/tools/bench" "$MUDIT" bench vocoder generator --scale tiny --warmup 2 \
  --repeats 7 --bench-threads 1 --json "$WORK/bench.json" --log-level warn | tee "$WORK/table.txt"

"$PY" - "$WORK/bench.json" <<'PY'
import json, sys
results = {r["name"]: r for r in json.load(open(sys.argv[1]))["results"]}
fails = []
def need(name, cond, what):
    if name not in results:
        fails.append(f"missing measurement '{name}'")
    elif not cond(results[name]):
        fails.append(f"'{name}': {what}: {results[name]}")
def expected_verdict(cpp, py):
    # C++'s interquartile range wholly below PyTorch's: faster; wholly above: slower.
    if cpp["iqr"][1] < py["iqr"][0]:
        return "faster"
    if cpp["iqr"][0] > py["iqr"][1]:
        return "slower"
    return "same"
for pair in ["tiny RTF", "tiny sampling RTF", "tiny train step"]:
    # The field is there and ordered (a median lies inside its own range by construction).
    for side in ["C++", "PyTorch"]:
        need(f"{pair} {side}", lambda r: r["value"] > 0 and r["iqr"][0] <= r["iqr"][1],
             "a positive median with its interquartile range")
    if fails:
        continue
    cpp, py = results[f"{pair} C++"], results[f"{pair} PyTorch"]
    # The speed-up is PyTorch's median over C++'s, and its verdict follows the ranges.
    need(f"{pair} speed-up", lambda r: abs(r["value"] - py["value"] / cpp["value"]) <= 1e-6 * r["value"],
         f"PyTorch's median over C++'s ({py['value']} / {cpp['value']})")
    need(f"{pair} speed-up", lambda r: r["verdict"] == expected_verdict(cpp, py),
         f"the verdict the ranges give ({expected_verdict(cpp, py)})")
for name, tol in [("tiny max |C++ - PyTorch|", 1e-4), ("tiny forward |C++ - PyTorch|", 1e-4),
                  ("tiny first loss |C++ - PyTorch|", 1e-5)]:
    need(name, lambda r: 0 <= r["value"] <= tol and r["unit"] == f"<= {tol:g}", f"within {tol:g}")
if fails:
    print("\n".join(fails))
    sys.exit(1)
print(f"ok: {len(results)} measurements")
PY

# A port that drifts (its audio scaled by 1.01) is caught: exit 4 (a run-time error), naming the
# disagreement, and no JSON is written.
mkdir -p "$WORK/drifted"
cp "$SRC"/tools/bench/*.py "$WORK/drifted/"
sed -i 's/            state\["out"\] = model(mel)/            state["out"] = model(mel) * 1.01/' \
  "$WORK/drifted/hifigan_eager.py"
grep -q 'model(mel) \* 1.01' "$WORK/drifted/hifigan_eager.py"
set +e
MUDIT_BENCH_SCRIPTS="$WORK/drifted" "$MUDIT" bench vocoder --scale tiny --warmup 0 --repeats 1 --log-level warn \
  --json "$WORK/drifted.json" >"$WORK/drifted.log" 2>&1
status=$?
set -e
cat "$WORK/drifted.log"
[ "$status" = 4 ] || { echo "FAIL: a drifted port exited $status, not 4"; exit 1; }
grep -q 'over the tolerance 0.0001: the C++ model and its PyTorch port disagree' "$WORK/drifted.log"
[ ! -e "$WORK/drifted.json" ] || { echo "FAIL: a failed run left its JSON"; exit 1; }
echo "ok: a drifted port is refused"
