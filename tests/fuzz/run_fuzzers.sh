#!/usr/bin/env bash
# Runs every libFuzzer target of the sanitize build (cmake --preset sanitize && cmake --build --preset
# sanitize) for SECONDS_PER_TARGET seconds, one after the other, each on a copy of its committed corpus
# (tests/fuzz/corpus/<target>/ is only read), and prints per target the executions and the coverage reached.
# Exits 1 if any target left a crash, leak, timeout or out-of-memory artifact (or died otherwise); the
# artifacts and logs of a failed run are kept and their paths printed.
#
# Usage: tests/fuzz/run_fuzzers.sh SECONDS_PER_TARGET [TARGET...]     (TARGET: onnx_model, recipe, ...)
#   EDGETUNE_FUZZ_BUILD  build folder holding fuzz/fuzz_<target> (default: build-sanitize beside the sources)
#   EDGETUNE_FUZZ_WORK   folder for the grown corpora, artifacts and logs; kept, and reused by the next run
#                        (default: a temporary folder, removed after a clean run)
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fuzz_src="$src/tests/fuzz"
build=${EDGETUNE_FUZZ_BUILD:-$src/build-sanitize}

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ]; then
  echo "usage: $0 SECONDS_PER_TARGET [TARGET...]" >&2
  exit 2
fi
seconds=$1
shift
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for dir in "$fuzz_src"/corpus/*/; do targets+=("$(basename "$dir")"); done
fi

if [ -n "${EDGETUNE_FUZZ_WORK:-}" ]; then
  work=$EDGETUNE_FUZZ_WORK
  keep_work=1
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/edgetune-fuzz-run.XXXXXX")
  keep_work=0
fi
mkdir -p "$work"

# Inputs larger than a few seeds are slow under ASan and add little: the largest seed sets the floor.
max_len_of() {
  case $1 in
    onnx_model | tflite_export | image_header | cifar10) echo 16384 ;;
    *) echo 4096 ;;
  esac
}
# A target without a dictionary of its own shares one whose tokens fit it.
dict_of() {
  case $1 in
    tflite_export) echo "$fuzz_src/dicts/onnx_model.dict" ;;
    *) echo "$fuzz_src/dicts/$1.dict" ;;
  esac
}

# Any sanitizer report ends the input with an artifact; leaks only count in EdgeTune's own code.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:print_stacktrace=1:check_initialization_order=1:strict_string_checks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:report_error_type=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$src/tests/sanitizers/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

failed=0
printf '%-14s %8s %12s %8s %8s %8s  %s\n' target seconds executions cov ft corpus result
for target in "${targets[@]}"; do
  binary="$build/fuzz/fuzz_$target"
  if [ ! -x "$binary" ] || [ ! -d "$fuzz_src/corpus/$target" ]; then
    echo "run_fuzzers.sh: no $binary or no corpus/$target (build the sanitize preset first)" >&2
    failed=1
    continue
  fi
  dir="$work/$target"
  mkdir -p "$dir/corpus" "$dir/artifacts" "$dir/tmp"
  cp -n "$fuzz_src/corpus/$target"/* "$dir/corpus/" 2>/dev/null || true
  args=(-max_total_time="$seconds" -max_len="$(max_len_of "$target")" -timeout=30 -rss_limit_mb=3072
        -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
  dict=$(dict_of "$target")
  [ -f "$dict" ] && args+=(-dict="$dict")
  log="$dir/fuzz.log"
  start=$(date +%s)
  status=0
  # The targets' scratch folders go to $dir/tmp, so a crash leaves nothing behind in /tmp.
  TMPDIR="$dir/tmp" "$binary" "${args[@]}" "$dir/corpus" >"$log" 2>&1 || status=$?
  elapsed=$(($(date +%s) - start))
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  final=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$final")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$final")
  corpus=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$final")
  findings=$(find "$dir/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | sort)
  result=ok
  if [ -n "$findings" ] || [ "$status" -ne 0 ]; then
    result="FAILED (exit $status)"
    failed=1
  fi
  printf '%-14s %8s %12s %8s %8s %8s  %s\n' "$target" "$elapsed" "${executions:-?}" "${cov:-?}" "${ft:-?}" \
    "${corpus:-?}" "$result"
  if [ "$result" != ok ]; then
    echo "  log: $log"
    for f in $findings; do echo "  artifact: $f"; done
    grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error:|fuzz invariant broken|fuzz: an Error|terminate called)' \
      "$log" | sed 's/^/  /' || true
  fi
  rm -rf "$dir/tmp"
done

if [ "$failed" -ne 0 ]; then
  echo "run_fuzzers.sh: findings; reproduce one with: $build/fuzz/fuzz_TARGET ARTIFACT (work folder: $work)" >&2
  exit 1
fi
[ "$keep_work" -eq 1 ] || rm -rf "$work"
