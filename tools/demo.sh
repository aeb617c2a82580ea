#!/usr/bin/env bash
# The main job: songs from descriptions, end to end, on the built-in synthetic corpus.
#
#   tools/demo.sh [--songs N] [--out DIR]
#
# It sets the machine up, builds mudit and runs the pipeline at the tiny presets: the synthetic
# corpus (composed, rendered, sung and described songs with a manifest), one song's labels and
# descriptions, the phoneme coverage of its lyrics, the tiny wave VAE (with a round trip of one
# song), the tiny ChinMu, mudit prepare, the tiny MuSiT on description embeddings, a bundle, and
# the songs of configs/demo/prompts.jsonl. Short runs: the songs are rough. Evaluation and the
# reusable demo bundle are still to come.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SONGS=24
OUT="$ROOT/out/demo"
while [ $# -gt 0 ]; do
  case "$1" in
    --songs) SONGS=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

"$ROOT/tools/bootstrap.sh"
MUDIT="$ROOT/build/bin/mudit"

echo
"$MUDIT" --version

echo
echo "demo: 1. the synthetic corpus ($SONGS songs of 8 s) in $OUT/corpus"
"$MUDIT" synth --out "$OUT/corpus" --songs "$SONGS" --seconds 8 --seed 0

echo
echo "demo: 2. one song's labels and descriptions (listen: $OUT/corpus/songs/synth_000000/audio.wav)"
"$MUDIT" synth --describe "$OUT/corpus/songs/synth_000000"

echo
echo "demo: 3. the lyrics as phonemes: coverage over the corpus"
"$MUDIT" lyrics phonemes --stats "$OUT/corpus/manifest.jsonl"

echo
echo "demo: 4. the tiny wave VAE: 300 steps on the corpus, then one song through it"
"$MUDIT" train --config "$ROOT/configs/codec/wave_vae_tiny.yaml" --run-dir "$OUT/wave_vae" \
  --set "data.manifest='$OUT/corpus/manifest.jsonl'" --set train.steps=300 \
  --set train.schedule.total_steps=300 --set train.disc_schedule.total_steps=300 \
  --set train.validate_every=300 --set train.sample_every=0 --set train.checkpoint_every=300
"$MUDIT" convert codec --vae "$OUT/wave_vae" --manifest "$OUT/corpus/manifest.jsonl" \
  --out "$OUT/wave_vae.codec.safetensors"
song="$OUT/corpus/songs/synth_000000/audio.wav"
"$MUDIT" encode --codec "$OUT/wave_vae.codec.safetensors" --input "$song" \
  --out "$OUT/synth_000000.latents.safetensors"
"$MUDIT" decode --codec "$OUT/wave_vae.codec.safetensors" \
  --input "$OUT/synth_000000.latents.safetensors" --out "$OUT/synth_000000.wave_vae.wav"
echo "demo: listen to $OUT/synth_000000.wave_vae.wav (a few minutes of CPU: rough)"

echo
echo "demo: 5. the tiny ChinMu (text and audio towers): 400 steps of contrastive training,"
echo "         scored on 8 songs of another corpus"
"$MUDIT" synth --out "$OUT/valid_corpus" --songs 8 --seconds 8 --seed 77 --log-level warn
"$MUDIT" train --config "$ROOT/configs/chinmu/tiny.yaml" --run-dir "$OUT/chinmu" \
  --set "data.manifest='$OUT/corpus/manifest.jsonl'" \
  --set "data.valid_manifest='$OUT/valid_corpus/manifest.jsonl'" \
  --set train.steps=400 --set train.schedule.total_steps=400 --set train.validate_every=400 \
  --set train.checkpoint_every=400

echo
echo "demo: 6. mudit prepare: latents, ChinMu embeddings and phonemes into shards"
rm -rf "$OUT/prepared"
"$MUDIT" prepare --manifest "$OUT/corpus/manifest.jsonl" --codec "$OUT/wave_vae.codec.safetensors" \
  --chinmu "$OUT/chinmu" --out "$OUT/prepared"

echo
echo "demo: 7. the tiny MuSiT on description embeddings (stage 3 directly): 800 steps"
"$MUDIT" train --config "$ROOT/configs/generator/tiny.yaml" --run-dir "$OUT/musit" \
  --set "data.shards='$OUT/prepared'" --set model.condition=text --set train.steps=800 \
  --set train.schedule.total_steps=800 --set train.validate_every=0 --set train.checkpoint_every=800

echo
echo "demo: 8. a bundle, and the songs of configs/demo/prompts.jsonl"
rm -rf "$OUT/bundle" "$OUT/songs"
"$MUDIT" bundle --codec "$OUT/wave_vae.codec.safetensors" --chinmu "$OUT/chinmu" \
  --generator "$OUT/musit" --out "$OUT/bundle"
"$MUDIT" sample --bundle "$OUT/bundle" --input "$ROOT/configs/demo/prompts.jsonl" --out "$OUT/songs"
echo "demo: listen to $OUT/songs/*.wav (each with its parameters in a .json)"

cat <<'TXT'

demo: stages and their state:
  synth    synthetic corpus (mudit synth)                 ready (above)
  import   MuChin / sidecar folders (mudit import)        ready
  lyrics   G2P, rhyme (mudit lyrics phonemes|rhyme)       ready (above)
  codec    mel VAE + HiFiGAN / wave VAE (mudit train, encode, decode, vocode)  ready (above)
  chinmu   text/audio encoder (mudit train, embed, vocab)  ready (above)
  prepare  latents, embeddings, phonemes (mudit prepare)  ready (above)
  musit    generator (mudit train, task generator)        ready (above, a short run)
  sample   songs from configs/demo/prompts.jsonl          ready (above)
  eval     metrics.json + report.html (mudit eval)        not yet
  bundle   reused on later runs, --retrain                 not yet (every run retrains)
TXT
