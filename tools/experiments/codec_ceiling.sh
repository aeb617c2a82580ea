#!/usr/bin/env bash
# How much tempo and mode a codec keeps: the ceiling of control accuracy through it.
#   [INSTRUMENTS=probe.safetensors] tools/experiments/codec_ceiling.sh MANIFEST OUT CODEC... [--vocoder VOCODER]
# For every song of MANIFEST whose felt tempo is fast (>= 120 BPM) or slow (< 90), each codec
# round-trips it (mudit encode, mudit decode) and the vocoder, when given, resynthesises it
# from its mel (mudit vocode); `mudit eval --metrics control` then scores the real songs and
# every version as tools/experiments/control_accuracy.sh scores generated ones.
set -euo pipefail
MANIFEST=$1 OUT=$2
shift 2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MUDIT=${MUDIT:-$ROOT/build/bin/mudit}
codecs=() vocoder=""
while [ $# -gt 0 ]; do
  case "$1" in
    --vocoder) vocoder=$2; shift ;;
    *) codecs+=("$1") ;;
  esac
  shift
done
mkdir -p "$OUT"
python3 - "$MANIFEST" >"$OUT/songs.txt" <<'PY'
import json, os, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e["meta"]
    beat = m["bpm"] / (1.5 if m["meter"] == "6/8" else 1.0)
    if 90 <= beat < 120:
        continue
    print(e["id"], os.path.join(os.path.dirname(sys.argv[1]), e["audio"]))
PY
kinds=(real)
for c in "${codecs[@]}"; do kinds+=("$(basename "$c" .safetensors)"); done
[ -z "$vocoder" ] || kinds+=(vocoder)
for k in "${kinds[@]}"; do rm -rf "${OUT:?}/$k"; mkdir -p "$OUT/$k"; done
while read -r id path; do
  ln -s "$(realpath "$path")" "$OUT/real/$id.wav"
  for c in "${codecs[@]}"; do
    name=$(basename "$c" .safetensors)
    "$MUDIT" encode --codec "$c" --input "$path" --out "$OUT/$id.$name.safetensors" --log-level warn
    "$MUDIT" decode --codec "$c" --input "$OUT/$id.$name.safetensors" --out "$OUT/$name/$id.wav" \
      --log-level warn
  done
  if [ -n "$vocoder" ]; then
    "$MUDIT" vocode --vocoder "$vocoder" --input "$path" --out "$OUT/vocoder/$id.wav" --log-level warn
  fi
done <"$OUT/songs.txt"
rows=()
for k in "${kinds[@]}"; do
  "$MUDIT" eval --generated "$OUT/$k" --reference "$MANIFEST" --metrics control --no-report-audio \
    ${INSTRUMENTS:+--instruments "$INSTRUMENTS"} \
    --out "$OUT/eval_$k" --log-level warn
  rows+=("$k=$OUT/eval_$k/metrics.json:unknown")
done
python3 "$ROOT/tools/experiments/control_table.py" "${rows[@]}"
