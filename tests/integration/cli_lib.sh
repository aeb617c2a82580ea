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
