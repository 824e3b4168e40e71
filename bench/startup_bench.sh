#!/usr/bin/env bash
# A run's set-up with and without the FFT plan cache, in one run: the same `podm run` command
# (100 FISTA stages of l1 deconvolution, bench/models/fista_l1_deblur.podm) three times on an
# empty cache folder -- the first run measures its FFT plans, the later ones recreate them from
# the cache -- and once with the cache off. Prints the set-up before stage 1 and the whole
# process time of each (docs/performance.md, "Start-up").
#   bench/startup_bench.sh [SIZE]       (default 512)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-512}
podm=$(realpath build/cli/podm)
model=$(realpath bench/models/fista_l1_deblur.podm)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$podm" degrade --synthetic scene --size "${size}x${size}" -o gt.png >/dev/null
"$podm" degrade gt.png --blur gaussian:9:2 --noise 2.55 --seed 1 -o o.png --kernel-out k.txt \
  >/dev/null
run() { # label, then environment assignments
  local label=$1
  shift
  local t0 t1
  t0=$(date +%s.%N)
  env "$@" "$podm" run "$model" --input o=o.png --input k=k.txt -o x.png --profile 2>profile.txt
  t1=$(date +%s.%N)
  local setup plans
  setup=$(sed -n 's/^set-up before stage 1: \([0-9.]*\) ms.*/\1/p' profile.txt)
  plans=$(sed -n 's/^FFT plans: \(.*\);.*/\1/p' profile.txt)
  awk -v l="$label" -v s="$setup" -v a="$t0" -v b="$t1" -v p="$plans" \
    'BEGIN { printf "%-28s set-up %7.1f ms   process %7.1f ms   (%s)\n", l, s, (b - a) * 1e3, p }'
}
echo "podm run, ${size}x${size}, 100 FISTA stages; $(nproc) cores"
run "first run (empty cache)" XDG_CACHE_HOME="$work/cache" PODM_FFTW_WISDOM=
run "second run" XDG_CACHE_HOME="$work/cache" PODM_FFTW_WISDOM=
run "third run" XDG_CACHE_HOME="$work/cache" PODM_FFTW_WISDOM=
run "cache off" PODM_FFTW_WISDOM=off
