# Helpers of the CLI test scripts (sourced): each needs $work (a scratch folder) and counts
# problems in $failures.

check() {  # check NAME EXPECTED_STATUS COMMAND... ; stdout / stderr kept in $work/out, $work/err
  local name=$1 want=$2
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL $name: exit $got, wanted $want"; sed 's/^/  stderr: /' "$work/err" | tail -5
    failures=$((failures + 1))
    return 1
  fi
  echo "ok   $name"
}
expect_in() {  # expect_in NAME FILE TEXT
  if ! grep -qF -- "$3" "$2"; then
    echo "FAIL $1: '$3' not in $(basename "$2")"; sed 's/^/  | /' "$2" | head -8
    failures=$((failures + 1))
  fi
}
one_line_error() {  # one_line_error NAME: stderr is one "mudit ...: error: ..." line
  local n
  n=$(grep -c . "$work/err")
  if [ "$n" != 1 ] || ! grep -q "error: " "$work/err"; then
    echo "FAIL $1: stderr is not one error line"; cat "$work/err"; failures=$((failures + 1))
  fi
}
absent() {  # absent NAME FILE: nothing was left behind
  if [ -e "$2" ]; then echo "FAIL $1: $2 was left behind"; failures=$((failures + 1)); fi
}
need_soundfont() {  # exits 77 (skip) without the General MIDI soundfont the corpus is rendered with
  if [ ! -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ]; then
    echo "skip: no General MIDI soundfont for the synthetic corpus"; exit 77
  fi
}
corpus_and_chinmu() {  # corpus_and_chinmu SONGS SEED: $work/corpus (manifest $M), $work/chinmu
  # A few-step tiny ChinMu on a small synthetic corpus; needs $MUDIT and $CONFIGS. Exits 77
  # (skip) without the General MIDI soundfont.
  need_soundfont
  check synth 0 "$MUDIT" synth --out "$work/corpus" --songs "$1" --seconds 6 --seed "$2" \
    --log-level warn --set 'synth.soundfonts=[/usr/share/sounds/sf2/FluidR3_GM.sf2]'
  M="$work/corpus/manifest.jsonl"
  check chinmu-train 0 "$MUDIT" train --config "$CONFIGS/chinmu/tiny.yaml" --run-dir "$work/chinmu" \
    --steps 2 --set "data.manifest='$M'" --set "data.valid_manifest='$M'" \
    --set train.batch_size=4 --set train.validate_every=0 --log-level warn
}
