#!/usr/bin/env bash
# Fast-training evaluation of issue 5: Kendall tau of the proxies at initialisation and after a few
# SGD steps, per budget, and DAS recalibrated on the fast-trained scores. One scoring run per space
# (--ft-checkpoints records the smaller budgets); the read-outs reuse the saved scores.
# Usage: scripts/fast-train-eval.sh [OUT_DIR] [DATA_DIR]   (hours of CPU time on a 2-core machine)
set -euo pipefail
OUT=${1:-fast-train-eval}
D=${2:-../shared/data}
mkdir -p "$OUT"
das() { node gpu-worker/dist/cli/main.js "$@"; }

run() { # space truth target limit steps checkpoints [size flags...]
  local space=$1 truth=$2 target=$3 limit=$4 steps=$5 ckpt=$6; shift 6
  local flags=(--space "$space" --truth "$D/$truth" --target "$target" --limit "$limit" --fast-train "$steps"
    --ft-checkpoints "$ckpt" --ft-batch-size 32 --data-dir "$D" "$@")
  local saved="$OUT/$space-$steps.jsonl"
  das eval "${flags[@]}" --scores-out "$saved" --json > "$OUT/$space-$steps-at-$steps.json"
  for s in ${ckpt//,/ }; do
    das eval "${flags[@]}" --scores-in "$saved" --at-step "$s" --json --quiet > "$OUT/$space-$steps-at-$s.json"
  done
  for s in 0 ${ckpt//,/ } "$steps"; do
    das calibrate "${flags[@]}" --scores-in "$saved" --at-step "$s" --json --quiet > "$OUT/$space-$steps-calibrate-at-$s.json"
  done
}

run nb201 nb201/accuracy-dev.csv cifar10_test_acc 200 50 10
run nb101 nb101/accuracy-dev.csv cifar10_val_acc 100 50 10 --width 32 --depth 1
run darts nb301/accuracy-dev.csv cifar10_val_acc 60 10 5 --width 16 --depth 5
run nb201 nb201/accuracy-dev.csv cifar10_test_acc 60 200 10,50
run darts nb301/accuracy-dev.csv cifar10_val_acc 60 50 10 --width 16 --depth 5
run nb101 nb101/accuracy-dev.csv cifar10_val_acc 100 200 10,50 --width 32 --depth 1
run darts nb301/accuracy-dev.csv cifar10_val_acc 60 200 10,50 --width 16 --depth 5
