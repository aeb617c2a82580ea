#!/usr/bin/env bash
# The codec commands end to end on a small synthetic corpus: train the three tiny presets a
# few steps, join them into codec files (mudit convert codec), encode / decode / vocode files,
# and the bad-input contract (one line, exit 2 or 3, no partial output).
set -u
MUDIT=$1
CONFIGS=$2  # configs/codec
failures=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

need_soundfont
M="$work/corpus/manifest.jsonl"
check synth 0 "$MUDIT" synth --out "$work/corpus" --songs 3 --seconds 5 --seed 2 --log-level warn \
  --set 'synth.soundfonts=[/usr/share/sounds/sf2/FluidR3_GM.sf2]'
quick=(--steps 3 --set "data.manifest='$M'" --set model.gan.disc_start_step=1
       --set data.valid_segments=1 --set train.batch_size=1 --log-level warn)
check train-wave 0 "$MUDIT" train --config "$CONFIGS/wave_vae_tiny.yaml" --run-dir "$work/wave" "${quick[@]}"
check train-mel 0 "$MUDIT" train --config "$CONFIGS/mel_vae_tiny.yaml" --run-dir "$work/mel" "${quick[@]}"
check train-hifigan 0 "$MUDIT" train --config "$CONFIGS/hifigan_tiny.yaml" --run-dir "$work/voc" "${quick[@]}"

# Codec files with latent statistics.
check convert-wave 0 "$MUDIT" convert codec --vae "$work/wave" --manifest "$M" --out "$work/wave.codec.safetensors"
expect_in convert-wave "$work/err" "latent statistics over 3 songs"
check inspect-codec 0 "$MUDIT" inspect "$work/wave.codec.safetensors"
expect_in inspect-codec "$work/out" "codec"
check convert-mel 0 "$MUDIT" convert codec --vae "$work/mel" --vocoder "$work/voc" --manifest "$M" \
  --out "$work/mel.codec.safetensors"
check convert-mel-needs-vocoder 2 "$MUDIT" convert codec --vae "$work/mel" --manifest "$M" --out "$work/x.safetensors"
one_line_error convert-mel-needs-vocoder
absent convert-mel-needs-vocoder "$work/x.safetensors"

# Encode / decode round trips keep the length.
song="$work/corpus/songs/synth_000000/audio.wav"
check encode 0 "$MUDIT" encode --codec "$work/wave.codec.safetensors" --input "$song" --out "$work/z.safetensors" \
  --chunk-seconds 2 --overlap-seconds 0.5
expect_in encode "$work/err" "(normalised)"
check decode 0 "$MUDIT" decode --codec "$work/wave.codec.safetensors" --input "$work/z.safetensors" --out "$work/back.wav"
check inspect-back 0 "$MUDIT" inspect "$song"
frames_in=$(grep -o '[0-9]* frames' "$work/out" | head -1)
check inspect-back2 0 "$MUDIT" inspect "$work/back.wav"
frames_out=$(grep -o '[0-9]* frames' "$work/out" | head -1)
[ -n "$frames_in" ] && [ "$frames_in" = "$frames_out" ] || { echo "FAIL round trip: $frames_in vs $frames_out"; failures=$((failures + 1)); }
check encode-mel 0 "$MUDIT" encode --codec "$work/mel.codec.safetensors" --input "$song" --out "$work/zm.safetensors"
check decode-mel 0 "$MUDIT" decode --codec "$work/mel.codec.safetensors" --input "$work/zm.safetensors" --out "$work/back_mel.flac"
check vocode 0 "$MUDIT" vocode --vocoder "$work/voc" --input "$song" --out "$work/voc.wav" --encoding float32

# Bad input: one line, exit 3 (data) or 2 (usage), nothing written.
check encode-missing 3 "$MUDIT" encode --codec "$work/wave.codec.safetensors" --input "$work/none.wav" --out "$work/n.safetensors"
one_line_error encode-missing
absent encode-missing "$work/n.safetensors"
check decode-other-codec 3 "$MUDIT" decode --codec "$work/mel.codec.safetensors" --input "$work/z.safetensors" --out "$work/n.wav"
one_line_error decode-other-codec
expect_in decode-other-codec "$work/err" "was made by a wave_vae codec"
absent decode-other-codec "$work/n.wav"
head -c 100 "$work/z.safetensors" > "$work/trunc.safetensors"
check decode-truncated 3 "$MUDIT" decode --codec "$work/wave.codec.safetensors" --input "$work/trunc.safetensors" --out "$work/n.wav"
one_line_error decode-truncated
absent decode-truncated "$work/n.wav"
check encode-no-codec 3 "$MUDIT" encode --codec "$work/none.safetensors" --input "$song" --out "$work/n.safetensors"
one_line_error encode-no-codec
echo "not a checkpoint" > "$work/g_garbage"
check convert-garbage 3 "$MUDIT" convert hifigan "$work/g_garbage" --preset v1 --out "$work/n.safetensors"
one_line_error convert-garbage
expect_in convert-garbage "$work/err" "export it once with python"
absent convert-garbage "$work/n.safetensors"
check convert-no-config 2 "$MUDIT" convert hifigan "$work/g_garbage" --out "$work/n.safetensors"
one_line_error convert-no-config
check bad-chunks 2 "$MUDIT" encode --codec "$work/wave.codec.safetensors" --input "$song" --out "$work/n.safetensors" \
  --chunk-seconds 1 --overlap-seconds 2
one_line_error bad-chunks

# mudit prepare (no ChinMu here: latents and phonemes only) and its bad-input contract.
check prepare 0 "$MUDIT" prepare --manifest "$M" --codec "$work/wave.codec.safetensors" --out "$work/prep"
expect_in prepare "$work/err" "prepared 3 songs"
[ -f "$work/prep/index.json" ] && [ -f "$work/prep/prepare.json" ] && [ -f "$work/prep/phonemes.txt" ] ||
  { echo "FAIL prepare: index.json, prepare.json or phonemes.txt missing"; failures=$((failures + 1)); }
expect_in prepare-json "$work/prep/prepare.json" '"latent_dim": 32'
check prepare-again 3 "$MUDIT" prepare --manifest "$M" --codec "$work/wave.codec.safetensors" --out "$work/prep"
one_line_error prepare-again
expect_in prepare-again "$work/err" "already holds prepared shards"
check prepare-no-stats 2 "$MUDIT" prepare --manifest "$M" --codec "$work/wave" --out "$work/prep2"
one_line_error prepare-no-stats
absent prepare-no-stats "$work/prep2/index.json"
check prepare-no-manifest 3 "$MUDIT" prepare --manifest "$work/none.jsonl" --codec "$work/wave.codec.safetensors" \
  --out "$work/prep3"
one_line_error prepare-no-manifest
absent prepare-no-manifest "$work/prep3"

# mudit analyze: one JSON line per file with tempo and key; a missing file is one error line.
check analyze 0 "$MUDIT" analyze "$song" "$work/back.wav"
[ "$(grep -c '"bpm":' "$work/out")" = 2 ] && grep -q '"key":"' "$work/out" ||
  { echo "FAIL analyze: no tempo / key lines"; cat "$work/out"; failures=$((failures + 1)); }
check analyze-missing 3 "$MUDIT" analyze "$work/none.wav"
one_line_error analyze-missing

# mudit sample refuses bad requests (checked before anything loads) and a missing bundle.
printf '{"description": "a song", "duration": 4}\n{"description": "x", "duration": "long"}\n' > "$work/bad.jsonl"
check sample-bad-line 3 "$MUDIT" sample --bundle "$work/none" --input "$work/bad.jsonl" --out "$work/s1"
one_line_error sample-bad-line
expect_in sample-bad-line "$work/err" "bad.jsonl:2: 'duration' has the wrong type"
absent sample-bad-line "$work/s1"
printf '{"description": "a song", "duration": 4}\n' > "$work/good.jsonl"
check sample-no-bundle 3 "$MUDIT" sample --bundle "$work/none" --input "$work/good.jsonl" --out "$work/s2"
one_line_error sample-no-bundle
expect_in sample-no-bundle "$work/err" "is not a bundle"
absent sample-no-bundle "$work/s2"
check bundle-not-codec 2 "$MUDIT" bundle --codec "$work/wave" --chinmu "$work/wave" --generator "$work/wave" \
  --out "$work/b1"
one_line_error bundle-not-codec
absent bundle-not-codec "$work/b1"

echo "codec cli: $failures failure(s)"
[ "$failures" = 0 ]
