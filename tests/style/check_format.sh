#!/usr/bin/env bash
# Fails when a tracked C++ file differs from what .clang-format says, and names every such file with the first
# lines of its diff. Skipped (exit 77) when the tree is not a git checkout or clang-format is missing, so a build
# from a source archive still runs the other tests.
set -uo pipefail
source_dir="${1:?usage: check_format.sh SOURCE_DIR}"
cd "$source_dir" || exit 2
clang_format="${CLANG_FORMAT:-clang-format}"
if ! command -v "$clang_format" >/dev/null 2>&1; then
  echo "SKIP: $clang_format not found (installer/install-deps.sh installs it)"
  exit 77
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "SKIP: $source_dir is not a git checkout; the check formats the tracked files"
  exit 77
fi
unformatted=0
while IFS= read -r -d '' file; do
  [[ -f "$file" ]] || continue  # deleted in the working tree, not yet committed
  if ! diff_text=$("$clang_format" --style=file "$file" | diff -u "$file" - 2>&1); then
    unformatted=$((unformatted + 1))
    echo "not clang-format clean: $file"
    echo "$diff_text" | head -n 20
  fi
done < <(git ls-files -z -- '*.cpp' '*.h' ':!:third_party/**')
if ((unformatted > 0)); then
  echo "$unformatted file(s) differ from .clang-format; fix with: clang-format -i FILE"
  exit 1
fi
echo "all tracked C++ files are clang-format clean"
