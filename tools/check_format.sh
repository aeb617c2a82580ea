#!/usr/bin/env bash
# Fails when a C++ source differs from .clang-format; prints the files and how to fix them.
set -u
CLANG_FORMAT=${1:-clang-format}
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.h' '*.cpp' 2>/dev/null |
  grep -v '^third_party/' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
bad=()
for f in "${files[@]}"; do
  if ! "$CLANG_FORMAT" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
done
if [ ${#bad[@]} -ne 0 ]; then
  echo "not formatted (${#bad[@]} of ${#files[@]} files):"; printf '  %s\n' "${bad[@]}"
  echo "fix with: $CLANG_FORMAT -i ${bad[*]}"
  exit 1
fi
echo "${#files[@]} files formatted"
