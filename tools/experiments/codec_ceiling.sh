#!/usr/bin/env bash
# How much tempo and mode a codec keeps: the ceiling of control accuracy through it.
#   tools/experiments/codec_ceiling.sh MANIFEST OUT CODEC... [--vocoder VOCODER]
# For every song of MANIFEST whose felt tempo is fast (>= 120 BPM) or slow (< 90), each codec
# round-trips it (mudit encode, mudit decode) and the vocoder, when given, resynthesises it
# from its mel (mudit vocode); `mudit analyze` then estimates tempo and key of the real songs
# and of every version, scored as tools/experiments/control_accuracy.sh scores generated ones.
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
    print(e["id"], os.path.join(os.path.dirname(sys.argv[1]), e["audio"]), beat, m["mode"])
PY
while read -r id path _ _; do
  ln -sf "$(realpath "$path")" "$OUT/$id.real.wav"
  for c in "${codecs[@]}"; do
    name=$(basename "$c" .safetensors)
    "$MUDIT" encode --codec "$c" --input "$path" --out "$OUT/$id.$name.safetensors" --log-level warn
    "$MUDIT" decode --codec "$c" --input "$OUT/$id.$name.safetensors" --out "$OUT/$id.$name.wav" \
      --log-level warn
  done
  if [ -n "$vocoder" ]; then
    "$MUDIT" vocode --vocoder "$vocoder" --input "$path" --out "$OUT/$id.vocoder.wav" --log-level warn
  fi
done <"$OUT/songs.txt"
"$MUDIT" analyze "$OUT"/*.wav --log-level warn >"$OUT/analysis.jsonl"
python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
targets = {}
for line in open(f"{out}/songs.txt"):
    i, _, beat, mode = line.split()
    targets[i] = (float(beat), mode)
rows = {}
for line in open(f"{out}/analysis.jsonl"):
    a = json.loads(line)
    song, kind = os.path.basename(a["file"])[:-4].split(".", 1)
    beat, mode = targets[song]
    r = rows.setdefault(kind, [0, 0, 0, 0, 0])
    r[0] += 1
    r[1] += (a["bpm"] >= 105) == (beat >= 120)
    r[2] += abs(a["bpm"] - beat) <= 0.08 * beat
    if mode in ("major", "minor"):
        r[3] += 1
        r[4] += a["key"].endswith(mode)
print("| audio | songs | tempo class | tempo within 8 % | mode (major/minor songs) |")
print("|---|---|---|---|---|")
for kind, r in sorted(rows.items(), key=lambda kv: kv[0] != "real"):
    print(f"| {kind} | {r[0]} | {r[1] / r[0]:.3f} | {r[2] / r[0]:.3f} | {r[4] / max(1, r[3]):.3f} ({r[3]}) |")
PY
