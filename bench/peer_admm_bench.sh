#!/usr/bin/env bash
# podm's ADMM against ProxImaL's (numpy backend) at equal objective, whole process (issue #13):
# the 512² synthetic scene blurred periodically by a 9x9 Gaussian (sigma 2), noise 2.55/255;
#   min 0.5 ||k * x - b||^2 + lambda R(x) + nonneg(x),  R = TV_iso (lambda 2e-3) or l1 (1e-3).
# ProxImaL runs 100 ADMM iterations (its default rho = 1) by bench/peers/proximal_admm.py; podm
# runs bench/models/peer_{tv,l1}_admm.podm with the fewest stages (from a fixed list) whose result
# has an objective at or below ProxImaL's, both objectives by the same evaluator
# (proximal_admm.py's `objective`). Times: ProxImaL's solve() alone; podm's whole `podm run`
# process (start-up, reading the inputs, compiling, running, writing x), median of 11.
#   bench/peer_admm_bench.sh PROXIMAL_DIR
# PROXIMAL_DIR is a checkout of github comp-imaging/ProxImaL, kept outside this repository; it
# needs Debian's python3-numpy, python3-scipy and python3-numexpr. OpenCV, which ProxImaL's image
# helpers import, is not needed: an empty cv2 module is put on PYTHONPATH when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
proximal=$(realpath "${1:?usage: bench/peer_admm_bench.sh PROXIMAL_DIR}")
podm=$(realpath build/cli/podm)
bench=$(realpath bench)
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! "$py" -c "import cv2" 2>/dev/null; then
  mkdir stubs && echo "# ProxImaL's image helpers import cv2; unused here." >stubs/cv2.py
  export PYTHONPATH="$work/stubs"
fi
"$podm" degrade --synthetic scene --size 512x512 -o gt.png >/dev/null
"$podm" degrade gt.png --blur gaussian:9:2 --noise 2.55 -o b.npy --kernel-out k.txt >/dev/null
"$py" -c "import numpy as np; np.save('k.npy', np.loadtxt('k.txt', dtype=np.float32))"
"$py" "$bench/peers/proximal_admm.py" "$proximal" b.npy k.npy . | tee proximal.txt

objective() { # x.npy prior lambda
  "$py" -c "
import sys, numpy as np
sys.path.insert(0, '$bench/peers')
from proximal_admm import objective
b = np.load('b.npy').astype(np.float32).squeeze()
k = np.load('k.npy')
x = np.load('$1').astype(np.float32).squeeze()
print(f'{objective(x, b, k, $3, \"$2\"):.6f}')"
}

for problem in "tv 2e-3 10 20 25 30 35 40 50 60 80" "l1 1e-3 2 3 4 5 6 8 10 15 20"; do
  set -- $problem
  prior=$1 lambda=$2
  shift 2
  read -r peerSeconds peerObjective < <(awk -v p="$prior" '$1 == p { print $3, $5 }' proximal.txt)
  found=""
  for stages in "$@"; do
    sed "s/^stages [0-9]*/stages $stages/" "$bench/models/peer_${prior}_admm.podm" >m.podm
    "$podm" run m.podm --input o=b.npy --input k=k.npy -o x.npy >/dev/null 2>&1
    obj=$(objective x.npy "$prior" "$lambda")
    if awk -v a="$obj" -v b="$peerObjective" 'BEGIN { exit !(a <= b) }'; then
      found=$stages
      break
    fi
  done
  if [ -z "$found" ]; then
    echo "$prior: podm did not reach ProxImaL's objective $peerObjective within $stages stages"
    continue
  fi
  # Wall time of the whole process by a monotonic clock (GNU time rounds to 10 ms), median of 11.
  median=$("$py" - "$podm" run m.podm --input o=b.npy --input k=k.npy -o x.npy <<'PY'
import statistics, subprocess, sys, time
times = []
for _ in range(11):
    start = time.perf_counter()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - start)
print(f"{statistics.median(times):.4f}")
PY
  )
  awk -v p="$prior" -v s="$found" -v o="$obj" -v po="$peerObjective" -v t="$median" \
    -v pt="$peerSeconds" 'BEGIN {
      printf "%s: ProxImaL ADMM 100 it %.2f s, objective %s; podm ADMM %d stages, objective %s, whole process %.4f s: %.0fx\n",
             p, pt, po, s, o, t, pt / t }'
done
