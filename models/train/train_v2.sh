#!/usr/bin/env bash
# npm run train [-- --smoke] [-- --data DIR] [-- extra flags for foresight_tft2.train]
# Trains and exports the shipped model, Foresight TFT v2 (one pass per server, seasonal lags, a week
# of hourly context), into models/foresight-tft (FORESIGHT_TRAIN_OUT overrides): generates the
# simulator's training history (deterministic), adds the synthetic failure shapes, trains with
# Debian's Python (python3-torch 1.13, CPU) and exports. Reproducible: fixed seeds; the schedule
# anneals within --max-minutes (default 70), so a slower machine takes fewer steps.
# The public real traces (docs/model.md, "Training data") are read from --data DIR, else
# $FORESIGHT_DATA, else shared/data in the folder that holds the checkout; a relative path is
# taken from where this runs (the repository root under npm).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=train-common.sh
source "$root/models/train/train-common.sh"
if [ "$smoke" = 1 ]; then
  out="${FORESIGHT_TRAIN_OUT:-$work/smoke-v2}"
else
  out="${FORESIGHT_TRAIN_OUT:-$root/models/foresight-tft}"
fi
# shellcheck source=simulator-args.sh
source "$root/models/train/simulator-args.sh"
csv="$work/simulator-$smoke.csv"
[ -f "$csv" ] || node "$root/sidecar/dist/main.js" simulate history --format csv "${sim_args[@]}" --out "$csv"
out="$(realpath -m "$out")"  # a relative FORESIGHT_TRAIN_OUT means relative to where it was run, not to models/train
cd "$root/models/train"
OPENBLAS_NUM_THREADS=1 exec "$py" -m foresight_tft2.train --out "$out" --simulator-csv "$csv" --simulator-args "${sim_args[*]}" ${args[@]+"${args[@]}"}
