#!/usr/bin/env bash
# tools/demo.sh at a reduced size (16 songs, 2 held-out songs, 20 steps per training, no codec
# floor): every artefact exists and loads, two prompts give different songs with the plans their
# descriptions state, the held-out songs are scored per register, a rerun reuses the bundle, a
# bundle from other configs is refused untouched, and a codec below the floor stops the demo
# with what to do, no bundle made.
set -u
ROOT=$1
MUDIT=$2
failures=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"
need_soundfont
export MUDIT MUDIT_DEMO_SKIP_BUILD=1 DEMO_TRAIN_STEPS=20 DEMO_FLOOR=0 DEMO_KEY_FLOOR=0 DEMO_CEILING_SONGS=4
D=$work/demo
demo() { bash "$ROOT/tools/demo.sh" --songs 16 --heldout 2 --out "$D" "$@"; }

check demo-first-run 0 demo
for f in bundle/pipeline.yaml bundle/codec_ceiling.json bundle/demo.stamp bundle/plan_head.safetensors \
  work/codec.safetensors metrics.json report.html songs/pro_zh_rock.wav songs/pro_en_ballad.wav \
  songs/ama_zh_happy.json; do
  [ -s "$D/$f" ] || { echo "FAIL artefact $f missing or empty"; failures=$((failures + 1)); }
done
expect_in demo-prints-the-ceiling "$work/out" "their codec round trip"
python3 - "$D" <<'PY' || failures=$((failures + 1))
import json, os, sys, wave
d = sys.argv[1]
bad = []
m = json.load(open(f"{d}/metrics.json"))
rows = {r["id"]: r for r in m["songs"]}
if len(rows) != 6 + 3 * 2:
    bad.append(f"{len(rows)} songs scored, wanted 12")
for reg in ("professional", "amateur", "none"):
    if reg not in m["groups"]:
        bad.append(f"no '{reg}' group in metrics.json")
side = lambda n: json.load(open(f"{d}/songs/{n}.json"))
rock, ballad = side("pro_zh_rock")["plan"], side("pro_en_ballad")["plan"]
if (rock.get("bpm"), rock.get("key")) != (140, "A major"):
    bad.append(f"pro_zh_rock's plan: {rock.get('bpm')} BPM, {rock.get('key')}")
if rock["sources"].get("beats") != "description" or ballad.get("bpm") != 72:
    bad.append(f"the description's plan was not used: {rock['sources']}, {ballad.get('bpm')}")
if "beats" not in side("ama_zh_happy")["plan"].get("sources", {}):
    bad.append("the amateur prompt got no tempo from the plan head")
def frames(n):
    with wave.open(f"{d}/songs/{n}.wav") as w:
        return w.readframes(w.getnframes())
if frames("pro_zh_rock") == frames("pro_en_ballad"):
    bad.append("two prompts gave the same song")
if "plan_given" not in rows["pro_zh_rock"]:
    bad.append("the prompt's song was not scored against its plan")
html = open(f"{d}/report.html", encoding="utf-8").read()
for want in ("<audio", "data:image/png", "Plan following"):
    if want not in html:
        bad.append(f"report.html lacks {want}")
for b in bad:
    print("FAIL demo artefacts:", b)
if not bad:
    print("ok   demo artefacts: 12 songs scored, plans from the descriptions, songs differ")
sys.exit(1 if bad else 0)
PY
# The bundle loads on its own.
echo '{"id": "again", "description": "Rock at 120 BPM in D major", "duration": 4, "seed": 3}' \
  >"$work/one.jsonl"
check bundle-loads 0 "$MUDIT" sample --bundle "$D/bundle" --input "$work/one.jsonl" \
  --out "$work/again" --log-level warn
[ -s "$work/again/again.wav" ] || { echo "FAIL bundle-loads: no song"; failures=$((failures + 1)); }

check demo-rerun 0 demo
expect_in demo-rerun-reuses "$work/out" "is reused"

# Another config's bundle: refused, nothing changed.
echo "mudit 0.0.0" >"$D/bundle/demo.stamp"
check demo-stale-bundle 3 demo
expect_in demo-stale-says-retrain "$work/err" "--retrain"
grep -q "mudit 0.0.0" "$D/bundle/demo.stamp" || { echo "FAIL stale bundle touched"; failures=$((failures + 1)); }

# A codec below the floor: the demo stops before training on it, no bundle.
rm -rf "$D/bundle"
DEMO_FLOOR=1.01 check demo-codec-floor 4 demo
expect_in demo-floor-says-what-to-do "$work/err" "configs/demo/mel_vae.yaml"
absent demo-floor-no-bundle "$D/bundle"
# A codec that keeps the beats and loses the key stops it too.
DEMO_KEY_FLOOR=1.01 check demo-codec-key-floor 4 demo
expect_in demo-key-floor-names-the-key "$work/err" "would not keep their keys"
absent demo-key-floor-no-bundle "$D/bundle"

echo "$failures failure(s)"
[ "$failures" = 0 ]
