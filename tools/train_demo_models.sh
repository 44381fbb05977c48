#!/bin/sh
# Reproduces every demo model under resources/models with edgetune-cli (train, distill), on this machine's data:
# Fashion-MNIST from Debian's dataset-fashion-mnist, SpamAssassin from third_party/datasets/spam-assassin.
#   tools/train_demo_models.sh [all|resnet20|resnet18|bert|students-image|students-text]
# EDGETUNE_CLI overrides the binary (default build/bin/edgetune-cli). Every run checkpoints each epoch under
# $CKPT (default /tmp/edgetune-train-ckpt) and resumes from there when re-run after an interruption.
# Hours of CPU on a 2-core machine: run it in the background, e.g. nohup tools/train_demo_models.sh all > train.log &
set -eu
set -f  # dataset specs contain '?' and '&'
cd "$(dirname "$0")/.."
CLI=${EDGETUNE_CLI:-build/bin/edgetune-cli}
CKPT=${CKPT:-/tmp/edgetune-train-ckpt}
# OpenMP spin-waiting collapses libtorch's throughput when the cores are shared: let idle threads sleep.
export OMP_WAIT_POLICY=passive
M=resources/models
FM_TRAIN="fashion-mnist:train?subset=train&val=0.1&test=0&seed=0"
FM_VAL="fashion-mnist:train?subset=val&val=0.1&test=0&seed=0"
# mail=body: Subject, From and the body; the Received: chains would fill the 128 tokens otherwise.
SPAM="spamassassin:third_party/datasets/spam-assassin?vocab=$M/bert_spam_vocab.txt&mail=body&seq_len=128&val=0.1&test=0.2&seed=0"
IMG_SGD="--optimizer sgd --lr 0.1 --momentum 0.9 --schedule cosine --warmup 1 --wd 5e-4 --augment --crop-padding 2 --seed 0 --threads 2"
TXT_ADAMW="--batch 32 --optimizer adamw --lr 4e-4 --schedule cosine --warmup 0.3 --wd 0.01 --seed 0 --threads 1"

resnet20() {
  "$CLI" train "zoo:resnet20?input_channels=1&image_size=28&classes=10&seed=0" \
    --data "$FM_TRAIN" --val "$FM_VAL" --test fashion-mnist -o $M/resnet20_fmnist.onnx \
    --epochs 15 --batch 128 $IMG_SGD --checkpoint "$CKPT/resnet20" --resume
}
resnet18() {
  "$CLI" train "zoo:resnet18?input_channels=1&image_size=28&classes=10&seed=0" \
    --data "$FM_TRAIN" --val "$FM_VAL" --test fashion-mnist -o $M/resnet18_fmnist.onnx \
    --epochs 6 --batch 128 $IMG_SGD --checkpoint "$CKPT/resnet18" --resume
}
bert() {
  # The vocabulary is built from the training subset only (--build-vocab writes the file the spec's vocab= names).
  "$CLI" train "zoo:bert?vocab_size=8000&hidden=256&layers=4&heads=4&seq_len=128&max_positions=128&classes=2&seed=0" \
    --data "$SPAM&subset=train" --build-vocab 8000 --val "$SPAM&subset=val" --test "$SPAM&subset=test" \
    -o $M/bert_spam.onnx --epochs 3 $TXT_ADAMW --checkpoint "$CKPT/bert" --resume
}
students_image() {
  # Same student, seed and epochs, with and without the ResNet-20 teacher.
  S="zoo:resnet8?input_channels=1&image_size=28&classes=10&seed=0"
  "$CLI" distill "$S" --teacher $M/resnet20_fmnist.onnx --temperature 4 --alpha 0.9 \
    --data "$FM_TRAIN" --val "$FM_VAL" --test fashion-mnist -o $M/resnet8_fmnist_distilled.onnx \
    --epochs 8 --batch 128 $IMG_SGD --checkpoint "$CKPT/r8_kd" --resume
  "$CLI" train "$S" \
    --data "$FM_TRAIN" --val "$FM_VAL" --test fashion-mnist -o $M/resnet8_fmnist_baseline.onnx \
    --epochs 8 --batch 128 $IMG_SGD --checkpoint "$CKPT/r8_base" --resume
}
students_text() {
  S="zoo:bert?vocab_size=8000&hidden=256&layers=1&heads=4&seq_len=128&max_positions=128&classes=2&seed=0"
  "$CLI" distill "$S" --teacher $M/bert_spam.onnx --temperature 4 --alpha 0.9 \
    --data "$SPAM&subset=train" --val "$SPAM&subset=val" --test "$SPAM&subset=test" \
    -o $M/bert1_spam_distilled.onnx --epochs 3 $TXT_ADAMW --checkpoint "$CKPT/bert1_kd" --resume
  "$CLI" train "$S" \
    --data "$SPAM&subset=train" --val "$SPAM&subset=val" --test "$SPAM&subset=test" \
    -o $M/bert1_spam_baseline.onnx --epochs 3 $TXT_ADAMW --checkpoint "$CKPT/bert1_base" --resume
}

case "${1:-all}" in
  resnet20) resnet20 ;;
  resnet18) resnet18 ;;
  bert) bert ;;
  students-image) students_image ;;
  students-text) students_text ;;
  all) resnet20; bert; students_image; students_text; resnet18 ;;
  *) echo "usage: $0 [all|resnet20|resnet18|bert|students-image|students-text]" >&2; exit 2 ;;
esac
