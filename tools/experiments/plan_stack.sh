#!/usr/bin/env bash
# The musical plan's acceptance run (README "Control accuracy with the plan"): the synthetic
# corpora, the tiny mel VAE and HiFi-GAN (a codec file with latent statistics), the tiny ChinMu,
# the plan head, the estimators' ceiling (real songs and codec round trips), mudit prepare
# (latents, embeddings, phonemes and each song's plan from its labels), then the tiny MuSiT and
# MuDiT with the plan on description embeddings (stage 3), their bundles and
# tools/experiments/plan_accuracy.sh on 64 held-out songs. Every stage is skipped when its output exists, and the generators resume from
# their last checkpoint, so a rerun continues where it stopped.
#
#   tools/experiments/plan_stack.sh [OUT]          (default: runs/plan_stack)
#
# Environment: SONGS (training corpus, 1500 songs of 10 s), VALID (512 held-out songs),
# GENERATORS ("musit mudit"), STEPS (generator steps, 12000), MEL_VAE_STEPS (2000), MEL_VAE_GAN
# (true: the patch discriminator from step 1000), VOCODER (hifigan, or griffin_lim: no vocoder
# to train), VOCODER_STEPS (3000), THREADS (2).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-$ROOT/runs/plan_stack}
SONGS=${SONGS:-1500}
VALID=${VALID:-512}
STEPS=${STEPS:-12000}
VOCODER_STEPS=${VOCODER_STEPS:-3000}
MEL_VAE_STEPS=${MEL_VAE_STEPS:-2000}
MEL_VAE_GAN=${MEL_VAE_GAN:-true}
VOCODER=${VOCODER:-hifigan}
THREADS=${THREADS:-2}
MUDIT=${MUDIT:-$ROOT/build/bin/mudit}
mkdir -p "$OUT"
stage() { echo; echo "plan_stack: $* ($(date +%H:%M:%S))"; }
train() { "$MUDIT" train --threads "$THREADS" --log-level warn "$@"; }

for spec in "corpus:$SONGS:2" "valid:$VALID:77"; do
  IFS=: read -r name songs seed <<<"$spec"
  if [ ! -f "$OUT/$name/manifest.jsonl" ]; then
    stage "synthetic corpus $name ($songs songs of 10 s, seed $seed)"
    rm -rf "${OUT:?}/$name"
    "$MUDIT" synth --out "$OUT/$name.tmp" --songs "$songs" --seconds 10 --seed "$seed" --log-level warn
    mv "$OUT/$name.tmp" "$OUT/$name"
  fi
done
corpus=$OUT/corpus/manifest.jsonl valid=$OUT/valid/manifest.jsonl

if [ ! -f "$OUT/mel_vae/done" ]; then
  stage "tiny mel VAE, $MEL_VAE_STEPS steps (GAN: $MEL_VAE_GAN)"
  train --config "$ROOT/configs/codec/mel_vae_tiny.yaml" --run-dir "$OUT/mel_vae" \
    --set "data.manifest='$corpus'" --set "data.valid_manifest='$valid'" \
    --set "train.steps=$MEL_VAE_STEPS" --set "train.schedule.total_steps=$MEL_VAE_STEPS" \
    --set "train.disc_schedule.total_steps=$MEL_VAE_STEPS" --set "model.gan.enabled=$MEL_VAE_GAN" \
    --set train.validate_every=1000 --set train.sample_every=0 --set train.checkpoint_every=500
  touch "$OUT/mel_vae/done"
fi
vocoder=griffin_lim
if [ "$VOCODER" != griffin_lim ] && [ ! -f "$OUT/hifigan/done" ]; then
  stage "tiny HiFi-GAN, $VOCODER_STEPS steps"
  train --config "$ROOT/configs/codec/hifigan_tiny.yaml" --run-dir "$OUT/hifigan" \
    --set "data.manifest='$corpus'" --set "data.valid_manifest='$valid'" \
    --set "train.steps=$VOCODER_STEPS" --set "train.schedule.total_steps=$VOCODER_STEPS" \
    --set "train.disc_schedule.total_steps=$VOCODER_STEPS" \
    --set "train.validate_every=$VOCODER_STEPS" --set train.sample_every=0 \
    --set train.checkpoint_every=250
  touch "$OUT/hifigan/done"
fi
if [ "$VOCODER" != griffin_lim ]; then vocoder=$OUT/hifigan; fi
if [ ! -f "$OUT/mel_vae.codec.safetensors" ]; then
  stage "codec file with latent statistics (vocoder: $VOCODER)"
  "$MUDIT" convert codec --vae "$OUT/mel_vae" --vocoder "$vocoder" --manifest "$corpus" \
    --max-songs 64 --out "$OUT/mel_vae.codec.safetensors" --log-level warn
fi
if [ ! -f "$OUT/chinmu/done" ]; then
  stage "tiny ChinMu, 1500 steps"
  train --config "$ROOT/configs/chinmu/tiny.yaml" --run-dir "$OUT/chinmu" \
    --set "data.manifest='$corpus'" --set "data.valid_manifest='$valid'" \
    --set train.validate_every=1500 --set train.checkpoint_every=500
  touch "$OUT/chinmu/done"
fi
if [ ! -f "$OUT/plan_head.safetensors" ]; then
  stage "the plan head on the corpus's descriptions"
  "$MUDIT" fit-plan-head --manifest "$corpus" --valid "$valid" --chinmu "$OUT/chinmu" \
    --out "$OUT/plan_head.safetensors" --log-level warn | tee "$OUT/plan_head.txt"
fi
if [ ! -f "$OUT/ceiling.json" ]; then
  stage "the estimators on 64 held-out songs and on their codec round trip"
  "$MUDIT" plan --score "$valid" --max-songs 64 --codec "$OUT/mel_vae.codec.safetensors" \
    --log-level warn >"$OUT/ceiling.json.tmp"
  mv "$OUT/ceiling.json.tmp" "$OUT/ceiling.json"
fi
for p in "prepared:$corpus" "prepared_valid:$valid"; do
  name=${p%%:*} manifest=${p#*:}
  if [ ! -f "$OUT/$name/index.json" ]; then
    stage "mudit prepare -> $name (plans from the labels)"
    rm -rf "${OUT:?}/$name"
    "$MUDIT" prepare --manifest "$manifest" --codec "$OUT/mel_vae.codec.safetensors" \
      --chinmu "$OUT/chinmu" --plan-source labels --out "$OUT/$name" --log-level warn
  fi
done

for gen in ${GENERATORS:-musit mudit}; do
  objective=interpolant
  [ "$gen" = mudit ] && objective=ddpm
  if [ ! -f "$OUT/$gen/done" ]; then
    stage "tiny $gen ($objective) with the plan, stage 3, $STEPS steps x 16"
    train --config "$ROOT/configs/generator/tiny.yaml" --run-dir "$OUT/$gen" \
      --set "data.shards='$OUT/prepared'" --set "data.valid_shards='$OUT/prepared_valid'" \
      --set data.valid_batches=32 --set model.condition=text --set "model.objective=$objective" \
      --set train.batch_size=16 --set "train.steps=$STEPS" --set "train.schedule.total_steps=$STEPS" \
      --set train.validate_every=3000 --set train.checkpoint_every=500 --set train.log_every=250
    touch "$OUT/$gen/done"
  fi
  if [ ! -f "$OUT/bundle_$gen/pipeline.yaml" ]; then
    rm -rf "${OUT:?}/bundle_$gen"
    "$MUDIT" bundle --codec "$OUT/mel_vae.codec.safetensors" --chinmu "$OUT/chinmu" \
      --generator "$OUT/$gen" --plan-head "$OUT/plan_head.safetensors" --out "$OUT/bundle_$gen" \
      --log-level warn
  fi
  if [ ! -f "$OUT/accuracy_$gen/table.md" ]; then
    stage "plan accuracy of the tiny $gen on 64 held-out songs"
    "$ROOT/tools/experiments/plan_accuracy.sh" "$OUT/bundle_$gen" "$valid" "$OUT/accuracy_$gen" 64 30
  fi
done
stage "done"
