#!/usr/bin/env bash
# Overhead of `edgetune-cli run` over the same steps as separate commands (issue 13: <= 5% of wall time).
# Both sides: channel pruning 0.5 (rounded to 8), static INT8 on 512 calibration images, export (clean-up with
# BatchNorm folded), on the bundled ResNet-18, no report. Timed interleaved, ROUNDS rounds (default 5), run with
# --no-cache so every round does the work; prints the median of each side and their ratio.
#   tests/bench/pipeline_overhead.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
CLI=${CLI:-build/bin/edgetune-cli}
ROUNDS=${1:-5}
MODEL=resources/models/resnet18_fmnist.onnx
CALIB="fashion-mnist:train?subset=train&val=0.1&test=0&seed=0&limit=512"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/chain.yaml" <<RECIPE
format: edgetune-recipe
version: 2
name: overhead
model: $PWD/$MODEL
datasets: {calibration: "$CALIB"}
steps:
  - prune: {method: channels, ratio: 0.5, round_to: 8}
  - quantize: {mode: static, samples: 512, calibration: minmax}
  - export: {file: model.onnx}
RECIPE
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}
separate() {
  "$CLI" -q prune "$MODEL" -o "$WORK/p.onnx" --method channels --ratio 0.5 --round 8 &&
    "$CLI" -q quantize "$WORK/p.onnx" -o "$WORK/q.onnx" --mode static --data "$CALIB" --samples 512 \
      --calibration minmax &&
    "$CLI" -q clean "$WORK/q.onnx" -o "$WORK/e.onnx"
}
pipeline() { "$CLI" -q run "$WORK/chain.yaml" -o "$WORK/run" --no-cache --no-report; }
separate_s=() pipeline_s=()
for ((r = 1; r <= ROUNDS; r++)); do
  separate_s+=("$(seconds separate)")
  pipeline_s+=("$(seconds pipeline)")
  echo "round $r: separate ${separate_s[-1]} s, run ${pipeline_s[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ms=$(median "${separate_s[@]}")
mp=$(median "${pipeline_s[@]}")
echo "median: separate commands $ms s, edgetune-cli run $mp s, run / separate = $(awk -v a="$mp" -v b="$ms" 'BEGIN { printf "%.3f", a / b }')"
