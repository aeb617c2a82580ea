#!/usr/bin/env bash
# The main job: songs from descriptions, end to end, on the built-in synthetic corpus.
#
#   tools/demo.sh [--retrain]
#
# Today it sets the machine up, builds mudit and shows what the build can reach; the pipeline
# stages it will run are listed below with their state.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$ROOT/tools/bootstrap.sh"
MUDIT="$ROOT/build/bin/mudit"

echo
"$MUDIT" --version
cat <<'TXT'

demo: the description-to-song pipeline is not assembled yet. Stages and their state:
  engine   mudit train (try: mudit train --config configs/train/toy.yaml --run-dir runs/toy)  ready
  synth    synthetic corpus (mudit synth)                 not yet
  codec    mel VAE + HiFiGAN / wave VAE (mudit train)     not yet
  chinmu   text/audio encoder (mudit train, embed)        not yet
  prepare  latents, embeddings, phonemes (mudit prepare)  not yet
  musit    generator (mudit train)                        not yet
  sample   songs from configs/demo/prompts.jsonl          not yet
  eval     metrics.json + report.html (mudit eval)        not yet
TXT
