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

# row NAME EXIT OUTPUT CAUSE -- COMMAND...: OUTPUT ("-" for none) must not exist afterwards, and
# the error line must contain CAUSE (the field, file or value at fault), so a row cannot pass on
# an earlier, unrelated error.
row() {
  local name=$1 want=$2 out=$3 cause=$4
  shift 5
  rows=$((rows + 1))
  if check "$name" "$want" timeout 60 "$MUDIT" "$@"; then
    one_line_error "$name"
    expect_in "$name" "$work/err" "$cause"
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
printf '{"id": "a", "audio": "rate8k_stereo.wav", "duration": 0.5, "split": "train"}\n' >"$f/rate8k.jsonl"
printf '{"description": "x", "duration": -3}\n' >"$f/neg_duration.jsonl"
printf '{"description": "x", "duration": 3}\n' >"$f/ok_request.jsonl"
printf 'hello\n' >"$f/ok.txt"
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
row config-missing-file 3 "$o/c1" 'nope.yaml: no such file' -- config --config "$f/nope.yaml" --out "$o/c1"
row config-broken-yaml 2 "$o/c2" 'broken.yaml:2:1: YAML syntax error' -- config --config "$f/broken.yaml" --out "$o/c2"
row config-bad-set 2 "$o/c3" '--set a.b: expected key.path=value' -- config --config "$CONFIGS/generator/tiny.yaml" --set 'a.b' --out "$o/c3"
row config-non-utf8 2 "$o/c4" 'latin1.txt: not UTF-8 text (line 1, byte 3)' -- config --config "$f/latin1.txt" --out "$o/c4"
# inspect
row inspect-missing 3 - 'nope.safetensors: no such file' -- inspect "$f/nope.safetensors"
row inspect-corrupt 3 - 'not_safetensors.safetensors: truncated' -- inspect "$f/not_safetensors.safetensors"
row inspect-empty 3 - 'empty: truncated (0 bytes' -- inspect "$f/empty"
row inspect-text-as-audio 3 - 'text.wav'\'': format not recognised' -- inspect "$f/text.wav"
# train
row train-missing-config 3 "$o/t1" 'nope.yaml: no such file' -- train --config "$f/nope.yaml" --run-dir "$o/t1"
row train-unknown-key 2 "$o/t2" 'unknown key '\''train.not_a_key'\''' -- train --config "$CONFIGS/generator/tiny.yaml" --config "$f/unknown_key.yaml" --run-dir "$o/t2"
row train-wrong-type 2 "$o/t3" 'train.steps: expected an integer, got a list' -- train --config "$CONFIGS/generator/tiny.yaml" --config "$f/wrong_type.yaml" --run-dir "$o/t3"
row train-negative-steps 2 "$o/t4" '--steps: must be at least 0, got -5' -- train --config "$CONFIGS/generator/tiny.yaml" --steps -5 --run-dir "$o/t4"
row train-absurd-lr 2 "$o/t5" 'lr must be positive, got -1' -- train --config "$CONFIGS/generator/tiny.yaml" --set train.optim.lr=-1 --run-dir "$o/t5"
row train-missing-shards 3 "$o/t6" 'no_shards/index.json: no such file' -- train --config "$CONFIGS/generator/tiny.yaml" --set "data.shards=$f/no_shards" --run-dir "$o/t6"
# a codec whose data (a real 8 kHz stereo WAV) are read at another rate, or with other channels,
# than its mel recipe's
ok=(--set "data.manifest='$f/rate8k.jsonl'" --set "data.valid_manifest='$f/rate8k.jsonl'")
row train-codec-wrong-rate 2 "$o/t8" 'data.sample_rate / data.channels are 8000 Hz / 1' -- train --config "$CONFIGS/codec/mel_vae_tiny.yaml" --run-dir "$o/t8" "${ok[@]}" --set data.sample_rate=8000
row train-codec-wrong-channels 2 "$o/t9" 'data.sample_rate / data.channels are 24000 Hz / 2' -- train --config "$CONFIGS/codec/mel_vae_tiny.yaml" --run-dir "$o/t9" "${ok[@]}" --set data.channels=2
row train-bad-resume 2 "$o/t7" 'expected auto, never or a step number, got '\''sometimes'\''' -- train --config "$CONFIGS/generator/tiny.yaml" --resume sometimes --run-dir "$o/t7"
# import
row import-muchin-missing 3 "$o/i1.jsonl" 'no_muchin'\'' is not a folder' -- import muchin --in "$f/no_muchin" --out "$o/i1.jsonl"
row import-folder-empty 3 "$o/i2.jsonl" 'emptydir'\'': no song imported' -- import folder --in "$f/emptydir" --out "$o/i2.jsonl"
# synth
row synth-zero-songs 2 "$o/s1" 'songs must be positive, got 0' -- synth --out "$o/s1" --songs 0
row synth-absurd-seconds 2 "$o/s2" 'seconds must be in [1, 1200], got -4' -- synth --out "$o/s2" --songs 1 --seconds -4
row synth-absurd-rate 2 "$o/s3" 'sample_rate must be in [8000, 96000] Hz, got 7' -- synth --out "$o/s3" --songs 1 --sample-rate 7
row synth-unknown-key 2 "$o/s4" 'unknown key '\''synth.colour'\''' -- synth --out "$o/s4" --songs 1 --set synth.colour=1
# lyrics
row lyrics-clean-missing 3 "$o/l1.txt" 'nope.txt: no such file' -- lyrics clean "$f/nope.txt" --out "$o/l1.txt"
row lyrics-clean-non-utf8 3 "$o/l2.txt" 'latin1.txt: not UTF-8 text (line 1, byte 3)' -- lyrics clean "$f/latin1.txt" --out "$o/l2.txt"
row lyrics-phonemes-non-utf8 3 - 'latin1.txt: not UTF-8 text (line 1, byte 3)' -- lyrics phonemes "$f/latin1.txt"
row lyrics-rhyme-missing 3 "$o/rhyme" 'no_muchin: no str_lyric' -- lyrics rhyme --muchin "$f/no_muchin" --out "$o/rhyme"
# encode / decode / vocode
row encode-missing-codec 3 "$o/e1.safetensors" 'no_codec: no such file' -- encode --codec "$f/no_codec" --input "$f/ok24k.wav" --out "$o/e1.safetensors"
row encode-corrupt-codec 3 "$o/e2.safetensors" 'not_safetensors.safetensors: truncated' -- encode --codec "$f/not_safetensors.safetensors" --input "$f/ok24k.wav" --out "$o/e2.safetensors"
row encode-absurd-chunk 2 "$o/e3.safetensors" 'need chunk_seconds > 0' -- encode --codec "$f/not_safetensors.safetensors" --input "$f/ok24k.wav" --out "$o/e3.safetensors" --chunk-seconds -1
row decode-missing-latents 3 "$o/d1.wav" 'no_latents.safetensors: no such file' -- decode --codec "$f/not_safetensors.safetensors" --input "$f/no_latents.safetensors" --out "$o/d1.wav"
row decode-bad-encoding 2 "$o/d2.wav" ''\''pcm7'\'' is not one of pcm16, pcm24, float32' -- decode --codec "$f/not_safetensors.safetensors" --input "$f/nope.safetensors" --out "$o/d2.wav" --encoding pcm7
row vocode-text-as-audio 3 "$o/v1.wav" 'text.wav'\'': format not recognised' -- vocode --vocoder "$f/not_safetensors.safetensors" --input "$f/text.wav" --out "$o/v1.wav"
# convert
row convert-hifigan-missing 3 "$o/h1.safetensors" 'no_hifigan' -- convert hifigan "$f/no_hifigan" --preset v1 --out "$o/h1.safetensors"
row convert-hifigan-unknown-preset 2 "$o/h4.safetensors" ''\''v9'\'' is not one of v1, v2, v3, v1_large' -- convert hifigan "$f/not_safetensors.safetensors" --preset v9 --out "$o/h4.safetensors"
row convert-codec-missing-vae 3 "$o/h2.safetensors" 'no_vae: no such file' -- convert codec --vae "$f/no_vae" --manifest "$f/missing_audio.jsonl" --out "$o/h2.safetensors"
row convert-bert-empty-dir 3 "$o/h3.safetensors" 'no config.json in' -- convert hf-bert "$f/emptydir" --out "$o/h3.safetensors"
# vocab / embed
row vocab-bad-manifest 3 "$o/vocab.txt" 'not_json.jsonl:1: manifest: not valid JSON' -- vocab --manifest "$f/not_json.jsonl" --out "$o/vocab.txt"
row vocab-non-utf8-text 3 "$o/vocab2.txt" 'latin1.txt: not UTF-8 text (line 1, byte 3)' -- vocab --text "$f/latin1.txt" --out "$o/vocab2.txt"
row embed-missing-model 3 "$o/emb.safetensors" 'no_model: no such file' -- embed --model "$f/no_model" --text "$f/ok.txt" --out "$o/emb.safetensors"
row embed-zero-batch 2 "$o/emb2.safetensors" '--batch-size: must be at least 1, got 0' -- embed --model "$f/not_safetensors.safetensors" --text "$f/latin1.txt" --out "$o/emb2.safetensors" --batch-size 0
# prepare
row prepare-wrong-type-manifest 3 "$o/p1" 'wrong_type.jsonl:1' -- prepare --manifest "$f/wrong_type.jsonl" --codec "$f/nope" --out "$o/p1"
row prepare-missing-codec 3 "$o/p2" 'no_codec: no such file' -- prepare --manifest "$f/missing_audio.jsonl" --codec "$f/no_codec" --out "$o/p2"
# sample
row sample-missing-bundle 3 "$o/sa1" 'no_bundle' -- sample --bundle "$f/no_bundle" --input "$f/ok_request.jsonl" --out "$o/sa1"
row sample-negative-duration 3 "$o/sa2" 'neg_duration.jsonl:1: duration must be in (0, 3600] seconds, got -3' -- sample --bundle "$f/notabundle" --input "$f/neg_duration.jsonl" --out "$o/sa2"
row sample-unknown-key 3 "$o/sa3" 'unknown_req.jsonl:1: unknown key '\''colour'\''' -- sample --bundle "$f/notabundle" --input "$f/unknown_req.jsonl" --out "$o/sa3"
row sample-absurd-steps 3 "$o/sa4" 'absurd_steps.jsonl:1: steps must be in [0, 10000]' -- sample --bundle "$f/notabundle" --input "$f/absurd_steps.jsonl" --out "$o/sa4"
row sample-non-utf8 3 "$o/sa5" 'latin1.jsonl:1: not UTF-8 text' -- sample --bundle "$f/notabundle" --input "$f/latin1.jsonl" --out "$o/sa5"
row sample-empty-input 3 "$o/sa6" 'empty: no songs' -- sample --bundle "$f/notabundle" --input "$f/empty" --out "$o/sa6"
# the musical plan's fields in a sample line: each refused before anything is loaded
row sample-bpm-out-of-range 3 "$o/sa7" ''\''bpm'\'' must be in [30, 300], got 500' -- sample --bundle "$f/notabundle" --input "$f/bpm500.jsonl" --out "$o/sa7"
row sample-unknown-key-name 3 "$o/sa8" ''\''key'\'': unknown key '\''H major'\''' -- sample --bundle "$f/notabundle" --input "$f/bad_key.jsonl" --out "$o/sa8"
row sample-unknown-chord 3 "$o/sa9" ''\''chords'\'': unknown chord symbol '\''Xq7'\''' -- sample --bundle "$f/notabundle" --input "$f/bad_chord.jsonl" --out "$o/sa9"
row sample-chords-without-tempo 3 "$o/sa10" ''\''chords'\'' (one per bar) need a tempo' -- sample --bundle "$f/notabundle" --input "$f/chords_no_tempo.jsonl" --out "$o/sa10"
row sample-unknown-meter 3 "$o/sa11" ''\''meter'\'': unknown meter '\''5/4'\''' -- sample --bundle "$f/notabundle" --input "$f/bad_meter.jsonl" --out "$o/sa11"
row sample-description-bpm 3 "$o/sa12" ''\''description'\'': a tempo of 999 BPM' -- sample --bundle "$f/notabundle" --input "$f/desc_bpm.jsonl" --out "$o/sa12"
row sample-bad-plan-file 3 "$o/sa13" ''\''plan'\'': plan: '\''key'\'': unknown key '\''Q minor'\''' -- sample --bundle "$f/notabundle" --input "$f/bad_plan.jsonl" --out "$o/sa13"
row sample-plan-and-bpm 3 "$o/sa14" 'give '\''plan'\'' (a plan file) or bpm / key / meter / chords, not both' -- sample --bundle "$f/notabundle" --input "$f/plan_and_bpm.jsonl" --out "$o/sa14"
# plan
row plan-bad-key 3 "$o/p1.json" '--request: '\''key'\'': unknown key '\''H minor'\''' -- plan --request '{"key": "H minor"}' --out "$o/p1.json"
row plan-description-bpm 3 "$o/p2.json" 'a tempo of 3000 BPM in the description is outside 30-300' -- plan --description "3000 BPM" --out "$o/p2.json"
row plan-missing-audio 3 "$o/p3.json" 'nope.wav'\'': no such file' -- plan --audio "$f/nope.wav" --out "$o/p3.json"
row plan-labels-not-json 3 "$o/p4.json" 'text.wav: labels: not JSON' -- plan --labels "$f/text.wav" --out "$o/p4.json"
row plan-two-sources 2 "$o/p5.json" '2 were given' -- plan --description "C major" --audio "$f/ok24k.wav" --out "$o/p5.json"
row plan-no-source 2 "$o/p6.json" 'Exactly 1 option from [--description,--request,--audio,--labels,--score] is required' -- plan --out "$o/p6.json"
row plan-absurd-duration 3 "$o/p7.json" '--duration must be in (0, 3600] seconds' -- plan --description "C major" --duration -1 --out "$o/p7.json"
# analyze
row analyze-text-as-audio 3 - 'text.wav'\'': format not recognised' -- analyze "$f/text.wav"
row analyze-cut-header 3 - 'cut.wav'\'': error in WAV file' -- analyze "$f/cut.wav"
row analyze-missing 3 - 'nope.wav'\'': no such file' -- analyze "$f/nope.wav"
# eval
row eval-missing-generated 3 "$o/ev1" 'no_songs'\'' is not a folder' -- eval --generated "$f/no_songs" --reference "$f/missing_audio.jsonl" --out "$o/ev1"
row eval-empty-generated 3 "$o/ev2" 'no .wav, .flac or .ogg files in' -- eval --generated "$f/emptydir" --reference "$f/missing_audio.jsonl" --out "$o/ev2"
row eval-unknown-metric 2 "$o/ev3" 'unknown metric '\''colour'\''' -- eval --generated "$f" --reference "$f/missing_audio.jsonl" --out "$o/ev3" --metrics colour
# fit-instruments / index / search / serve / passwd / bundle
row fit-instruments-bad-manifest 3 "$o/fi.safetensors" 'not_json.jsonl:1: manifest: not valid JSON' -- fit-instruments --manifest "$f/not_json.jsonl" --out "$o/fi.safetensors"
row fit-plan-head-bad-manifest 3 "$o/ph.safetensors" 'not_json.jsonl:1' -- fit-plan-head --manifest "$f/not_json.jsonl" --chinmu "$f/nope" --out "$o/ph.safetensors"
row fit-plan-head-absurd-confidence 2 "$o/ph2.safetensors" '--key-confidence must be in (0, 1]' -- fit-plan-head --manifest "$f/not_json.jsonl" --chinmu "$f/nope" --out "$o/ph2.safetensors" --key-confidence 2
row index-missing-chinmu 3 "$o/ix" 'no_chinmu: no such file' -- index build --manifest "$f/missing_audio.jsonl" --chinmu "$f/no_chinmu" --out "$o/ix"
row index-unknown-kind 2 "$o/ix2" 'index.kind: '\''tree'\'' is not one of flat, ivf, hnsw' -- index build --manifest "$f/missing_audio.jsonl" --chinmu "$f/nope" --out "$o/ix2" --set index.kind=tree
row search-missing-index 3 - 'no_index is not an index folder' -- search --index "$f/no_index" --text rock
row search-absurd-k 2 - '--k: must be at least 1, got 0' -- search --index "$f/emptydir" --text rock --k 0
row search-unknown-mode 2 - '--mode: video not in {text,lyrics,mix}' -- search --index "$f/emptydir" --text rock --mode video
row serve-missing-index 3 - 'no_index is not an index folder' -- serve --index "$f/no_index" --port 0
row serve-absurd-port 2 - 'port must be 0..65535' -- serve --index "$f/nope" --port 70000
row passwd-bad-name 2 "$o/users" 'user names are [A-Za-z0-9._-]+, not '\''a b'\''' -- passwd --users "$o/users" --user "a b"
row bundle-missing-parts 3 "$o/b1" 'no_codec: no such file' -- bundle --codec "$f/no_codec" --chinmu "$f/no_chinmu" --generator "$f/no_generator" --out "$o/b1"
row bundle-missing-plan-head 3 "$o/b2" 'no_head: no such file' -- bundle --codec "$f/no_codec" --chinmu "$f/no_chinmu" --generator "$f/no_generator" --plan-head "$f/no_head" --out "$o/b2"
# launch / bench
row launch-zero-procs 2 - '-n must be at least 1, got 0' -- launch -n 0 -- version
row bench-unknown-suite 2 "$o/bench.json" 'unknown bench suite '\''colour'\''' -- bench colour --json "$o/bench.json"

echo "bad-input matrix: $rows rows, $failures failures"
[ "$failures" -eq 0 ]
