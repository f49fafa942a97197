#!/usr/bin/env bash
# npm run eval [-- flags for `foresight eval`]: regenerates the simulator history the model was
# trained with when it is not here (it is deterministic), then runs the evaluation, which writes
# models/foresight-tft/EVAL.md. Real traces: --data DIR or $FORESIGHT_DATA (default: the
# training scripts' default). Takes about ten minutes on 2 cores; run it with nice.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${FORESIGHT_TRAIN_WORK:-$root/models/train/.work}"
smoke=0
# shellcheck source=simulator-args.sh
source "$root/models/train/simulator-args.sh"
csv="$work/simulator-0.csv"
if [ ! -f "$csv" ]; then
  mkdir -p "$work"
  node "$root/sidecar/dist/main.js" simulate history --format csv "${sim_args[@]}" --out "$csv"
fi
exec node "$root/sidecar/dist/main.js" eval --simulator-csv "$csv" "$@"
