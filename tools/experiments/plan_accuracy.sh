#!/usr/bin/env bash
# Do generated songs follow their musical plan, and their descriptions through it?
#   tools/experiments/plan_accuracy.sh BUNDLE MANIFEST OUT [SONGS] [STEPS]
# For the first SONGS (64) synthetic songs of MANIFEST (held out: labels.json beside each), with
# each song's lyrics, duration and seed, STEPS (30) sampler steps:
#   own           the song's own plan (mudit plan --labels), no description
#   other         the next song's plan, no description: scored against that plan and against
#                 the song's own labels (it must follow the plan, not the song)
#   professional  its first professional description (the plan from what the text states)
#   amateur       its first amateur description (the plan from the bundle's plan head, if any)
#   none          no description and no plan: the baseline
# and the real songs themselves (what the estimators reach on the truth). `mudit eval --metrics
# plan,control` scores each set; the table gives beat F (±70 ms), tempo within 8 %, chord per
# bar and key (exact / weighted) against the plan given and against the song's labels, and the
# tempo class (fast / slow) of the control metric.
set -euo pipefail
BUNDLE=$1 MANIFEST=$2 OUT=$3 SONGS=${4:-64} STEPS=${5:-30}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MUDIT=${MUDIT:-$ROOT/build/bin/mudit}
mkdir -p "$OUT/plans"
python3 - "$MANIFEST" "$OUT" "$SONGS" "$STEPS" <<'PY'
import json, os, sys
manifest, out, n, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
root = os.path.dirname(os.path.abspath(manifest))
songs = [json.loads(l) for l in open(manifest) if l.strip()][:n]
with open(f"{out}/songs.txt", "w") as f:
    for e in songs:
        f.write(f'{e["id"]} {os.path.join(root, os.path.dirname(e["audio"]), "labels.json")}\n')
sets = {"own": [], "other": [], "text": []}
for i, e in enumerate(songs):
    base = {"lyrics": e["lyrics"], "duration": e["duration"], "seed": i, "steps": steps}
    plan = lambda j: os.path.abspath(f'{out}/plans/{songs[j]["id"]}.json')
    sets["own"].append(dict(base, id=e["id"], plan=plan(i)))
    sets["other"].append(dict(base, id=e["id"], plan=plan((i + 1) % len(songs))))
    for reg in ("professional", "amateur"):
        sets["text"].append(dict(base, id=f'{e["id"]}.{reg}',
                                 description=e["descriptions"][reg][0]["text"]))
    sets["text"].append(dict(base, id=f'{e["id"]}.none'))
for name, reqs in sets.items():
    with open(f"{out}/requests_{name}.jsonl", "w") as f:
        for r in reqs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
PY
while read -r id labels; do
  [ -f "$OUT/plans/$id.json" ] || "$MUDIT" plan --labels "$labels" --out "$OUT/plans/$id.json" \
    --log-level warn >/dev/null
done <"$OUT/songs.txt"
rm -rf "$OUT/real"
mkdir -p "$OUT/real"
python3 -c 'import json, os, sys
root = os.path.dirname(os.path.abspath(sys.argv[1]))
for l in list(open(sys.argv[1]))[:int(sys.argv[3])]:
    e = json.loads(l)
    os.symlink(os.path.join(root, e["audio"]), os.path.join(sys.argv[2], e["id"] + ".wav"))' \
  "$MANIFEST" "$OUT/real" "$SONGS"
for set in own other text; do
  if [ ! -f "$OUT/eval_$set/metrics.json" ]; then
    rm -rf "$OUT/songs_$set"
    "$MUDIT" sample --bundle "$BUNDLE" --input "$OUT/requests_$set.jsonl" --out "$OUT/songs_$set" \
      --log-level warn
    "$MUDIT" eval --generated "$OUT/songs_$set" --reference "$MANIFEST" --metrics plan,control \
      --no-report-audio --out "$OUT/eval_$set" --log-level warn
  fi
done
[ -f "$OUT/eval_real/metrics.json" ] ||
  "$MUDIT" eval --generated "$OUT/real" --reference "$MANIFEST" --metrics plan,control \
    --no-report-audio --out "$OUT/eval_real" --log-level warn
python3 - "$OUT" <<'PY' | tee "$OUT/table.md"
import json, sys
out = sys.argv[1]
rows = [("own plan", "own", "plan"), ("another song's plan", "other", "plan"),
        ("professional description", "text", "professional"),
        ("amateur description", "text", "amateur"), ("no description, no plan", "text", "none"),
        ("the real songs", "real", "unknown")]
def cell(g, k, n):
    return f'{g[k]:.3f}' if g and g.get(n, 0) > 0 else ""
print("| songs | n | against | beat F | tempo ±8 % | chord per bar | key | key (weighted) | tempo class |")
print("|---|---|---|---|---|---|---|---|---|")
for label, s, reg in rows:
    groups = json.load(open(f"{out}/eval_{s}/metrics.json"))["groups"].get(reg, {})
    control = groups.get("control", {})
    for against in ("given", "labels"):
        g = groups.get(f"plan_{against}")
        if not g:
            continue
        tc = f'{control["tempo_class"]:.3f}' if against == "labels" and control.get("tempo_class_songs") else ""
        print(f'| {label} | {int(g["songs"])} | {"the plan given" if against == "given" else "its labels"} '
              f'| {cell(g, "beat_f", "beat_songs")} | {cell(g, "tempo_within_8pct", "beat_songs")} '
              f'| {cell(g, "chord_bar_accuracy", "bars")} | {cell(g, "key", "key_songs")} '
              f'| {cell(g, "key_weighted", "key_songs")} | {tc} |')
PY
