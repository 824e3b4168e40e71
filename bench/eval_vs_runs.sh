#!/usr/bin/env bash
# `podm eval` against the shell loop it replaces, in one run: for every image of a folder,
# `podm degrade --bicubic S --gt-out` then `podm run --ref` (a process each, the model parsed,
# the networks loaded and the FFTs planned anew), against one `podm eval` over the folder.
# Prints both per-image PSNRs (they must agree) and the wall times with their ratio.
#   bench/eval_vs_runs.sh [MODEL] [GT_DIR] [SCALE] [WEIGHTS_DIR]
# Defaults: examples/sr_lp.podm on ../shared/data/testsets/Set5 at x4 with the authors' nets.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-examples/sr_lp.podm}
gt=${2:-../shared/data/testsets/Set5}
scale=${3:-4}
weights=${4:-../shared/data/podm-official/model}
podm=build/cli/podm
[ -d "$gt" ] || { echo "eval_vs_runs: $gt not found (../shared/data); skipped"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The model's net paths are "nets/netN.hdf5": give the folder that holds nets/.
ln -s "$(realpath "$weights")" "$work/nets"

start=$(date +%s.%N)
for f in "$gt"/*; do
  name=$(basename "$f")
  "$podm" degrade "$f" --bicubic "$scale" --gt-out "$work/gt.png" -o "$work/o.png" >/dev/null
  psnr=$("$podm" run "$model" --input o="$work/o.png" --ref "$work/gt.png" -o "$work/x.png" \
    --weights-dir "$work" 2>/dev/null | sed -n 's/.*PSNR \([0-9.]*\) dB.*/\1/p')
  echo "run  $name $psnr"
done
mid=$(date +%s.%N)
"$podm" eval "$model" --gt "$gt" --bicubic "$scale" --weights-dir "$work" 2>/dev/null |
  sed -n 's/^\[[0-9]*\/[0-9]*\] \(.*\): PSNR \([0-9.]*\) dB.*/eval \1 \2/p'
end=$(date +%s.%N)
awk -v a="$start" -v b="$mid" -v c="$end" 'BEGIN {
  printf "separate podm degrade + podm run: %.1f s; podm eval: %.1f s; ratio %.2f\n",
         b - a, c - b, (b - a) / (c - b) }'
