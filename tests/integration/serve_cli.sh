#!/usr/bin/env bash
# The retrieval service end to end on a small synthetic corpus with a few-step tiny ChinMu:
# `mudit index build` writes the folder, `mudit search` ranks every song, `mudit serve` answers
# the API over loopback (search, audio with a Range request, Basic auth and tokens from a
# `mudit passwd` users file) and stops cleanly on SIGTERM; a real browser (Chromium through
# chromedriver and selenium, when installed) types a query into the page, sees the results and
# saves a screenshot. Bad input: one line, a non-zero exit, no index folder.
set -u
MUDIT=$1
CONFIGS=$2
PYTHON=${3:-}
failures=0
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

corpus_and_chinmu 6 9

check index-build 0 "$MUDIT" index build --manifest "$M" --chinmu "$work/chinmu" --out "$work/idx" \
  --set index.kind=hnsw --log-level info
expect_in index-build "$work/err" "index: 6 songs (0 unreadable, 0 without lyrics)"
for f in audio.faiss lyrics.faiss vectors.safetensors songs.jsonl index.yaml; do
  [ -f "$work/idx/$f" ] || { echo "FAIL index-build: no $f"; failures=$((failures + 1)); }
done
expect_in index-build "$work/idx/index.yaml" "kind: hnsw"

check search 0 "$MUDIT" search --index "$work/idx" --text "a slow piano ballad" --k 6 --mode mix
python3 - "$work/out" <<'PY' || failures=$((failures + 1))
import json, sys
hits = [json.loads(l) for l in open(sys.argv[1])]
ids = [h["id"] for h in hits]
scores = [h["score"] for h in hits]
if len(hits) != 6 or len(set(ids)) != 6 or scores != sorted(scores, reverse=True):
    print("FAIL search: want 6 distinct songs best first, got", hits); sys.exit(1)
if [h["rank"] for h in hits] != list(range(1, 7)):
    print("FAIL search: ranks"); sys.exit(1)
print("ok   search ranks all 6 songs")
PY

# Bad input: one error line, non-zero exit, nothing written.
check index-no-manifest 3 "$MUDIT" index build --manifest "$work/none.jsonl" \
  --chinmu "$work/chinmu" --out "$work/idx2"
one_line_error index-no-manifest
absent index-no-manifest "$work/idx2"
check index-bad-kind 2 "$MUDIT" index build --manifest "$M" --chinmu "$work/chinmu" \
  --out "$work/idx3" --set index.kind=annoy
one_line_error index-bad-kind
absent index-bad-kind "$work/idx3"
check search-bad-mode 2 "$MUDIT" search --index "$work/idx" --text x --mode audio
one_line_error search-bad-mode
check search-no-index 3 "$MUDIT" search --index "$work/nothing" --text x
one_line_error search-no-index

# The service, with a users file.
printf 'pw-of-ana\n' | "$MUDIT" passwd --users "$work/users" --user ana --log-level warn ||
  { echo "FAIL passwd"; failures=$((failures + 1)); }
"$MUDIT" serve --index "$work/idx" --port 0 --users "$work/users" --log-level info \
  >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do grep -q "^serving" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^serving 6 songs on \(http:[^ ]*\).*/\1/p' "$work/serve.out")
if [ -z "$url" ]; then
  echo "FAIL serve: no 'serving' line"; cat "$work/serve.out" "$work/serve.err"; exit 1
fi
echo "ok   serve on $url"
status() { curl -s -o "$work/body" -w '%{http_code}' "$@"; }
q='{"query": "a fast rock song with electric guitar", "mode": "text", "k": 3}'
[ "$(status -X POST -d "$q" "${url}api/search")" = 401 ] ||
  { echo "FAIL no credentials: not 401"; failures=$((failures + 1)); }
[ "$(status -u ana:wrong -X POST -d "$q" "${url}api/search")" = 401 ] ||
  { echo "FAIL wrong password: not 401"; failures=$((failures + 1)); }
[ "$(status -u ana:pw-of-ana -X POST -d "$q" "${url}api/search")" = 200 ] ||
  { echo "FAIL search: not 200"; cat "$work/body"; failures=$((failures + 1)); }
python3 - "$work/body" <<'PY' || failures=$((failures + 1))
import json, sys
j = json.load(open(sys.argv[1]))
if len(j["hits"]) != 3 or not all(h["audio_url"].endswith("/audio") for h in j["hits"]):
    print("FAIL search body:", j); sys.exit(1)
open(sys.argv[1] + ".first", "w").write(j["hits"][0]["audio_url"])
print("ok   search over HTTP:", [h["id"] for h in j["hits"]])
PY
audio_url=$(cat "$work/body.first" 2>/dev/null)
[ "$(status -u ana:pw-of-ana -H 'Range: bytes=0-11' "${url%/}$audio_url")" = 206 ] &&
  [ "$(head -c 4 "$work/body")" = RIFF ] && [ "$(stat -c %s "$work/body")" = 12 ] ||
  { echo "FAIL audio range request"; failures=$((failures + 1)); }
token=$(curl -s -u ana:pw-of-ana -d '' "${url}api/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
[ "$(status -H "Authorization: Bearer $token" -X POST -d "$q" "${url}api/search")" = 200 ] ||
  { echo "FAIL bearer token"; failures=$((failures + 1)); }
[ "$(status -u ana:pw-of-ana "${url}api/songs/..%2Fmanifest.jsonl/audio")" = 404 ] ||
  { echo "FAIL path outside the index: not 404"; failures=$((failures + 1)); }

# A real browser: type a query, see results with players, save a screenshot.
if [ -n "$PYTHON" ] && command -v chromedriver >/dev/null && "$PYTHON" -c 'import selenium' 2>/dev/null; then
  "$PYTHON" - "$url" "$work/page.png" <<'PY' || failures=$((failures + 1))
import struct, sys
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
url, png = sys.argv[1], sys.argv[2]
opts = webdriver.ChromeOptions()
for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1400"):
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=webdriver.ChromeService("/usr/bin/chromedriver"), options=opts)
try:
    # Credentials in the URL: Chromium answers the Basic challenge with them.
    driver.get(url.replace("http://", "http://ana:pw-of-ana@"))
    box = driver.find_element(By.ID, "query")
    box.send_keys("一首节奏很快的摇滚")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".hit audio")) > 0)
    hits = driver.find_elements(By.CSS_SELECTOR, ".hit")
    status = driver.find_element(By.ID, "status").text
    driver.save_screenshot(png)
finally:
    driver.quit()
b = open(png, "rb").read()
w, h = struct.unpack(">II", b[16:24])
if len(hits) != 6 or "songs in" not in status or b[:8] != b"\x89PNG\r\n\x1a\n" or len(b) < 10000:
    print(f"FAIL browser: {len(hits)} hits, status {status!r}, {len(b)} byte screenshot"); sys.exit(1)
print(f"ok   browser: typed a query, {len(hits)} results with players, screenshot {w}x{h}")
PY
else
  echo "skip browser: needs chromium-driver and selenium (tools/bootstrap.sh --test-extras)"
fi

kill -TERM "$server_pid"
wait "$server_pid"
rc=$?
server_pid=""
[ "$rc" = 0 ] || { echo "FAIL serve: exit $rc after SIGTERM"; failures=$((failures + 1)); }
expect_in serve-stop "$work/serve.err" "serve: stopped after"

if [ "$failures" -gt 0 ]; then echo "$failures failures"; exit 1; fi
echo "all serve CLI checks passed"
