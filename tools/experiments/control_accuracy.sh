#!/usr/bin/env bash
# Do generated songs follow the prompt's tempo and mode more often than unconditional ones?
#   [CFG=3] [STYLE=1] [INSTRUMENTS=probe.safetensors] tools/experiments/control_accuracy.sh BUNDLE MANIFEST OUT [STEPS]
# For every held-out song of MANIFEST whose felt tempo is fast (>= 120 BPM) or slow (< 90), one
# song is generated from its first professional description, one from its first amateur
# description and one with no description (the baseline: the learned null condition, no
# guidance), each with the song's lyrics, duration and the same seed. `mudit eval --metrics
# control` scores them; the table gives, per prompt kind, the share of songs in the prompt's
# tempo class (estimate >= 105 BPM is fast), within 8 % of the prompt's tempo, and in its mode;
# the last row is the same analysis of the real songs (what the estimators reach on the truth).
# With STYLE=1, also one song conditioned on the held-out song's own audio (ChinMu audio
# embedding, the request's `style`): what a stage-2 generator reaches given the exact condition.
# With INSTRUMENTS (mudit fit-instruments), also the share of the prompt's instrument families
# detected and of the other families detected anyway.
set -euo pipefail
BUNDLE=$1 MANIFEST=$2 OUT=$3 STEPS=${4:-30}
export CFG=${CFG:-3}  # guidance scale of the prompted songs
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MUDIT=${MUDIT:-$ROOT/build/bin/mudit}
mkdir -p "$OUT"
python3 - "$MANIFEST" "$OUT" "$STEPS" <<'PY'
import json, os, sys
manifest, out, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
kinds = {"professional": [], "amateur": [], "none": []}
if os.environ.get("STYLE"):
    kinds["style"] = []
targets = {}
for i, line in enumerate(open(manifest)):
    e = json.loads(line)
    m = e["meta"]
    beat = m["bpm"] / (1.5 if m["meter"] == "6/8" else 1.0)
    if 90 <= beat < 120:
        continue
    targets[e["id"]] = {"bpm": beat, "mode": m["mode"],
                        "audio": os.path.join(os.path.dirname(manifest), e["audio"])}
    for kind in kinds:
        req = {"id": f'{e["id"]}.{kind}', "lyrics": e["lyrics"], "duration": e["duration"],
               "seed": i, "steps": steps}
        if kind == "none":
            req["cfg"] = 1.0
        elif kind == "style":
            req["style"] = os.path.abspath(targets[e["id"]]["audio"])
            req["cfg"] = float(os.environ["CFG"])
        else:
            req["description"] = e["descriptions"][kind][0]["text"]
            req["cfg"] = float(os.environ["CFG"])
        kinds[kind].append(req)
with open(f"{out}/requests.jsonl", "w") as f:
    for kind in kinds:
        for r in kinds[kind]:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
json.dump(targets, open(f"{out}/targets.json", "w"))
PY
rm -rf "$OUT/songs" "$OUT/real"
"$MUDIT" sample --bundle "$BUNDLE" --input "$OUT/requests.jsonl" --out "$OUT/songs" --log-level warn
# The real held-out songs, scored the same way: how far the estimators themselves get.
mkdir -p "$OUT/real"
python3 -c 'import json, os, sys
for k, v in json.load(open(sys.argv[1])).items():
    os.symlink(os.path.abspath(v["audio"]), os.path.join(sys.argv[2], k + ".wav"))' \
  "$OUT/targets.json" "$OUT/real"
for set in songs real; do
  "$MUDIT" eval --generated "$OUT/$set" --reference "$MANIFEST" --metrics control \
    ${INSTRUMENTS:+--instruments "$INSTRUMENTS"} --no-report-audio --out "$OUT/eval_$set" \
    --log-level warn
done
python3 "$ROOT/tools/experiments/control_table.py" "professional=$OUT/eval_songs/metrics.json:professional" \
  "amateur=$OUT/eval_songs/metrics.json:amateur" "none=$OUT/eval_songs/metrics.json:none" \
  ${STYLE:+"style=$OUT/eval_songs/metrics.json:style"} \
  "reference audio=$OUT/eval_real/metrics.json:unknown"
