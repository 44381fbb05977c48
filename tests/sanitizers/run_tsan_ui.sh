#!/bin/sh
# The studio's UI tests (ctest -L ui) under ThreadSanitizer, in a second build tree (default: build-tsan
# beside the sources; EDGETUNE_TSAN_BUILD overrides). Not part of the default ctest run: it compiles core,
# the pipeline, ui and the UI tests a second time with instrumentation, and instrumented code runs several
# times slower, so it is run by hand (nice 19, beside other work).
# Only what the UI tests need is built (the tests, and the device runner the deploy tests upload). A report
# that lies entirely inside the uninstrumented ONNX Runtime or Qt libraries may be suppressed in tsan.supp
# beside this script (each entry with its reason); anything in EdgeTune's own code fails the run.
# EDGETUNE_TSAN_TRAINING=OFF builds without libtorch (the training dock's jobs are then not exercised).
# Usage: tests/sanitizers/run_tsan_ui.sh [extra ctest arguments, e.g. -R test_ui_views]
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${EDGETUNE_TSAN_BUILD:-$src/build-tsan}
flags="-fsanitize=thread -fno-omit-frame-pointer"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread \
  -DCMAKE_MODULE_LINKER_FLAGS=-fsanitize=thread -DEDGETUNE_BUILD_TRAINING="${EDGETUNE_TSAN_TRAINING:-ON}"
targets=$(cd "$build" && ctest -N -L ui | sed -n 's/^ *Test *#[0-9]*: //p')
[ -n "$targets" ] || { echo "run_tsan_ui.sh: no UI tests configured in $build" >&2; exit 1; }
# shellcheck disable=SC2086  # one target per word
nice -n 19 cmake --build "$build" --target edgetune-runner $targets
# halt_on_error=0: one run lists every race; exitcode=66 makes a test with any report fail.
options="halt_on_error=0 exitcode=66 second_deadlock_stack=1 history_size=4"
supp="$src/tests/sanitizers/tsan.supp"
[ -f "$supp" ] && options="suppressions=$supp $options"
TSAN_OPTIONS="$options ${TSAN_OPTIONS:-}" ctest --test-dir "$build" -L ui --output-on-failure "$@"
