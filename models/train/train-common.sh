# Sourced by train.sh and train_v2.sh (after `root` is set and with the script's arguments):
# checks Python, sorts the arguments into `smoke` and `args` (--data made absolute, as taken
# from where the script runs), makes $FORESIGHT_DATA absolute, and sets `py` and `work`.
py="${FORESIGHT_PYTHON:-/usr/bin/python3}"
if ! "$py" -c 'import torch, onnx' 2>/dev/null; then
  echo "train: $py cannot import torch and onnx; apt-get install -y --no-install-recommends python3-torch python3-onnx python3-numpy" >&2
  exit 2
fi
smoke=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1; args+=("$1"); shift ;;
    --data)
      [ $# -ge 2 ] || { echo "train: --data needs a directory" >&2; exit 2; }
      args+=(--data "$(realpath -m "$2")"); shift 2 ;;
    --data=*) args+=(--data "$(realpath -m "${1#--data=}")"); shift ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -n "${FORESIGHT_DATA:-}" ]; then
  FORESIGHT_DATA="$(realpath -m "$FORESIGHT_DATA")"
  export FORESIGHT_DATA
fi
work="${FORESIGHT_TRAIN_WORK:-$root/models/train/.work}"
mkdir -p "$work"
