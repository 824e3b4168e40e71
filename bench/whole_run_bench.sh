#!/usr/bin/env bash
# A network-driven run as a whole against its parts measured in isolation, in one run: the
# PODM ×4 super-resolution of `baby` (examples/sr_lp.podm, the authors' 25 denoisers, 512²
# output, 30 stages) by `podm run --profile` in fp32 and bf16, next to the 7-layer network
# (podm_bench_nn) and the DCT (podm_bench_kernels) benchmarked alone at 512². A gap between a
# node's in-run time and its benchmark, or between the process and the sum of its parts, shows
# as a ratio (docs/performance.md, "A whole network-driven run"). Then the RPODM deblurring of
# one Levin image (examples/deblur_rpodm.podm, 10 stages, the shipped network): the process
# against the sum of its nodes and its set-up.
#   bench/whole_run_bench.sh [DATA]   (default ../shared/data; needs podm-official/)
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${1:-../shared/data}")
podm=$(realpath build/cli/podm)
model=$(realpath examples/sr_lp.podm)
[ -d "$data/podm-official/model" ] || { echo "whole_run_bench: $data/podm-official missing" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

net_ms=$(build/bench/podm_bench_nn 512 | awk '/512²/ { print $5 }')
dct_ms=$(build/bench/podm_bench_kernels --sizes 512 --no-sweep | awk '/^dct2 orthonormal/ { print $(NF-2) }')
cd "$work"
mkdir w && ln -s "$data/podm-official/model" w/nets
"$podm" degrade "$data/podm-official/baby_GT.bmp" --bicubic 4 -o o.tif >/dev/null
for precision in fp32 bf16; do
  /usr/bin/time -f "%e %M" -o time.txt "$podm" run "$model" --input o=o.tif --weights-dir w \
    --ref "$data/podm-official/baby_GT.bmp" -o x.png --profile --precision "$precision" \
    >ref.txt 2>profile.txt
  read -r wall peak <time.txt
  awk -v p="$precision" -v wall="$wall" -v peak="$peak" -v net="$net_ms" -v dct="$dct_ms" '
    /network "/ { netRun = $5 / 1000; calls = $3; netSum = $1 }
    /^ *[0-9.]+ +[0-9.]+% / && !/total/ && !/network "/ { others += $1 }
    / dct2$/ || / dct2 "/ { dctSum += $1; dctCalls += $3 }
    /^set-up before stage 1:/ { setup = $5 }
    /^stage loop:/ { loop = $3 }
    END {
      printf "%s: process %.2f s (set-up %.0f ms, stage loop %.0f ms), peak %.0f MB\n",
             p, wall, setup, loop, peak / 1024
      printf "  network per call %.1f ms in the run vs %.1f ms alone (fp32 benchmark): %.2fx\n",
             netRun, net, netRun / net
      printf "  dct2 per call %.2f ms in the run vs %.2f ms alone: %.2fx\n",
             dctSum / dctCalls, dct, dctSum / dctCalls / dct
      printf "  process vs %d network calls at the benchmark: %.2fx\n", calls, wall * 1000 / (calls * net)
      printf "  beyond the network calls: %.0f ms (set-up %.0f ms, other nodes %.0f ms, the rest %.0f ms)\n",
             wall * 1000 - netSum, setup, others, wall * 1000 - netSum - setup - others
    }' profile.txt
  sed 's/^/  /' ref.txt
done

# RPODM on Levin im1 with kernel 1 (periodic blur, sigma 2.55/255, as docs/training.md scores it).
"$podm" degrade "$data/levin/gt/im1.png" --kernel "$data/levin/kernels/kernel1.txt" --noise 2.55 \
  --seed 1 -o lo.png >/dev/null
/usr/bin/time -f "%e %M" -o time.txt "$podm" run "$(dirname "$model")/deblur_rpodm.podm" \
  --input o=lo.png --input k="$data/levin/kernels/kernel1.txt" --ref "$data/levin/gt/im1.png" \
  -o x.png --profile >ref.txt 2>profile.txt
read -r wall peak <time.txt
awk -v wall="$wall" -v peak="$peak" '
  /^ *[0-9.]+ +[0-9.]+% / && !/total/ { nodes += $1 }
  /^set-up before stage 1:/ { setup = $5 }
  /network "/ { net = $1 }
  END {
    printf "rpodm (Levin im1, kernel 1): process %.2f s, peak %.0f MB; set-up %.0f ms + nodes %.0f ms (network %.0f ms): process / (set-up + nodes) %.2fx\n",
           wall, peak / 1024, setup, nodes, net, wall * 1000 / (setup + nodes)
  }' profile.txt
sed 's/^/  /' ref.txt
