#!/usr/bin/env bash
# The main example, on data podm makes itself: check every example model, make a synthetic image,
# blur it and add noise, restore it with PODM (examples/deblur_podm.podm), and plot the
# per-stage convergence as in the paper's Fig. 2. Everything lands in out/.
set -euo pipefail
cd "$(dirname "$0")/.."
podm=build/cli/podm
mkdir -p out

"$podm" check examples/*.podm >/dev/null
echo "podm: all $(ls examples/*.podm | wc -l) example models check"
"$podm" degrade --synthetic scene --size 256x256 -o out/gt.png
"$podm" degrade out/gt.png --blur gaussian:9:2 --noise 2 --seed 1 \
  -o out/blurred.png --kernel-out out/kernel.txt
"$podm" run examples/deblur_podm.podm --input o=out/blurred.png --input k=out/kernel.txt \
  --input ref=out/gt.png -o out/restored.png --trace out/trace.csv
"$podm" plot out/trace.csv -o out/convergence.png --labels podm
