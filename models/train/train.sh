#!/usr/bin/env bash
# npm run train [-- --smoke] [-- extra flags for foresight_tft.train]
# Generates the simulator's training history, then trains and exports the TFT with Debian's
# Python (python3-torch 1.13, CPU). Reproducible: fixed seeds for the simulator and training.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
py="${FORESIGHT_PYTHON:-/usr/bin/python3}"
if ! "$py" -c 'import torch, onnx' 2>/dev/null; then
  echo "train: $py cannot import torch and onnx; apt-get install -y --no-install-recommends python3-torch python3-onnx python3-numpy" >&2
  exit 2
fi
smoke=0
for a in "$@"; do [ "$a" = "--smoke" ] && smoke=1; done
work="${FORESIGHT_TRAIN_WORK:-$root/models/train/.work}"
mkdir -p "$work"
if [ "$smoke" = 1 ]; then
  out="${FORESIGHT_TRAIN_OUT:-$work/smoke}"
else
  out="${FORESIGHT_TRAIN_OUT:-$root/models/foresight-tft}"
fi
# shellcheck source=simulator-args.sh
source "$root/models/train/simulator-args.sh"
csv="$work/simulator-$smoke.csv"
node "$root/sidecar/dist/main.js" simulate history --format csv "${sim_args[@]}" --out "$csv"
out="$(realpath -m "$out")"  # a relative FORESIGHT_TRAIN_OUT means relative to where it was run, not to models/train
cd "$root/models/train"
OPENBLAS_NUM_THREADS=1 exec "$py" -m foresight_tft.train --out "$out" --simulator-csv "$csv" --simulator-args "${sim_args[*]}" "$@"
