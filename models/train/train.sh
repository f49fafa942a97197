#!/usr/bin/env bash
# npm run train:v1 [-- --smoke] [-- --data DIR] [-- extra flags for foresight_tft.train]
# The previous model (contract version 1, one forward pass per series), kept to compare against and
# for deployments that pin it; exports into models/foresight-tft-v1 (FORESIGHT_TRAIN_OUT overrides).
# Generates the simulator's training history, then trains and exports the TFT with Debian's
# Python (python3-torch 1.13, CPU). Reproducible: fixed seeds for the simulator and training.
# The public real traces (docs/model.md, "Training data") are read from --data DIR, else
# $FORESIGHT_DATA, else shared/data in the folder that holds the checkout; a relative path is
# taken from where this runs (the repository root under npm).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=train-common.sh
source "$root/models/train/train-common.sh"
if [ "$smoke" = 1 ]; then
  out="${FORESIGHT_TRAIN_OUT:-$work/smoke}"
else
  out="${FORESIGHT_TRAIN_OUT:-$root/models/foresight-tft-v1}"
fi
# shellcheck source=simulator-args.sh
source "$root/models/train/simulator-args.sh"
csv="$work/simulator-$smoke.csv"
node "$root/sidecar/dist/main.js" simulate history --format csv "${sim_args[@]}" --out "$csv"
out="$(realpath -m "$out")"  # a relative FORESIGHT_TRAIN_OUT means relative to where it was run, not to models/train
cd "$root/models/train"
OPENBLAS_NUM_THREADS=1 exec "$py" -m foresight_tft.train --out "$out" --simulator-csv "$csv" --simulator-args "${sim_args[*]}" ${args[@]+"${args[@]}"}
