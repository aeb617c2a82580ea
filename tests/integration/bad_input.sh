#!/usr/bin/env bash
# The bad-input matrix: every subcommand given missing files, wrong types, empty inputs, absurd
# values, wrong sample rates or channel counts, non-UTF-8 text and unknown config keys. Each row
# must end with exit 2 (usage / config) or 3 (bad data), exactly one "error:" line on stderr,
# and nothing left at the output path it named.
set -u
MUDIT=$1
CONFIGS=$2  # configs/
failures=0 rows=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

# row NAME EXIT OUTPUT -- COMMAND...: OUTPUT ("-" for none) must not exist afterwards.
row() {
  local name=$1 want=$2 out=$3
  shift 4
  rows=$((rows + 1))
  if check "$name" "$want" timeout 60 "$MUDIT" "$@"; then
    one_line_error "$name"
    [ "$out" = - ] || absent "$name" "$out"
  fi
}

# --- fixtures -----------------------------------------------------------------------------------
f=$work/in
mkdir -p "$f"
: >"$f/empty"
printf 'caf\xe9 \xff\xfe not utf-8\n' >"$f/latin1.txt"
printf 'this is not audio at all, only text pretending to be a WAV file' >"$f/text.wav"
printf 'RIFF\x24\x00\x00\x00WAVEfmt ' >"$f/cut.wav"  # a header cut short
python3 - "$f" <<'PY'
import math, struct, sys, wave
d = sys.argv[1]
for name, rate, ch in [("rate8k_stereo.wav", 8000, 2), ("ok24k.wav", 24000, 1)]:
    w = wave.open(f"{d}/{name}", "wb"); w.setnchannels(ch); w.setsampwidth(2); w.setframerate(rate)
    w.writeframes(b"".join(struct.pack("<h", int(3000 * math.sin(i * 0.05))) for i in range(rate * ch // 2)))
    w.close()
open(f"{d}/not_safetensors.safetensors", "wb").write(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":")
PY
printf 'train: {steps: 10, not_a_key: 1}\n' >"$f/unknown_key.yaml"
printf 'train: {steps: [1, 2]}\n' >"$f/wrong_type.yaml"
printf 'train: {steps: : :\n' >"$f/broken.yaml"
printf '{"id": "a", "audio": "missing.wav", "duration": 1}\n' >"$f/missing_audio.jsonl"
printf '{"id": "a", "duration": "long"}\n' >"$f/wrong_type.jsonl"
printf 'not json\n' >"$f/not_json.jsonl"
printf '{"id": "a", "audio": "ok24k.wav", "duration": 0.5, "split": "train"}\n' >"$f/ok.jsonl"
printf '{"description": "x", "duration": -3}\n' >"$f/neg_duration.jsonl"
printf '{"description": "x", "colour": "red"}\n' >"$f/unknown_req.jsonl"
printf '{"description": "x", "steps": 1e12}\n' >"$f/absurd_steps.jsonl"
printf '{"description": "\xff\xfe"}\n' >"$f/latin1.jsonl"
printf '{"description": "x", "bpm": 500}\n' >"$f/bpm500.jsonl"
printf '{"description": "x", "key": "H major"}\n' >"$f/bad_key.jsonl"
printf '{"description": "x", "bpm": 90, "chords": ["Am", "Xq7"]}\n' >"$f/bad_chord.jsonl"
printf '{"description": "x", "chords": ["Am", "F"]}\n' >"$f/chords_no_tempo.jsonl"
printf '{"description": "x", "meter": "5/4"}\n' >"$f/bad_meter.jsonl"
printf '{"description": "a song at 999 BPM"}\n' >"$f/desc_bpm.jsonl"
printf '{"format": 1, "duration": 10, "key": "Q minor"}\n' >"$f/bad_plan.json"
printf '{"description": "x", "plan": "%s"}\n' "$f/bad_plan.json" >"$f/bad_plan.jsonl"
printf '{"description": "x", "plan": "%s", "bpm": 90}\n' "$f/bad_plan.json" >"$f/plan_and_bpm.jsonl"
mkdir -p "$f/emptydir" "$f/notabundle"
o=$work/o  # outputs: every row's output path is under here and must stay absent
mkdir -p "$o"

# --- the matrix ---------------------------------------------------------------------------------
# config
row config-missing-file 3 "$o/c1" -- config --config "$f/nope.yaml" --out "$o/c1"
row config-broken-yaml 2 "$o/c2" -- config --config "$f/broken.yaml" --out "$o/c2"
row config-bad-set 2 "$o/c3" -- config --config "$CONFIGS/generator/tiny.yaml" --set 'a.b' --out "$o/c3"
row config-non-utf8 2 "$o/c4" -- config --config "$f/latin1.txt" --out "$o/c4"
# inspect
row inspect-missing 3 - -- inspect "$f/nope.safetensors"
row inspect-corrupt 3 - -- inspect "$f/not_safetensors.safetensors"
row inspect-empty 3 - -- inspect "$f/empty"
row inspect-text-as-audio 3 - -- inspect "$f/text.wav"
# train
row train-missing-config 3 "$o/t1" -- train --config "$f/nope.yaml" --run-dir "$o/t1"
row train-unknown-key 2 "$o/t2" -- train --config "$CONFIGS/generator/tiny.yaml" --config "$f/unknown_key.yaml" --run-dir "$o/t2"
row train-wrong-type 2 "$o/t3" -- train --config "$CONFIGS/generator/tiny.yaml" --config "$f/wrong_type.yaml" --run-dir "$o/t3"
row train-negative-steps 2 "$o/t4" -- train --config "$CONFIGS/generator/tiny.yaml" --steps -5 --run-dir "$o/t4"
row train-absurd-lr 2 "$o/t5" -- train --config "$CONFIGS/generator/tiny.yaml" --set train.optim.lr=-1 --run-dir "$o/t5"
row train-missing-shards 3 "$o/t6" -- train --config "$CONFIGS/generator/tiny.yaml" --set "data.shards=$f/nope" --run-dir "$o/t6"
# a codec whose data are read at another rate, or with other channels, than its mel recipe's
ok=(--set "data.manifest='$f/ok.jsonl'" --set "data.valid_manifest='$f/ok.jsonl'")
row train-codec-wrong-rate 2 "$o/t8" -- train --config "$CONFIGS/codec/mel_vae_tiny.yaml" --run-dir "$o/t8" "${ok[@]}" --set data.sample_rate=8000
row train-codec-wrong-channels 2 "$o/t9" -- train --config "$CONFIGS/codec/mel_vae_tiny.yaml" --run-dir "$o/t9" "${ok[@]}" --set data.channels=2
row train-bad-resume 2 "$o/t7" -- train --config "$CONFIGS/generator/tiny.yaml" --resume sometimes --run-dir "$o/t7"
# import
row import-muchin-missing 3 "$o/i1.jsonl" -- import muchin --in "$f/nope" --out "$o/i1.jsonl"
row import-folder-empty 3 "$o/i2.jsonl" -- import folder --in "$f/emptydir" --out "$o/i2.jsonl"
# synth
row synth-zero-songs 2 "$o/s1" -- synth --out "$o/s1" --songs 0
row synth-absurd-seconds 2 "$o/s2" -- synth --out "$o/s2" --songs 1 --seconds -4
row synth-absurd-rate 2 "$o/s3" -- synth --out "$o/s3" --songs 1 --sample-rate 7
row synth-unknown-key 2 "$o/s4" -- synth --out "$o/s4" --songs 1 --set synth.colour=1
# lyrics
row lyrics-clean-missing 3 "$o/l1.txt" -- lyrics clean "$f/nope.txt" --out "$o/l1.txt"
row lyrics-clean-non-utf8 3 "$o/l2.txt" -- lyrics clean "$f/latin1.txt" --out "$o/l2.txt"
row lyrics-phonemes-non-utf8 3 - -- lyrics phonemes "$f/latin1.txt"
row lyrics-rhyme-missing 3 "$o/rhyme" -- lyrics rhyme --muchin "$f/nope" --out "$o/rhyme"
# encode / decode / vocode
row encode-missing-codec 3 "$o/e1.safetensors" -- encode --codec "$f/nope" --input "$f/ok24k.wav" --out "$o/e1.safetensors"
row encode-corrupt-codec 3 "$o/e2.safetensors" -- encode --codec "$f/not_safetensors.safetensors" --input "$f/ok24k.wav" --out "$o/e2.safetensors"
row encode-absurd-chunk 2 "$o/e3.safetensors" -- encode --codec "$f/not_safetensors.safetensors" --input "$f/ok24k.wav" --out "$o/e3.safetensors" --chunk-seconds -1
row decode-missing-latents 3 "$o/d1.wav" -- decode --codec "$f/not_safetensors.safetensors" --input "$f/nope.safetensors" --out "$o/d1.wav"
row decode-bad-encoding 2 "$o/d2.wav" -- decode --codec "$f/not_safetensors.safetensors" --input "$f/nope.safetensors" --out "$o/d2.wav" --encoding pcm7
row vocode-text-as-audio 3 "$o/v1.wav" -- vocode --vocoder "$f/not_safetensors.safetensors" --input "$f/text.wav" --out "$o/v1.wav"
# convert
row convert-hifigan-missing 3 "$o/h1.safetensors" -- convert hifigan "$f/nope" --preset v1 --out "$o/h1.safetensors"
row convert-hifigan-unknown-preset 2 "$o/h4.safetensors" -- convert hifigan "$f/not_safetensors.safetensors" --preset v9 --out "$o/h4.safetensors"
row convert-codec-missing-vae 3 "$o/h2.safetensors" -- convert codec --vae "$f/nope" --manifest "$f/missing_audio.jsonl" --out "$o/h2.safetensors"
row convert-bert-empty-dir 3 "$o/h3.safetensors" -- convert hf-bert "$f/emptydir" --out "$o/h3.safetensors"
# vocab / embed
row vocab-bad-manifest 3 "$o/vocab.txt" -- vocab --manifest "$f/not_json.jsonl" --out "$o/vocab.txt"
row vocab-non-utf8-text 3 "$o/vocab2.txt" -- vocab --text "$f/latin1.txt" --out "$o/vocab2.txt"
row embed-missing-model 3 "$o/emb.safetensors" -- embed --model "$f/nope" --text "$f/latin1.txt" --out "$o/emb.safetensors"
row embed-zero-batch 2 "$o/emb2.safetensors" -- embed --model "$f/not_safetensors.safetensors" --text "$f/latin1.txt" --out "$o/emb2.safetensors" --batch-size 0
# prepare
row prepare-wrong-type-manifest 3 "$o/p1" -- prepare --manifest "$f/wrong_type.jsonl" --codec "$f/nope" --out "$o/p1"
row prepare-missing-codec 3 "$o/p2" -- prepare --manifest "$f/missing_audio.jsonl" --codec "$f/nope" --out "$o/p2"
# sample
row sample-missing-bundle 3 "$o/sa1" -- sample --bundle "$f/nope" --input "$f/neg_duration.jsonl" --out "$o/sa1"
row sample-negative-duration 3 "$o/sa2" -- sample --bundle "$f/notabundle" --input "$f/neg_duration.jsonl" --out "$o/sa2"
row sample-unknown-key 3 "$o/sa3" -- sample --bundle "$f/notabundle" --input "$f/unknown_req.jsonl" --out "$o/sa3"
row sample-absurd-steps 3 "$o/sa4" -- sample --bundle "$f/notabundle" --input "$f/absurd_steps.jsonl" --out "$o/sa4"
row sample-non-utf8 3 "$o/sa5" -- sample --bundle "$f/notabundle" --input "$f/latin1.jsonl" --out "$o/sa5"
row sample-empty-input 3 "$o/sa6" -- sample --bundle "$f/notabundle" --input "$f/empty" --out "$o/sa6"
# the musical plan's fields in a sample line: each refused before anything is loaded
row sample-bpm-out-of-range 3 "$o/sa7" -- sample --bundle "$f/notabundle" --input "$f/bpm500.jsonl" --out "$o/sa7"
row sample-unknown-key-name 3 "$o/sa8" -- sample --bundle "$f/notabundle" --input "$f/bad_key.jsonl" --out "$o/sa8"
row sample-unknown-chord 3 "$o/sa9" -- sample --bundle "$f/notabundle" --input "$f/bad_chord.jsonl" --out "$o/sa9"
row sample-chords-without-tempo 3 "$o/sa10" -- sample --bundle "$f/notabundle" --input "$f/chords_no_tempo.jsonl" --out "$o/sa10"
row sample-unknown-meter 3 "$o/sa11" -- sample --bundle "$f/notabundle" --input "$f/bad_meter.jsonl" --out "$o/sa11"
row sample-description-bpm 3 "$o/sa12" -- sample --bundle "$f/notabundle" --input "$f/desc_bpm.jsonl" --out "$o/sa12"
row sample-bad-plan-file 3 "$o/sa13" -- sample --bundle "$f/notabundle" --input "$f/bad_plan.jsonl" --out "$o/sa13"
row sample-plan-and-bpm 3 "$o/sa14" -- sample --bundle "$f/notabundle" --input "$f/plan_and_bpm.jsonl" --out "$o/sa14"
# plan
row plan-bad-key 3 "$o/p1.json" -- plan --request '{"key": "H minor"}' --out "$o/p1.json"
row plan-description-bpm 3 "$o/p2.json" -- plan --description "3000 BPM" --out "$o/p2.json"
row plan-missing-audio 3 "$o/p3.json" -- plan --audio "$f/nope.wav" --out "$o/p3.json"
row plan-labels-not-json 3 "$o/p4.json" -- plan --labels "$f/text.wav" --out "$o/p4.json"
row plan-two-sources 2 "$o/p5.json" -- plan --description "C major" --audio "$f/ok24k.wav" --out "$o/p5.json"
row plan-no-source 2 "$o/p6.json" -- plan --out "$o/p6.json"
row plan-absurd-duration 3 "$o/p7.json" -- plan --description "C major" --duration -1 --out "$o/p7.json"
# analyze
row analyze-text-as-audio 3 - -- analyze "$f/text.wav"
row analyze-cut-header 3 - -- analyze "$f/cut.wav"
row analyze-missing 3 - -- analyze "$f/nope.wav"
# eval
row eval-missing-generated 3 "$o/ev1" -- eval --generated "$f/nope" --reference "$f/missing_audio.jsonl" --out "$o/ev1"
row eval-empty-generated 3 "$o/ev2" -- eval --generated "$f/emptydir" --reference "$f/missing_audio.jsonl" --out "$o/ev2"
row eval-unknown-metric 2 "$o/ev3" -- eval --generated "$f" --reference "$f/missing_audio.jsonl" --out "$o/ev3" --metrics colour
# fit-instruments / index / search / serve / passwd / bundle
row fit-instruments-bad-manifest 3 "$o/fi.safetensors" -- fit-instruments --manifest "$f/not_json.jsonl" --out "$o/fi.safetensors"
row fit-plan-head-bad-manifest 3 "$o/ph.safetensors" -- fit-plan-head --manifest "$f/not_json.jsonl" --chinmu "$f/nope" --out "$o/ph.safetensors"
row fit-plan-head-absurd-confidence 2 "$o/ph2.safetensors" -- fit-plan-head --manifest "$f/not_json.jsonl" --chinmu "$f/nope" --out "$o/ph2.safetensors" --key-confidence 2
row index-missing-chinmu 3 "$o/ix" -- index build --manifest "$f/missing_audio.jsonl" --chinmu "$f/nope" --out "$o/ix"
row index-unknown-kind 2 "$o/ix2" -- index build --manifest "$f/missing_audio.jsonl" --chinmu "$f/nope" --out "$o/ix2" --set index.kind=tree
row search-missing-index 3 - -- search --index "$f/nope" --text rock
row search-absurd-k 2 - -- search --index "$f/emptydir" --text rock --k 0
row search-unknown-mode 2 - -- search --index "$f/emptydir" --text rock --mode video
row serve-missing-index 3 - -- serve --index "$f/nope" --port 0
row serve-absurd-port 2 - -- serve --index "$f/nope" --port 70000
row passwd-bad-name 2 "$o/users" -- passwd --users "$o/users" --user "a b"
row bundle-missing-parts 3 "$o/b1" -- bundle --codec "$f/nope" --chinmu "$f/nope" --generator "$f/nope" --out "$o/b1"
row bundle-missing-plan-head 3 "$o/b2" -- bundle --codec "$f/nope" --chinmu "$f/nope" --generator "$f/nope" --plan-head "$f/nope" --out "$o/b2"
# launch / bench
row launch-zero-procs 2 - -- launch -n 0 -- version
row bench-unknown-suite 2 "$o/bench.json" -- bench colour --json "$o/bench.json"

echo "bad-input matrix: $rows rows, $failures failures"
[ "$failures" -eq 0 ]
