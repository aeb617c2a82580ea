#!/usr/bin/env bash
# The main job: songs from descriptions, end to end, on the built-in synthetic corpus.
#
#   tools/demo.sh [--songs N] [--out DIR]
#
# Today it sets the machine up, builds mudit and runs the stages that exist: the synthetic
# corpus (composed, rendered, sung and described songs with a manifest), one song's labels and
# descriptions, the phoneme coverage of its lyrics, a short run of the tiny wave VAE with a
# round trip of one song through it, and a text-tower vocabulary of the descriptions. The stages
# still to come are listed at the end with their state.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SONGS=24
OUT="$ROOT/out/demo"
while [ $# -gt 0 ]; do
  case "$1" in
    --songs) SONGS=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
echo "demo: 5. a WordPiece vocabulary of the descriptions for the text tower"
"$MUDIT" vocab --manifest "$OUT/corpus/manifest.jsonl" --out "$OUT/vocab.txt"

cat <<'TXT'

demo: the description-to-song pipeline is not assembled yet. Stages and their state:
  synth    synthetic corpus (mudit synth)                 ready (above)
  import   MuChin / sidecar folders (mudit import)        ready
  lyrics   G2P, rhyme (mudit lyrics phonemes|rhyme)       ready (above)
  engine   mudit train (try: mudit train --config configs/train/toy.yaml --run-dir runs/toy)  ready
  codec    mel VAE + HiFiGAN / wave VAE (mudit train, encode, decode, vocode)  ready (above)
  chinmu   text/audio encoder (mudit train --config configs/chinmu/tiny.yaml, embed, vocab)  ready
  prepare  latents, embeddings, phonemes (mudit prepare)  not yet
  musit    generator (mudit train)                        not yet
  sample   songs from configs/demo/prompts.jsonl          not yet
  eval     metrics.json + report.html (mudit eval)        not yet
TXT
