#!/usr/bin/env bash
# `mudit eval` end to end on a small synthetic corpus: three "generated" songs (real songs of
# the corpus with `mudit sample`-style sidecars: two professional prompts, one with none)
# scored against the corpus manifest with a few-step tiny ChinMu; metrics.json holds what the
# inputs fix (the lyric score of a song's own lyrics is full, ARA of a song with itself is at
# its maximum); report.html opens in headless Chromium (when installed) with its tables and
# audio players, and a screenshot of it is a real PNG. Bad input: one line, exit 2, no files.
set -u
MUDIT=$1
CONFIGS=$2  # configs/
failures=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

corpus_and_chinmu 4 5

mkdir -p "$work/gen"
python3 - "$M" "$work/gen" <<'PY'
import json, os, shutil, sys
manifest, gen = sys.argv[1], sys.argv[2]
songs = [json.loads(l) for l in open(manifest)]
for e, kind in [(songs[0], "professional"), (songs[1], "professional"), (songs[2], "none")]:
    name = f'{e["id"]}.{kind}'
    shutil.copy(os.path.join(os.path.dirname(manifest), e["audio"]), f"{gen}/{name}.wav")
    desc = e["descriptions"]["professional"][0]["text"] if kind != "none" else ""
    req = {"id": name, "description": desc, "lyrics": e["lyrics"]}
    json.dump({"request": req}, open(f"{gen}/{name}.json", "w"), ensure_ascii=False)
PY

check eval 0 "$MUDIT" eval --generated "$work/gen" --reference "$M" --chinmu "$work/chinmu" \
  --out "$work/eval" --log-level info
expect_in eval "$work/err" "3 generated songs, 4 references, 3 paired; metrics control, saa, ara, fad, lyrics, plan"
python3 - "$work/eval/metrics.json" <<'PY' || failures=$((failures + 1))
import json, math, sys
m = json.load(open(sys.argv[1]))
s, g, songs = m["summary"], m["groups"], m["songs"]
problems = []
def want(cond, what):
    if not cond: problems.append(what)
want(m["metrics"] == ["control", "saa", "ara", "fad", "lyrics", "plan"], f'metrics {m["metrics"]}')
# The references are synthetic songs with labels: the plan metric scores every song against them.
want(all("plan_labels" in r for r in songs), "plan_labels per song")
want(g["professional"]["plan_labels"]["songs"] == 2, "plan_labels per register")
want(sorted(g) == ["none", "professional"], f"groups {sorted(g)}")
want(g["professional"]["control"]["songs"] == 2, "two professional songs")
want(all(r["register"] in ("professional", "none") for r in songs), "registers")
# The songs are the references themselves: the lyric score is full (P1..P4 = 100).
for r in songs:
    l = r["lyrics"]
    want(abs(l["p1"] + l["p2_1"] + l["p2_2"] + l["p3"] + l["p4"] - 100) < 1e-9, f'lyrics {l}')
    want(-1 <= r["saa_professional"] <= 1, "saa in [-1, 1]")
    want(r["fad"] >= -1e-6 and math.isfinite(r["fad"]), "per-song fad")
want(s["fad"] >= -1e-6, f'fad {s["fad"]}')
want("fad_inf" in s, "fad_inf")
want("saa_prompt" in g["professional"] and "saa_prompt" not in g["none"], "saa groups")
if problems:
    print("FAIL metrics.json:", "; ".join(problems)); sys.exit(1)
print("ok   metrics.json")
PY
expect_in report "$work/eval/report.html" "<table>"
expect_in report "$work/eval/report.html" "data:audio/ogg;base64,"
expect_in report "$work/eval/report.html" "data:image/png;base64,"

# ARA of a song with itself equals its own layer-similarity mean, the largest ARA it can have
# against any reference; the reconstruction metrics of a song with itself are exact.
check recon 0 "$MUDIT" eval --generated "$work/gen" --reference "$M" --metrics reconstruction,lyrics \
  --out "$work/recon" --log-level warn
python3 - "$work/recon/metrics.json" <<'PY' || failures=$((failures + 1))
import json, sys
m = json.load(open(sys.argv[1]))
bad = [r["id"] for r in m["songs"] if r["reconstruction"]["mel_l1"] > 1e-6 or r["reconstruction"]["si_sdr"] < 60]
if bad: print("FAIL reconstruction of identical audio:", bad); sys.exit(1)
print("ok   reconstruction of identical audio")
PY

# The plan metric: songs without a description but with a plan from the request are register
# "plan"; a song given its own labels' plan scores the same against the plan given and against
# its labels (the same plan, the same estimate), a song given another song's plan does not.
mkdir -p "$work/plangen"
python3 - "$M" "$work/plangen" "$MUDIT" <<'PY' || failures=$((failures + 1))
import json, os, shutil, subprocess, sys
manifest, gen, mudit = sys.argv[1], sys.argv[2], sys.argv[3]
songs = [json.loads(l) for l in open(manifest)]
root = os.path.dirname(manifest)
plans = []
for e in songs[:2]:
    labels = os.path.join(root, os.path.dirname(e["audio"]), "labels.json")
    out = subprocess.run([mudit, "plan", "--labels", labels, "--out", f"{gen}/{e['id']}.plan",
                          "--log-level", "warn"], capture_output=True, text=True)
    if out.returncode != 0: print("FAIL mudit plan --labels:", out.stderr); sys.exit(1)
    p = json.load(open(f"{gen}/{e['id']}.plan"))
    p["sources"] = {k: "request" for k in p["sources"]}
    plans.append(p)
for i, (e, plan, kind) in enumerate([(songs[0], plans[0], "own"), (songs[1], plans[0], "other")]):
    name = f'{e["id"]}.{kind}'
    shutil.copy(os.path.join(root, e["audio"]), f"{gen}/{name}.wav")
    json.dump({"request": {"id": name, "lyrics": e["lyrics"]}, "plan": plan},
              open(f"{gen}/{name}.json", "w"), ensure_ascii=False)
PY
rm -f "$work"/plangen/*.plan
check eval-plan 0 "$MUDIT" eval --generated "$work/plangen" --reference "$M" --metrics plan \
  --out "$work/planeval" --no-report-audio --log-level warn
python3 - "$work/planeval/metrics.json" <<'PY' || failures=$((failures + 1))
import json, sys
m = json.load(open(sys.argv[1]))
rows = {r["id"].split(".")[1]: r for r in m["songs"]}
problems = []
if sorted(m["groups"]) != ["plan"]: problems.append(f'groups {sorted(m["groups"])}')
own, other = rows["own"], rows["other"]
if own["plan_given"] != own["plan_labels"]: problems.append(f"own: {own}")
if other["plan_given"] == other["plan_labels"]: problems.append(f"other: {other}")
if "beat_f" not in own["plan_given"] or "key" not in own["plan_given"]: problems.append("groups scored")
if m["groups"]["plan"]["plan_given"]["songs"] != 2: problems.append("two songs given plans")
if problems: print("FAIL plan metric:", "; ".join(problems)); sys.exit(1)
print("ok   plan metric: own", own["plan_given"], "other given", other["plan_given"])
PY
expect_in eval-plan "$work/planeval/report.html" "Plan following by prompt register"

# The plan head: fitted on the corpus's descriptions (every song has tempo, meter and key in its
# meta), it prints per register what the text and text + head give, and refuses a corpus
# without those labels.
check fit-plan-head 0 "$MUDIT" fit-plan-head --manifest "$M" --chinmu "$work/chinmu" \
  --valid "$M" --out "$work/head.safetensors" --log-level warn
expect_in fit-plan-head "$work/out" "valid  professional text+head"
expect_in fit-plan-head "$work/out" "fit    amateur      text"
[ -s "$work/head.safetensors" ] || { echo "FAIL fit-plan-head wrote no head"; failures=$((failures + 1)); }

# Bad input: one error line, exit 2, nothing written.
check unknown-metric 2 "$MUDIT" eval --generated "$work/gen" --reference "$M" --metrics fad,bogus \
  --out "$work/bad1"
one_line_error unknown-metric
expect_in unknown-metric "$work/err" "unknown metric 'bogus'"
absent unknown-metric "$work/bad1"
check saa-without-chinmu 2 "$MUDIT" eval --generated "$work/gen" --reference "$M" --metrics saa \
  --out "$work/bad2"
one_line_error saa-without-chinmu
expect_in saa-without-chinmu "$work/err" "needs --chinmu"
absent saa-without-chinmu "$work/bad2"
mkdir -p "$work/empty"
check no-songs 3 "$MUDIT" eval --generated "$work/empty" --reference "$M" --out "$work/bad3"
one_line_error no-songs
absent no-songs "$work/bad3"

# Instrument presence: a probe fitted on the corpus itself (bass and drums, on all four songs,
# left out) finds each song's own families and no others.
check fit-instruments 0 "$MUDIT" fit-instruments --manifest "$M" --out "$work/probe.safetensors" \
  --min-songs 1 --l2 0.001 --log-level info
expect_in fit-instruments "$work/err" "left out (fewer than 1 songs with or without them): bass, drums"
check eval-instruments 0 "$MUDIT" eval --generated "$work/gen" --reference "$M" --metrics control \
  --instruments "$work/probe.safetensors" --out "$work/inst" --no-report-audio --log-level warn
python3 - "$work/inst/metrics.json" <<'PY' || failures=$((failures + 1))
import json, sys
m = json.load(open(sys.argv[1]))
c = m["groups"]["professional"]["control"]
if not (c["instrument_recall"] == 1 and c["instrument_false_positive"] == 0 and c["instrument_decisions"] > 0):
    print("FAIL instrument presence of the probe's own songs:", c); sys.exit(1)
if any(set(r["instruments"]) - set(r["target_instruments"]) for r in m["songs"]):
    print("FAIL detected families outside the targets"); sys.exit(1)
print("ok   instrument presence", c["instrument_decisions"], "decisions")
PY
expect_in eval-instruments "$work/inst/report.html" "instruments found"
python3 - "$M" "$work/nolabels.jsonl" <<'PY'
import json, os, sys
with open(sys.argv[2], "w") as out:
    for l in open(sys.argv[1]):
        e = json.loads(l); e["meta"] = {"bpm": 100}
        e["audio"] = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), e["audio"])
        out.write(json.dumps(e, ensure_ascii=False) + "\n")
PY
check fit-no-labels 3 "$MUDIT" fit-instruments --manifest "$work/nolabels.jsonl" \
  --out "$work/bad-probe.safetensors"
one_line_error fit-no-labels
expect_in fit-no-labels "$work/err" "no song has instrument labels"
absent fit-no-labels "$work/bad-probe.safetensors"
check head-no-labels 3 "$MUDIT" fit-plan-head --manifest "$work/nolabels.jsonl" \
  --chinmu "$work/chinmu" --out "$work/bad-head.safetensors"
one_line_error head-no-labels
expect_in head-no-labels "$work/err" "no described song has a tempo, meter and key"
absent head-no-labels "$work/bad-head.safetensors"

# Tags: the generated songs' tags are their references' professional tags, so a dimension with
# one tag per song (style) scores exactly 1 over 3 pairs; the references' amateur-against-
# professional table is there too.
python3 - "$M" "$work/gen" "$work/tags.jsonl" <<'PY'
import json, os, sys
refs = {json.loads(l)["id"]: json.loads(l) for l in open(sys.argv[1])}
with open(sys.argv[3], "w") as out:
    for f in sorted(os.listdir(sys.argv[2])):
        if f.endswith(".wav"):
            name = f[:-4]
            tags = refs[name.split(".")[0]]["tags"]["professional"]
            out.write(json.dumps({"id": name, "tags": tags}, ensure_ascii=False) + "\n")
PY
check eval-tags 0 "$MUDIT" eval --generated "$work/gen" --reference "$M" --metrics tags \
  --text-tower "$work/chinmu" --tags "$work/tags.jsonl" --out "$work/tags" --no-report-audio \
  --log-level warn
python3 - "$work/tags/metrics.json" <<'PY' || failures=$((failures + 1))
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
style = s["tags_generated_professional"]["风格或流派"]
if abs(style["mean"] - 1) > 1e-5 or style["pairs"] != 3 or style["std"] > 1e-5:
    print("FAIL tags of a song against its own:", style); sys.exit(1)
if "tags" not in s or "tags_generated_amateur" not in s:
    print("FAIL tag tables:", sorted(s)); sys.exit(1)
print("ok   tag similarity of the songs' own tags")
PY
echo '{"id": "nobody", "tags": {"风格或流派": ["摇滚"]}}' > "$work/badtags.jsonl"
check eval-bad-tags 3 "$MUDIT" eval --generated "$work/gen" --reference "$M" --metrics tags \
  --chinmu "$work/chinmu" --tags "$work/badtags.jsonl" --out "$work/bad4"
one_line_error eval-bad-tags
expect_in eval-bad-tags "$work/err" "no generated song 'nobody'"
absent eval-bad-tags "$work/bad4"
check tags-without-tower 2 "$MUDIT" eval --generated "$work/gen" --reference "$M" --metrics tags \
  --out "$work/bad5"
expect_in tags-without-tower "$work/err" "needs --text-tower or --chinmu"
absent tags-without-tower "$work/bad5"

# The report in a real browser.
BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$BROWSER" ]; then
  flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$work/profile")
  check browser-dom 0 timeout 120 "$BROWSER" "${flags[@]}" --dump-dom "file://$work/eval/report.html"
  cp "$work/out" "$work/dom.html"
  expect_in browser-dom "$work/dom.html" "<table>"
  expect_in browser-dom "$work/dom.html" "<audio controls"
  expect_in browser-dom "$work/dom.html" "Control accuracy by prompt register"
  check browser-screenshot 0 timeout 120 "$BROWSER" "${flags[@]}" --window-size=1280,1600 \
    --screenshot="$work/report.png" "file://$work/eval/report.html"
  python3 - "$work/report.png" <<'PY' || failures=$((failures + 1))
import struct, sys
b = open(sys.argv[1], "rb").read()
if b[:8] != b"\x89PNG\r\n\x1a\n": print("FAIL screenshot: not a PNG"); sys.exit(1)
w, h = struct.unpack(">II", b[16:24])
if (w, h) != (1280, 1600) or len(b) < 20000:
    print(f"FAIL screenshot: {w}x{h}, {len(b)} bytes"); sys.exit(1)
print(f"ok   screenshot {w}x{h}, {len(b)} bytes")
PY
else
  echo "skip browser: no chromium (tools/bootstrap.sh --test-extras installs it)"
fi

if [ "$failures" -gt 0 ]; then echo "$failures failures"; exit 1; fi
echo "all eval CLI checks passed"
