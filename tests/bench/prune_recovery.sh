#!/bin/sh
# Prune a trained model at several ratios, recover each by distilling from the unpruned model, and report
# accuracy (ONNX Runtime, full test set) before and after recovery, then params / MACs / size / latency of every
# variant timed interleaved in one bench_prune run. Run by hand; results go into the notes.
#
#   tests/bench/prune_recovery.sh MODEL.onnx TRAIN_SPEC TEST_SPEC [WORK_DIR]
# Environment (defaults for an image model):
#   RATIOS="0.3 0.5 0.6 0.7 0.8"   channel ratios (one prune + recovery each)
#   EPOCHS=2 LR=0.02               recovery epochs and peak learning rate (SGD, cosine)
#   PRUNE_ARGS=""                  extra `edgetune-cli prune` options; the literal RATIO is replaced by the ratio
#                                  (e.g. for BERT: "--ratio 0 --per-layer heads:...=RATIO --round 1"; from a
#                                  sensitivity sweep: "--allocate latency=RATIO --sensitivity sens.json", where
#                                  RATIO is then the share of the original latency to keep)
#   RECOVER_ARGS="--augment --crop-padding 2 --batch 128"   extra `edgetune-cli recover` options
#   THREADS=2 RUNS=30 SEQ_LEN=128  training threads, interleaved timing rounds, token count for text models
#   EDGETUNE_CLI=build/bin/edgetune-cli  BENCH_PRUNE=build/bench/bench_prune
set -eu
set -f  # dataset specs contain '?' and '&'
[ $# -ge 3 ] || { sed -n '2,16p' "$0" >&2; exit 2; }
MODEL=$1 TRAIN=$2 TEST=$3
WORK=${4:-$(mktemp -d /tmp/edgetune-prune-recovery.XXXXXX)}
CLI=${EDGETUNE_CLI:-build/bin/edgetune-cli}
BENCH=${BENCH_PRUNE:-build/bench/bench_prune}
RATIOS=${RATIOS:-0.3 0.5 0.6 0.7 0.8}
EPOCHS=${EPOCHS:-2} LR=${LR:-0.02} THREADS=${THREADS:-2} RUNS=${RUNS:-30} SEQ_LEN=${SEQ_LEN:-128}
PRUNE_ARGS=${PRUNE_ARGS:-}
RECOVER_ARGS=${RECOVER_ARGS:---augment --crop-padding 2 --batch 128}
export OMP_WAIT_POLICY=passive
mkdir -p "$WORK"

top1() {  # accuracy in % of an ONNX model on TEST, measured in ONNX Runtime
  "$CLI" --json -q eval "$1" --data "$TEST" | /usr/bin/env python3 -c 'import json,sys; print("%.2f" % (100*json.load(sys.stdin)["top1"]))'
}

base=$(top1 "$MODEL")
echo "original: top-1 $base%" | tee "$WORK/accuracy.txt"
variants=""
for r in $RATIOS; do
  args=$(echo "$PRUNE_ARGS" | sed "s/RATIO/$r/g")
  [ -n "$args" ] || args="--ratio $r"
  # shellcheck disable=SC2086  # word splitting of the option lists is intended
  "$CLI" -q prune "$MODEL" -o "$WORK/pruned_$r.onnx" --method channels $args --report "$WORK/pruned_$r.json" \
    > "$WORK/prune_$r.txt"
  before=$(top1 "$WORK/pruned_$r.onnx")
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$CLI" -q recover "$WORK/pruned_$r.onnx" --teacher "$MODEL" --data "$TRAIN" --epochs "$EPOCHS" --lr "$LR" \
    --threads "$THREADS" --no-masks $RECOVER_ARGS -o "$WORK/recovered_$r.onnx" \
    --checkpoint "$WORK/ckpt_$r" --resume > "$WORK/recover_$r.log" 2>&1
  after=$(top1 "$WORK/recovered_$r.onnx")
  echo "ratio $r: top-1 $before% after pruning, $after% after $EPOCHS recovery epochs ($(( $(date +%s) - start )) s)" |
    tee -a "$WORK/accuracy.txt"
  variants="$variants --variant ratio_$r=$WORK/recovered_$r.onnx"
done
# shellcheck disable=SC2086
"$BENCH" --model "$MODEL" $variants --runs "$RUNS" --seq-len "$SEQ_LEN" | tee "$WORK/latency.txt"
echo "results in $WORK"
