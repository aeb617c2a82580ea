#!/usr/bin/env bash
# The device call, rehearsed here: packs this build as tools/gpu/pack.sh does for a lent GPU
# machine, then runs tools/gpu/run.sh --dry-run inside a bare Debian root (mmdebstrap minbase with
# the `toolchain` packages of tools/deps/debian.txt: no library mudit links is installed there)
# with torch mounted where the device keeps it, not where this build found it. A library missing
# from the carry, or a path that only exists here, fails here instead of on the card. Then:
#   - the same carry with one library taken out is refused (exit 3, naming the library);
#   - a carry built against another torch is refused (exit 3, naming both versions).
#
#   tests/gpu/rehearsal.sh BUILD_DIR SOURCE_DIR
# Exits 77 (skip) without root, mount namespaces or mmdebstrap. The root is made once per machine
# (about 90 s, 540 MB) under $MUDIT_HOME/rehearsal (default /opt/mudit).
set -euo pipefail
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
skip() { echo "skip: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "the rehearsal needs root (chroot, mount namespace)"
unshare -m true 2>/dev/null || skip "no mount namespaces here"
command -v mmdebstrap >/dev/null || skip "no mmdebstrap (tools/bootstrap.sh installs it)"

HOME_DIR=${MUDIT_HOME:-/opt/mudit}
mapfile -t toolchain < <("$SRC/tools/deps/list.sh" toolchain)
key=$(printf '%s\n' "${toolchain[@]}" | sha256sum | cut -c1-12)
ROOTFS=$HOME_DIR/rehearsal/root-$key
if [ ! -x "$ROOTFS/bin/bash" ]; then
  echo "rehearsal: making the bare root $ROOTFS (once per machine)"
  mkdir -p "$HOME_DIR/rehearsal"
  part=$(mktemp -d "$HOME_DIR/rehearsal/part.XXXXXX")
  if ! mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${toolchain[*]}")" \
      bookworm "$part/root" >"$part/log" 2>&1; then
    tail -5 "$part/log" >&2
    rm -rf "$part"
    skip "mmdebstrap could not make the root (no Debian mirror?)"
  fi
  rm -rf "$ROOTFS"
  mv "$part/root" "$ROOTFS"
  rm -rf "$part"
fi

WORK=$(mktemp -d /tmp/mudit-rehearsal.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$SRC/tools/gpu/pack.sh" --build-dir "$BUILD" --out "$WORK/carry"

SITE=$(sed -n 's/^site //p' "$WORK/carry/stamp.txt")  # torch and the nvidia wheels, as packed
[ -d "$SITE/torch" ] || { echo "rehearsal: the stamp names no torch folder ($SITE)" >&2; exit 1; }
DEVICE_SITE=/opt/torch/.venv/lib/python3.12/site-packages  # where the lent machine keeps them
[ "$SITE" != "$DEVICE_SITE" ] || { echo "rehearsal: torch already lives at $DEVICE_SITE" >&2; exit 1; }
for d in src carry results proc dev tmp "$DEVICE_SITE"; do mkdir -p "$ROOTFS/$d"; done

# in_root CARRY_DIR RESULTS_DIR ARGS...: tools/gpu/run.sh ARGS in the bare root, in a private
# mount namespace (nothing is mounted outside it, and it all goes when the command ends).
in_root() {
  local carry=$1 results=$2; shift 2
  mkdir -p "$results"
  unshare -m --propagation private bash -c '
    set -e
    R=$1 SRC=$2 CARRY=$3 RESULTS=$4 SITE=$5 DEVICE_SITE=$6; shift 6
    mount --bind -o ro "$SRC" "$R/src"
    mount --bind -o ro "$CARRY" "$R/carry"
    mount --bind "$RESULTS" "$R/results"
    mount --bind -o ro "$SITE" "$R$DEVICE_SITE"
    mount -t proc proc "$R/proc"
    mount --rbind /dev "$R/dev"
    mount -t tmpfs tmpfs "$R/tmp"
    exec chroot "$R" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp OUT=/results \
      MUDIT_TORCH_ROOT="$DEVICE_SITE/torch" bash /src/tools/gpu/run.sh --carry /carry "$@"
  ' in_root "$ROOTFS" "$SRC" "$carry" "$results" "$SITE" "$DEVICE_SITE" "$@"
}

fails=0
check() {  # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi
}

# 1. The dry run passes in the bare root and reports what it ran.
set +e
in_root "$WORK/carry" "$WORK/dry" --dry-run --budget 400 2>&1 | tee "$WORK/dry.log"
status=${PIPESTATUS[0]}
set -e
check "the dry run exits 0 in the bare root (got $status)" test "$status" = 0
check "results.md names the dry run" grep -q 'dry run' "$WORK/dry/results.md"
check "gpu-tests.json records no failure" bash -c "! grep -Eq '\"failures\": [1-9]' '$WORK/dry/gpu-tests.json'"
check "the GPU tests skipped (no CUDA here)" grep -q '\[  SKIPPED \]' "$WORK/dry/gpu-tests.log"
for m in 'fp32 matmul' 'train tokens/s checkpointed (tiny)' 'train MFU (tiny)' \
         'end to end 10 s song (tiny)'; do
  check "bench.json has '$m'" grep -q "\"$m" "$WORK/dry/bench.json"
done
check "results.json lists both steps as passed" \
  grep -q '"name": "gpu-tests", "result": "passed".*"name": "bench", "result": "passed"' \
  "$WORK/dry/results.json"

# 2. A carry missing a library the bare root lacks is refused before anything runs.
cp -r "$WORK/carry" "$WORK/broken"
tar -C "$WORK/broken" -xzf "$WORK/broken/carry.tar.gz"
rm "$WORK/broken/lib/libsndfile.so.1" "$WORK/broken/carry.tar.gz"
tar -C "$WORK/broken" -czf "$WORK/broken/carry.tar.gz" bin lib tests stamp.txt
set +e
in_root "$WORK/broken" "$WORK/broken-out" --dry-run >"$WORK/broken.log" 2>&1
status=$?
set -e
check "a carry without libsndfile exits 3 (got $status)" test "$status" = 3
check "and names the library" grep -q 'cannot load: libsndfile.so.1' "$WORK/broken.log"

# 3. A carry built against another torch is refused, naming both versions.
mkdir -p "$WORK/other/files"
sed 's/^torch .*/torch 0.0.1+cu999/' "$WORK/carry/stamp.txt" >"$WORK/other/files/stamp.txt"
tar -C "$WORK/other/files" -czf "$WORK/other/carry.tar.gz" stamp.txt
set +e
in_root "$WORK/other" "$WORK/other-out" --dry-run >"$WORK/other.log" 2>&1
status=$?
set -e
have=$(sed -n 's/^torch //p' "$WORK/carry/stamp.txt")
check "a carry for another torch exits 3 (got $status)" test "$status" = 3
check "and names both versions" grep -q "torch 0.0.1+cu999, this machine has $have" "$WORK/other.log"

if [ "$fails" != 0 ]; then
  echo "rehearsal: $fails checks failed"
  for f in "$WORK"/dry/*.log; do echo "--- $(basename "$f") (end)"; tail -15 "$f"; done
  exit 1
fi
echo "rehearsal: all checks passed"
cat "$WORK/dry/results.md"
