#!/usr/bin/env bash
# Prints the packages of tools/deps/debian.txt that have one of the given roles, one a line.
#
#   tools/deps/list.sh ROLE...     (toolchain, tool, build, run, extra)
set -euo pipefail
LIST="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/debian.txt"
for a in "$@"; do
  case "$a" in
    toolchain|tool|build|run|extra) ;;
    *) echo "deps/list: unknown role '$a' (toolchain, tool, build, run, extra)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "deps/list: name at least one role" >&2; exit 2; }
awk -v roles=" $* " '
  /^[[:space:]]*(#|$)/ { next }
  NF != 2 { print "deps/list: bad line " NR ": " $0 > "/dev/stderr"; bad = 1; next }
  index(roles, " " $2 " ") > 0 { print $1 }
  END { exit bad }' "$LIST"
