#!/usr/bin/env bash
# Do generated songs follow the prompt's tempo and mode more often than unconditional ones?
#   [CFG=3] tools/experiments/control_accuracy.sh BUNDLE MANIFEST OUT [STEPS]
# For every held-out song of MANIFEST whose felt tempo is fast (>= 120 BPM) or slow (< 90), one
# song is generated from its first professional description, one from its first amateur
# description and one with no description (the baseline: the learned null condition, no
# guidance), each with the song's lyrics, duration and the same seed. `mudit analyze` estimates
# tempo and key; the table gives, per prompt kind, the share of songs in the prompt's tempo class
# (estimate >= 105 BPM is fast), within 8 % of the prompt's tempo, and in its mode; the last row
# is the same analysis of the real songs (what the estimators reach on the truth).
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
rm -rf "$OUT/songs"
"$MUDIT" sample --bundle "$BUNDLE" --input "$OUT/requests.jsonl" --out "$OUT/songs" --log-level warn
"$MUDIT" analyze "$OUT"/songs/*.wav --log-level warn > "$OUT/analysis.jsonl"
# The analysis of the real held-out songs: how far the estimators themselves get.
mapfile -t refs < <(python3 -c 'import json,sys; [print(v["audio"]) for v in json.load(open(sys.argv[1])).values()]' "$OUT/targets.json")
"$MUDIT" analyze "${refs[@]}" --log-level warn > "$OUT/reference.jsonl"
python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
targets = json.load(open(f"{out}/targets.json"))
rows = {}
by_audio = {v["audio"]: k for k, v in targets.items()}
lines = [(json.loads(l), None) for l in open(f"{out}/analysis.jsonl")]
lines += [(json.loads(l), "reference audio") for l in open(f"{out}/reference.jsonl")]
for a, ref in lines:
    if ref:
        song, kind = by_audio[a["file"]], ref
    else:
        song, kind = os.path.basename(a["file"])[:-4].rsplit(".", 1)
    t = targets[song]
    r = rows.setdefault(kind, {"n": 0, "class": 0, "tempo8": 0, "mode_n": 0, "mode": 0})
    r["n"] += 1
    r["class"] += (a["bpm"] >= 105) == (t["bpm"] >= 120)
    r["tempo8"] += abs(a["bpm"] - t["bpm"]) <= 0.08 * t["bpm"]
    if t["mode"] in ("major", "minor"):
        r["mode_n"] += 1
        r["mode"] += a["key"].endswith(t["mode"])
print("| prompts | songs | tempo class | tempo within 8 % | mode (major/minor songs) |")
print("|---|---|---|---|---|")
for kind in ("professional", "amateur", "none", "reference audio"):
    r = rows[kind]
    print(f'| {kind} | {r["n"]} | {r["class"] / r["n"]:.3f} | {r["tempo8"] / r["n"]:.3f} | '
          f'{r["mode"] / max(1, r["mode_n"]):.3f} ({r["mode_n"]}) |')
PY
