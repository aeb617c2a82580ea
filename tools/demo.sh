#!/usr/bin/env bash
# The main job: songs that follow their descriptions, end to end, on the built-in synthetic corpus.
#
#   tools/demo.sh [--retrain] [--songs N] [--heldout N] [--out DIR]
#
# The first run sets the machine up, builds mudit and builds a bundle from nothing at the demo
# presets (configs/demo/): a synthetic corpus (--songs, 400 songs of 8 s) and held-out songs; the
# mel VAE decoded by Griffin-Lim, its round trip measured on held-out songs (the demo stops when
# the beats do not survive it); the tiny ChinMu; the plan head; mudit prepare with each song's
# musical plan; the tiny MuSiT with the plan. Later runs reuse the bundle (--retrain rebuilds it);
# a bundle from another mudit version or other demo configs is refused. Then the songs of
# configs/demo/prompts.jsonl and, for --heldout (16) held-out songs, one from each song's
# professional description, one from its amateur description and one from nothing, all scored by
# mudit eval into DIR/metrics.json and DIR/report.html. Interrupted, it resumes where it stopped.
#
# For tests (tests/integration/demo_small.sh): DEMO_TRAIN_STEPS (every training's steps instead
# of the configs'), DEMO_FLOOR (0.75: the codec round trip's beat F and tempo floor),
# DEMO_KEY_FLOOR (0.6: its weighted key floor), DEMO_CEILING_SONGS (24), MUDIT_DEMO_SKIP_BUILD
# (use the build as it is), MUDIT (the binary).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SONGS=400
HELDOUT=16
OUT="$ROOT/out/demo"
RETRAIN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --songs) SONGS=$2; shift ;;
    --heldout) HELDOUT=$2; shift ;;
    --out) OUT=$2; shift ;;
    --retrain) RETRAIN=1 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$SONGS$HELDOUT" in *[!0-9]*|'') echo "demo: --songs and --heldout take numbers" >&2; exit 2 ;; esac

[ -n "${MUDIT_DEMO_SKIP_BUILD:-}" ] || "$ROOT/tools/bootstrap.sh"
MUDIT=${MUDIT:-$ROOT/build/bin/mudit}
WORK="$OUT/work" BUNDLE="$OUT/bundle"
FLOOR=${DEMO_FLOOR:-0.75} KEY_FLOOR=${DEMO_KEY_FLOOR:-0.6} CEILING_SONGS=${DEMO_CEILING_SONGS:-24}
steps() {  # the --set arguments that replace a training's steps under DEMO_TRAIN_STEPS
  [ -n "${DEMO_TRAIN_STEPS:-}" ] || return 0
  local n=$DEMO_TRAIN_STEPS w=$(( DEMO_TRAIN_STEPS / 5 )) s
  printf -- '--set\ntrain.steps=%s\n' "$n"
  for s in schedule ${1:+disc_schedule}; do
    printf -- '--set\ntrain.%s.total_steps=%s\n--set\ntrain.%s.warmup_steps=%s\n' "$s" "$n" "$s" "$w"
  done
}
start=$(date +%s)
stage() { echo; echo "demo: $* [$(( $(date +%s) - start )) s]"; }
mudit() { "$MUDIT" "$@"; }

# What the bundle is built from: the mudit version, the demo configs, the corpus size.
stamp=$(printf '%s\nsongs %s, steps %s\n%s\n' "$("$MUDIT" --version | head -1 | cut -d' ' -f1-2)" \
  "$SONGS" "${DEMO_TRAIN_STEPS:-as configured}" \
  "$(cat "$ROOT"/configs/demo/*.yaml | sha256sum | cut -d' ' -f1)")
if [ "$RETRAIN" = 1 ]; then
  rm -rf "$WORK" "$BUNDLE"
fi
for dir in "$BUNDLE" "$WORK"; do
  if [ -f "$dir/demo.stamp" ] && [ "$(cat "$dir/demo.stamp")" != "$stamp" ]; then
    echo "demo: $dir was built by another mudit version or other demo configs" >&2
    diff <(cat "$dir/demo.stamp") <(echo "$stamp") | sed 's/^/demo:   /' >&2 || true
    echo "demo: rerun with --retrain to rebuild it (nothing was changed)" >&2
    exit 3
  fi
done
mkdir -p "$WORK"
echo "$stamp" >"$WORK/demo.stamp"

echo
mudit --version

if [ ! -f "$BUNDLE/pipeline.yaml" ]; then
  corpus=$WORK/corpus/manifest.jsonl valid=$WORK/valid/manifest.jsonl
  for spec in "corpus:$SONGS:0" "valid:$(( HELDOUT > CEILING_SONGS ? HELDOUT : CEILING_SONGS )):77"; do
    IFS=: read -r name n seed <<<"$spec"
    if [ ! -f "$WORK/$name/manifest.jsonl" ]; then
      stage "1. the synthetic corpus '$name': $n songs of 8 s (seed $seed)"
      rm -rf "$WORK/$name" "$WORK/$name.tmp"
      mudit synth --out "$WORK/$name.tmp" --songs "$n" --seconds 8 --seed "$seed" --log-level warn
      mv "$WORK/$name.tmp" "$WORK/$name"
    fi
  done
  if [ ! -f "$WORK/mel_vae/done" ]; then
    stage "2. the codec: the mel VAE (configs/demo/mel_vae.yaml), decoded by Griffin-Lim"
    mapfile -t extra < <(steps gan)
    mudit train --config "$ROOT/configs/demo/mel_vae.yaml" --run-dir "$WORK/mel_vae" \
      --set "data.manifest='$corpus'" --set "data.valid_manifest='$valid'" "${extra[@]}"
    touch "$WORK/mel_vae/done"
  fi
  if [ ! -f "$WORK/codec.safetensors" ]; then
    mudit convert codec --vae "$WORK/mel_vae" --vocoder griffin_lim --manifest "$corpus" \
      --max-songs 64 --out "$WORK/codec.safetensors" --log-level warn
  fi
  if [ ! -f "$WORK/ceiling.json" ]; then
    stage "3. what survives the codec: $CEILING_SONGS held-out songs and their round trip"
    mudit plan --score "$valid" --max-songs "$CEILING_SONGS" --codec "$WORK/codec.safetensors" \
      --log-level warn >"$WORK/ceiling.json.tmp"
    mv "$WORK/ceiling.json.tmp" "$WORK/ceiling.json"
  fi
  # The floor: a codec that loses the beats gives hums, whatever the generator learns.
  python3 - "$WORK/ceiling.json" "$FLOOR" "$KEY_FLOOR" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
real, trip = c["audio"], c["round_trip"]
print("demo:                     beat F  tempo ±8 %  chord/bar  key (weighted)")
for name, s in (("the real songs", real), ("their codec round trip", trip)):
    print(f"demo:   {name:22s} {s['beat_f']:.3f}   {s['tempo_within_8pct']:.3f}       "
          f"{s['chord_bar_accuracy']:.3f}      {s['key_weighted']:.3f}")
floor = float(sys.argv[2])
low = [k for k in ("beat_f", "tempo_within_8pct") if trip[k] < floor]
if low:
    print(f"demo: error: the codec's round trip keeps {', '.join(low)} below {floor}: its songs "
          "would not keep their beats. Train the mel VAE longer (raise train.steps in "
          "configs/demo/mel_vae.yaml), then rerun tools/demo.sh --retrain", file=sys.stderr)
    sys.exit(4)
key_floor = float(sys.argv[3])
if trip["key_weighted"] < key_floor:
    print(f"demo: error: the codec's round trip keeps the key at {trip['key_weighted']:.3f} "
          f"(weighted; the real songs {real['key_weighted']:.3f}), below {key_floor}: its songs "
          "would not keep their keys. Train the mel VAE longer (raise train.steps in "
          "configs/demo/mel_vae.yaml), then rerun tools/demo.sh --retrain", file=sys.stderr)
    sys.exit(4)
PY
  if [ ! -f "$WORK/chinmu/done" ]; then
    stage "4. the tiny ChinMu, text and audio towers (configs/demo/chinmu.yaml)"
    mapfile -t extra < <(steps)
    mudit train --config "$ROOT/configs/demo/chinmu.yaml" --run-dir "$WORK/chinmu" \
      --set "data.manifest='$corpus'" --set "data.valid_manifest='$valid'" "${extra[@]}"
    touch "$WORK/chinmu/done"
  fi
  if [ ! -f "$WORK/plan_head.safetensors" ]; then
    stage "5. the plan head: tempo, key and meter read off the description's embedding"
    mudit fit-plan-head --manifest "$corpus" --valid "$valid" --chinmu "$WORK/chinmu" \
      --out "$WORK/plan_head.safetensors" --log-level warn
  fi
  if [ ! -f "$WORK/prepared/index.json" ]; then
    stage "6. mudit prepare: latents, embeddings, phonemes and each song's plan from its labels"
    rm -rf "$WORK/prepared"
    mudit prepare --manifest "$corpus" --codec "$WORK/codec.safetensors" \
      --chinmu "$WORK/chinmu" --plan-source labels --out "$WORK/prepared" --log-level warn
  fi
  if [ ! -f "$WORK/musit/done" ]; then
    stage "7. the tiny MuSiT with the musical plan (configs/demo/musit.yaml)"
    mapfile -t extra < <(steps)
    mudit train --config "$ROOT/configs/demo/musit.yaml" --run-dir "$WORK/musit" \
      --set "data.shards='$WORK/prepared'" "${extra[@]}"
    touch "$WORK/musit/done"
  fi
  stage "8. the bundle: $BUNDLE"
  rm -rf "$BUNDLE.tmp"
  mudit bundle --codec "$WORK/codec.safetensors" --chinmu "$WORK/chinmu" \
    --generator "$WORK/musit" --plan-head "$WORK/plan_head.safetensors" --out "$BUNDLE.tmp" \
    --log-level warn
  cp "$WORK/ceiling.json" "$BUNDLE.tmp/codec_ceiling.json"
  echo "$stamp" >"$BUNDLE.tmp/demo.stamp"
  rm -rf "$BUNDLE"
  mv "$BUNDLE.tmp" "$BUNDLE"
else
  stage "the bundle $BUNDLE is reused (tools/demo.sh --retrain rebuilds it)"
fi

stage "9. the songs: configs/demo/prompts.jsonl and $HELDOUT held-out songs' descriptions"
rm -rf "$OUT/songs" "$OUT/songs.tmp" "$OUT/requests.jsonl"
python3 - "$ROOT/configs/demo/prompts.jsonl" "$WORK/valid/manifest.jsonl" "$HELDOUT" \
  >"$OUT/requests.jsonl" <<'PY'
import json, sys
prompts, manifest, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for line in open(prompts, encoding="utf-8"):
    if line.strip():
        print(line.strip())
songs = [json.loads(l) for l in open(manifest, encoding="utf-8") if l.strip()][:n]
for i, e in enumerate(songs):
    base = {"lyrics": e["lyrics"], "duration": e["duration"], "seed": 100 + i}
    for reg in ("professional", "amateur"):
        print(json.dumps(dict(base, id=f'{e["id"]}.{reg}',
                              description=e["descriptions"][reg][0]["text"]), ensure_ascii=False))
    print(json.dumps(dict(base, id=f'{e["id"]}.none'), ensure_ascii=False))
PY
mudit sample --bundle "$BUNDLE" --input "$OUT/requests.jsonl" --out "$OUT/songs.tmp" --log-level warn
mv "$OUT/songs.tmp" "$OUT/songs"

stage "10. mudit eval: $OUT/metrics.json and $OUT/report.html"
rm -rf "$OUT/eval.tmp"
mudit eval --generated "$OUT/songs" --reference "$WORK/valid/manifest.jsonl" \
  --chinmu "$BUNDLE/chinmu.safetensors" --metrics plan,control,saa --out "$OUT/eval.tmp" \
  --log-level warn
mv "$OUT/eval.tmp/metrics.json" "$OUT/metrics.json"
mv "$OUT/eval.tmp/report.html" "$OUT/report.html"
rm -rf "$OUT/eval.tmp"
python3 - "$OUT/metrics.json" "$OUT/songs" <<'PY'
import glob, json, os, sys
m = json.load(open(sys.argv[1]))
print("demo: each prompt's song: the plan it was given, and what the estimators hear")
for path in sorted(glob.glob(os.path.join(sys.argv[2], "*.json"))):
    name = os.path.basename(path)[:-5]
    if name.startswith("synth_"):
        continue
    side = json.load(open(path))
    plan = side.get("plan", {})
    src = plan.get("sources", {})
    row = next((r for r in m.get("songs", []) if r.get("id") == name), {})
    given = row.get("plan_given", {})
    print(f"demo:   {name:14s} plan: {plan.get('bpm', 0):.0f} BPM ({src.get('beats', '-')}), "
          f"key {plan.get('key', '-')} ({src.get('key', '-')}); heard: beat F "
          f"{given.get('beat_f', float('nan')):.2f}, tempo {'right' if given.get('tempo_8') else 'off'}")
print("demo: by register ('other': the prompts above), against the plan each song was given and")
print("demo: against the held-out song's labels; tempo class = fast / slow as its labels say")
print("demo:   register     against  songs  beat F  tempo ±8 %  chord/bar  key (weighted)  tempo class")
def cell(s, key, n):
    return f"{s[key]:.3f}" if s.get(n, 0) > 0 else "  -  "
for reg, g in sorted(m.get("groups", {}).items()):
    control = g.get("control", {})
    for against in ("plan_given", "plan_labels"):
        s = g.get(against)
        if not s or s.get("beat_songs", 0) == 0:
            continue
        tc = cell(control, "tempo_class", "tempo_class_songs") if against == "plan_labels" else ""
        print(f"demo:   {reg:12s} {against[5:]:8s} {int(s['songs']):5d}  {cell(s, 'beat_f', 'beat_songs')}   "
              f"{cell(s, 'tempo_within_8pct', 'beat_songs')}       {cell(s, 'chord_bar_accuracy', 'bars')}"
              f"      {cell(s, 'key_weighted', 'key_songs')}           {tc}")
PY
echo
echo "demo: listen to $OUT/songs/*.wav (each with its request and plan in a .json beside it);"
echo "demo: open $OUT/report.html for the tables, spectrograms and players ($(( $(date +%s) - start )) s)"
