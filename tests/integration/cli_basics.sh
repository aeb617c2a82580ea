#!/usr/bin/env bash
# The mudit binary's contract: --version, --help, exit codes and one-line errors, and the
# config resolution users see through `mudit config`.
set -u
MUDIT=$1
DATA=$2  # tests/data; $3: the shared folder (default: next to the project)
failures=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"
one_line_stderr() {
  local n
  n=$(wc -l <"$work/err")
  if [ "$n" != 1 ]; then echo "FAIL $1: stderr has $n lines"; cat "$work/err"; failures=$((failures + 1)); fi
}

check version 0 "$MUDIT" --version
expect_in version "$work/out" "LibTorch 2."
expect_in version "$work/out" "CUDA available:"
expect_in version "$work/out" "mudit 0."

check version-subcommand 0 "$MUDIT" version --threads 1
expect_in version-subcommand "$work/out" "threads: 1"

check help 0 "$MUDIT" --help
expect_in help "$work/out" "version"
expect_in help "$work/out" "config"

check subcommand-help 0 "$MUDIT" config --help
expect_in subcommand-help "$work/out" "--set"
expect_in subcommand-help "$work/out" "--log-level"

check unknown-command 2 "$MUDIT" nosuchcmd
one_line_stderr unknown-command
expect_in unknown-command "$work/err" "unknown command 'nosuchcmd'"

check near-miss-command 2 "$MUDIT" confg
expect_in near-miss-command "$work/err" "did you mean 'config'?"

check unknown-flag 2 "$MUDIT" config --no-such-flag
one_line_stderr unknown-flag

check bad-device 2 "$MUDIT" version --device gpu7
one_line_stderr bad-device
expect_in bad-device "$work/err" "bad device 'gpu7'"

check bad-log-level 2 "$MUDIT" version --log-level loud
expect_in bad-log-level "$work/err" "unknown log level 'loud'"

# Config resolution: include + merge + --set, written next to the outputs.
check config-resolve 0 "$MUDIT" config --config "$DATA/config/experiment.yaml" \
  --set model.depth=12 --set 'model.strides=[4, 4]' --out "$work/run"
expect_in config-resolve "$work/out" "hidden: 512"
expect_in config-resolve "$work/out" "depth: 12"
expect_in config-resolve "$work/out" "strides: [4, 4]"
expect_in config-resolve "$work/out" "lr: 0.0002"
expect_in config-resolve "$work/run/config.yaml" "depth: 12"

check config-missing-file 3 "$MUDIT" config --config "$work/absent.yaml"
one_line_stderr config-missing-file
expect_in config-missing-file "$work/err" "absent.yaml: no such file"

check config-syntax 2 "$MUDIT" config --config "$DATA/config/broken.yaml"
one_line_stderr config-syntax
expect_in config-syntax "$work/err" "broken.yaml:"

check config-bad-set 2 "$MUDIT" config --set nonsense
expect_in config-bad-set "$work/err" "expected key.path=value"

# A failed run leaves no output file behind.
check config-no-partial 2 "$MUDIT" config --config "$DATA/config/broken.yaml" --out "$work/failed"
if [ -e "$work/failed/config.yaml" ]; then echo "FAIL config-no-partial: output written"; failures=$((failures + 1)); fi

# mudit inspect: a good file, a checkpoint folder, and broken files with one clear line each.
FORMATS="$DATA/formats/v1/test_linear.safetensors"
check inspect-model 0 "$MUDIT" inspect "$FORMATS"
expect_in inspect-model "$work/out" "model: test_linear rev 1, step 7"
expect_in inspect-model "$work/out" "tensors: 2 (8 elements"

mkdir -p "$work/run/checkpoints/step-7"
cp "$FORMATS" "$work/run/checkpoints/step-7/model.safetensors"
echo "step-7" >"$work/run/checkpoints/latest"
check inspect-run 0 "$MUDIT" inspect "$work/run/checkpoints"
expect_in inspect-run "$work/out" "latest step-7"
check inspect-step 0 "$MUDIT" inspect "$work/run/checkpoints/step-7"
expect_in inspect-step "$work/out" "model.safetensors"

head -c 100 "$FORMATS" >"$work/truncated.safetensors"
check inspect-truncated 3 "$MUDIT" inspect "$work/truncated.safetensors"
one_line_stderr inspect-truncated
expect_in inspect-truncated "$work/err" "truncated.safetensors: truncated (header length"

python3 - "$work/offsets.safetensors" <<'PY'
import json, struct, sys
header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 4096]}}).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(header)) + header + bytes(16))
PY
check inspect-offsets 3 "$MUDIT" inspect "$work/offsets.safetensors"
one_line_stderr inspect-offsets
expect_in inspect-offsets "$work/err" "data_offsets [0, 4096] outside the data section of 16 bytes"

python3 - "$work/tone.wav" "$work/corrupt.wav" <<'PY'
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    w.writeframes(b"".join(struct.pack("<h", int(16000 * math.sin(2 * math.pi * 440 * i / 16000)))
                           for i in range(16000)))
data = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(b"RIFX" + data[4:40])  # bad magic, cut short
PY
check inspect-wav 0 "$MUDIT" inspect "$work/tone.wav"
expect_in inspect-wav "$work/out" "audio: 1 channel, 16000 Hz, 16000 frames, 1.000 s"
expect_in inspect-wav "$work/out" "LUFS integrated"
check inspect-corrupt-wav 3 "$MUDIT" inspect "$work/corrupt.wav"
one_line_stderr inspect-corrupt-wav
expect_in inspect-corrupt-wav "$work/err" "corrupt.wav"

# mudit lyrics clean: a transcript with credits, a repetition loop and timestamps.
printf '%s\n' '[00:01.00]作詞：某人' '[00:05.00]當你走進這歡樂場' '[00:07.50]背上所有的夢與想' \
  '[00:09.00]啦啦啦啦啦啦啦啦' '[00:11.00]背上所有的夢與想' '[00:13.00]请订阅我的频道' >"$work/asr.lrc"
check lyrics-clean 0 "$MUDIT" lyrics clean "$work/asr.lrc" --out "$work/clean.lrc" --report "$work/report.json"
expect_in lyrics-clean "$work/clean.lrc" "[00:05.00]当你走进这欢乐场"
expect_in lyrics-clean "$work/clean.lrc" "[00:07.50]背上所有的梦与想"
expect_in lyrics-clean "$work/report.json" "credit or plug: 作词"
expect_in lyrics-clean "$work/report.json" "long repetition"
expect_in lyrics-clean "$work/report.json" "credit or plug: 订阅"
# Once the loop between them is gone, the two identical lines are consecutive: one is a repeat.
expect_in lyrics-clean "$work/report.json" '"reason": "repeat"'
if [ "$(wc -l <"$work/clean.lrc")" != 2 ]; then echo "FAIL lyrics-clean: expected 2 kept lines"; cat "$work/clean.lrc"; failures=$((failures + 1)); fi
check lyrics-clean-missing 3 "$MUDIT" lyrics clean "$work/none.lrc" --out "$work/none-out.lrc"
one_line_stderr lyrics-clean-missing
if [ -e "$work/none-out.lrc" ]; then echo "FAIL lyrics-clean-missing: output written"; failures=$((failures + 1)); fi

# mudit lyrics phonemes / rhyme: tokens of a small song, the rhyme layout, missing inputs.
printf '%s\n' '(verse1)' '当你走进这欢乐场' '背上所有的梦与想' '(chorus1)' 'I love you' >"$work/song.txt"
check lyrics-phonemes 0 "$MUDIT" lyrics phonemes "$work/song.txt" --vocab "$work/vocab.txt"
expect_in lyrics-phonemes "$work/out" "<verse>"
expect_in lyrics-phonemes "$work/out" "C.d C.ang C.n C.i"
expect_in lyrics-phonemes "$work/out" "E.AY1 E.L E.AH1 E.V"
expect_in lyrics-phonemes "$work/vocab.txt" "C.zh"
mkdir -p "$work/s_0001"
printf '(verse1)\n当你走进这欢乐场\n背上所有的梦与想\n一杯 敬明天' >"$work/s_0001/str_lyric"
check lyrics-rhyme 0 "$MUDIT" lyrics rhyme --muchin "$work/s_0001" --out "$work/s_0001/ours"
expect_in lyrics-rhyme "$work/s_0001/ours" "cccccccR"
expect_in lyrics-rhyme "$work/s_0001/ours" "cc ccc"
check lyrics-rhyme-missing 3 "$MUDIT" lyrics rhyme --muchin "$work/no-song"
one_line_stderr lyrics-rhyme-missing
check lyrics-phonemes-stats-missing 3 "$MUDIT" lyrics phonemes --stats "$work/no-dir"
one_line_stderr lyrics-phonemes-stats-missing
check lyrics-rhyme-no-mode 2 "$MUDIT" lyrics rhyme
one_line_stderr lyrics-rhyme-no-mode
# mudit import: a missing input folder is one line and writes nothing; a folder with sidecars
# imports; the MuChin sample (when ../shared is there) imports with --allow-missing-audio and
# without it fails, leaving the report but no manifest.
check import-missing-in 3 "$MUDIT" import muchin --in "$work/no-such-dir" --out "$work/imp/m.jsonl"
one_line_stderr import-missing-in
expect_in import-missing-in "$work/err" "no-such-dir' is not a folder"
if [ -e "$work/imp" ]; then echo "FAIL import-missing-in: output written"; failures=$((failures + 1)); fi
check import-no-out 2 "$MUDIT" import folder --in "$work"
one_line_stderr import-no-out
mkdir -p "$work/songs"
cp "$work/tone.wav" "$work/songs/tone.wav"
printf '%s\n' '(chorus)' '[00:00.50]la la' >"$work/songs/tone.lrc"
printf '%s' '{"descriptions": {"amateur": ["a calm tone"]}, "tags": {"amateur": {"mood": ["calm"]}}}' >"$work/songs/tone.json"
check import-folder 0 "$MUDIT" import folder --in "$work/songs" --out "$work/imp/folder.jsonl" --log-level warn
expect_in import-folder "$work/imp/folder.jsonl" '"id":"tone","audio":"'
expect_in import-folder "$work/imp/folder.jsonl" '"lyrics":"(chorus1)\n[00:00.50]la la\n"'
expect_in import-folder "$work/imp/folder.config.yaml" "valid_fraction: 0.05"
expect_in import-folder "$work/imp/folder.report.json" '"imported": 1'
SAMPLE="${3:-$DATA/../../../shared}/data/muchin-sample"
if [ -d "$SAMPLE" ]; then
  check import-muchin 0 "$MUDIT" import muchin --in "$SAMPLE" --out "$work/imp/muchin.jsonl" \
    --allow-missing-audio --seed 3 --report "$work/imp/muchin-report.json"
  expect_in import-muchin "$work/err" "imported 200 of 200 songs (0 skipped)"
  expect_in import-muchin "$work/imp/muchin-report.json" '"missing audio": 200'
  expect_in import-muchin "$work/imp/muchin.config.yaml" "split_seed: 3"
  check import-muchin-noaudio 3 "$MUDIT" import muchin --in "$SAMPLE" --out "$work/imp/none.jsonl" --log-level warn
  one_line_stderr import-muchin-noaudio
  expect_in import-muchin-noaudio "$work/err" "no song imported"
  if [ -e "$work/imp/none.jsonl" ]; then echo "FAIL import-muchin-noaudio: manifest written"; failures=$((failures + 1)); fi
  expect_in import-muchin-noaudio "$work/imp/none.report.json" '"missing audio": 200'
else
  echo "skip import-muchin: no MuChin sample at $SAMPLE"
fi

check inspect-missing 3 "$MUDIT" inspect "$work/nothing-here.safetensors"
one_line_stderr inspect-missing

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all CLI checks passed"
