#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU (H100/H200 class, CUDA 13, 16 cores): configure with
# CUDA for that GPU only, build what the check needs, run the runtime suite (the CUDA tests and the
# backend-consistency table, which runs every op on CUDA against the CPU), run the examples on both
# devices and compare them per stage, train the denoiser on both, time them, and print a short
# summary. From a clean clone it is meant to finish in under 8 minutes there. Output: build-gpu/, out-gpu/ (and $OUT when set).
#
#   scripts/gpu-check.sh                          # build here (needs podm's Debian packages)
#   scripts/gpu-check.sh --pack gpu-pack.tar.xz   # run what scripts/gpu-pack.sh built elsewhere
#   PODM_GPU_ARCH=90 scripts/gpu-check.sh
#
# The lent GPU machines reach no package mirror and have none of podm's Debian libraries, so there
# the check runs from a pack: `scripts/gpu-pack.sh` on a CPU machine with nvcc, carry
# gpu-pack.tar.xz (git ignores it), then `--pack`.
set -uo pipefail
cd "$(dirname "$0")/.."
pack=""
if [ "${1:-}" = "--pack" ]; then
  pack="${2:?--pack needs the gpu-pack.tar.xz that scripts/gpu-pack.sh made}"
fi
arch="${PODM_GPU_ARCH:-90}"
jobs="$(nproc)"
out=out-gpu
mkdir -p "$out"
summary=()
status=0
note() { summary+=("$1"); echo "== $1"; }
fail() { note "FAIL: $1"; status=1; }

start=$(date +%s)
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU visible (nvidia-smi -L fails); nothing to check" >&2
  exit 2
fi
note "device: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"

if [ -n "$pack" ]; then
  unpacked=/tmp/podm-gpu-pack
  rm -rf "$unpacked" && mkdir -p "$unpacked" && tar -C "$unpacked" -xJf "$pack" ||
    { fail "unpack $pack"; exit 1; }
  bin="$unpacked/bin"
  export LD_LIBRARY_PATH="$unpacked/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
  # cuDNN: the toolkit's when it has one, else the Python package's (nvidia-cudnn-cu13).
  if ! ldconfig -p | grep -q libcudnn.so.9 && [ ! -e /usr/local/cuda/lib64/libcudnn.so.9 ]; then
    cudnn=$(python3 -c "import nvidia.cudnn, os; print(os.path.join(nvidia.cudnn.__path__[0], 'lib'))" 2>/dev/null)
    [ -n "$cudnn" ] && export LD_LIBRARY_PATH="$cudnn:$LD_LIBRARY_PATH"
  fi
  # The tests and benchmarks read model files through the source path they were built in.
  src=$(cat "$unpacked/SOURCE_DIR" 2>/dev/null || true)
  if [ -n "$src" ] && [ ! -e "$src" ]; then mkdir -p "$(dirname "$src")" && ln -s "$PWD" "$src"; fi
  note "pack: $(cut -c1-10 "$unpacked/COMMIT") (this tree: $(git rev-parse --short=10 HEAD 2>/dev/null || echo unknown))"
  missing=$(for e in "$bin"/*; do ldd "$e" | grep "not found"; done | sort -u)
  [ -n "$missing" ] && { echo "$missing"; fail "pack: libraries not found"; exit 1; }
else
  # Packages: the install list when apt can reach its mirrors; a machine without a network must
  # have them already (the build below then says what is missing).
  scripts/deps.sh >/dev/null 2>&1 || echo "gpu-check: scripts/deps.sh could not install (offline?)"

  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DPODM_ENABLE_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$arch" -DPODM_BUILD_PYTHON=OFF >"$out/configure.log" 2>&1 ||
    { cat "$out/configure.log"; fail "configure"; exit 1; }
  grep -q "PODM_CUDA:INTERNAL=ON\|the CUDA backend is skipped" build-gpu/CMakeCache.txt "$out/configure.log"
  if grep -q "the CUDA backend is skipped" "$out/configure.log"; then
    grep "CUDA backend is skipped" "$out/configure.log"
    fail "configure: no CUDA backend"
    exit 1
  fi
  cmake --build build-gpu -j"$jobs" --target podm podm_runtime_tests >"$out/build.log" 2>&1 ||
    { tail -40 "$out/build.log"; fail "build"; exit 1; }
  note "build: $(($(date +%s) - start)) s after start"
  bin=""
fi
runtime_tests="${bin:-build-gpu/tests/runtime}/podm_runtime_tests"
autodiff_tests="${bin:-build-gpu/tests/runtime/autodiff}/podm_autodiff_tests"
nn_tests="${bin:-build-gpu/tests/stdlib/nn}/podm_nn_tests"
benches="${bin:-build-gpu/bench}"

# The CUDA tests and the consistency table (every op, CUDA against the CPU).
if "$runtime_tests" --no-intro=true -tc="*cuda*,*consistency*" >"$out/runtime_tests.log" 2>&1; then
  note "runtime tests (cuda, consistency): pass"
else
  tail -60 "$out/runtime_tests.log"
  fail "runtime tests (cuda, consistency): see $out/runtime_tests.log"
fi
grep -i "ran natively\|fell back\|cuda" "$out/runtime_tests.log" | tail -20
# The same table with the fused programs compiled by NVRTC instead of interpreted (fused_nvrtc.h).
if PODM_CUDA_FUSED=nvrtc "$runtime_tests" --no-intro=true -tc="*consistency*,*fused*" \
  >"$out/runtime_tests_nvrtc.log" 2>&1; then
  note "runtime tests (consistency, fused) with NVRTC-compiled fused kernels: pass"
else
  tail -60 "$out/runtime_tests_nvrtc.log"
  fail "runtime tests with PODM_CUDA_FUSED=nvrtc: see $out/runtime_tests_nvrtc.log"
fi

# The examples on both devices, on data podm makes itself: the results and every stage's
# monitors must agree to 1e-4 (relative).
podm="${bin:-build-gpu/cli}/podm"
"$podm" degrade --synthetic scene --size 512x512 -o "$out/gt.png" >/dev/null
"$podm" degrade "$out/gt.png" --blur gaussian:9:2 --noise 2 --seed 1 -o "$out/blurred.png" \
  --kernel-out "$out/kernel.txt" >/dev/null
"$podm" degrade "$out/gt.png" --bicubic 4 -o "$out/lr4.png" >/dev/null
compare() { # name, model, args...
  local name="$1" model="$2"
  shift 2
  for dev in cpu cuda; do
    /usr/bin/time -f "%e" -o "$out/$name.$dev.time" "$podm" run "$model" "$@" --device "$dev" \
      -o "$out/$name.$dev.npy" --trace "$out/$name.$dev.csv" --no-wisdom \
      >"$out/$name.$dev.log" 2>&1 || { tail -20 "$out/$name.$dev.log"; fail "$name on $dev"; return; }
  done
  if python3 scripts/gpu_compare.py "$out/$name.cpu" "$out/$name.cuda" >"$out/$name.compare" 2>&1; then
    note "$name: cuda agrees with cpu ($(cat "$out/$name.compare")); process cpu $(cat "$out/$name.cpu.time") s, cuda $(cat "$out/$name.cuda.time") s"
  else
    cat "$out/$name.compare"
    fail "$name: cuda differs from cpu"
  fi
  grep "falls back\|fallback\|no kernel" "$out/$name.cuda.log" | head -5
}
compare deblur_podm examples/deblur_podm.podm --input o="$out/blurred.png" --input k="$out/kernel.txt" \
  --input ref="$out/gt.png"
compare deblur_rpodm examples/deblur_rpodm.podm --input o="$out/blurred.png" \
  --input k="$out/kernel.txt" --input ref="$out/gt.png"
compare tv_admm examples/admm_tv_deblur.podm --input o="$out/blurred.png" --input k="$out/kernel.txt"
"$podm" degrade "$out/gt.png" --noise 15 --seed 2 -o "$out/noisy.png" >/dev/null
compare denoise_ircnn examples/denoise_ircnn.podm --input o="$out/noisy.png" --input ref="$out/gt.png"

# RPODM on a Levin image (im1, kernel 1, sigma 2.55/255 as bench/whole_run_bench.sh): both
# devices, then the stage loop on the GPU without process start (issue 12: at most 20 ms).
levin="${PODM_LEVIN:-}"
for d in "${unpacked:-/nonexistent}/data/levin" ../shared/data/levin; do
  [ -z "$levin" ] && [ -d "$d" ] && levin="$d"
done
if [ -n "$levin" ]; then
  "$podm" degrade "$levin/gt/im1.png" --kernel "$levin/kernels/kernel1.txt" --noise 2.55 --seed 1 \
    -o "$out/levin_lo.png" >/dev/null
  compare rpodm_levin examples/deblur_rpodm.podm --input o="$out/levin_lo.png" \
    --input k="$levin/kernels/kernel1.txt" --input ref="$levin/gt/im1.png"
  "$podm" run examples/deblur_rpodm.podm --input o="$out/levin_lo.png" \
    --input k="$levin/kernels/kernel1.txt" --ref "$levin/gt/im1.png" -o "$out/levin.npy" \
    --device cuda --profile >"$out/levin_profile.log" 2>&1 &&
    note "rpodm Levin im1 on cuda: $(grep -o "stage loop: [0-9.]* ms for [0-9]* stages" "$out/levin_profile.log"); $(grep -o "PSNR [0-9.]* dB" "$out/levin_profile.log" | tail -1)"
else
  note "rpodm Levin: skipped (no Levin images; PODM_LEVIN=DIR with gt/im1.png and kernels/kernel1.txt)"
fi

# SR x4 with the authors' 25 nets (shared/data/podm-official/model; a copy inside the checkout
# travels to a device machine, ../shared does not): 30 stages, per-node times without process start.
nets="${PODM_SR_NETS:-}"
for d in shared/data/podm-official/model ../shared/data/podm-official/model; do
  [ -z "$nets" ] && [ -d "$d" ] && nets="$d"
done
if [ -n "$nets" ]; then
  mkdir -p "$out/w" && ln -sfn "$(realpath "$nets")" "$out/w/nets" # the model names nets/netN.hdf5
  compare sr_lp_x4 examples/sr_lp.podm --input o="$out/lr4.png" --input ref="$out/gt.png" \
    --weights-dir "$out/w"
  "$podm" run examples/sr_lp.podm --input o="$out/lr4.png" -o "$out/sr.npy" --device cuda \
    --weights-dir "$out/w" --profile --no-wisdom >"$out/sr_profile.log" 2>&1 &&
    grep -i "stage loop\|network\|set-up" "$out/sr_profile.log" | head -8
else
  note "sr_lp x4: skipped (the authors' nets are not here; PODM_SR_NETS=DIR/model to name them)"
fi

# Autodiff on CUDA: the gradient-check table's rules and the tape through unrolled stages, every
# forward op on the GPU, against the CPU (1e-4 relative); then the GPU benchmarks against
# hand-written cuFFT and cuDNN code in the same run (ratios, never a pass/fail on time).
if [ -n "$pack" ] || cmake --build build-gpu -j"$jobs" --target podm_autodiff_tests \
  podm_nn_tests podm_bench_gpu_stage podm_bench_gpu_nn podm_bench_gpu_fused \
  >"$out/build_gpu_extra.log" 2>&1; then
  if "$autodiff_tests" --no-intro=true >"$out/autodiff_tests.log" 2>&1; then
    if grep -q "cuda autodiff checks skipped" "$out/autodiff_tests.log"; then
      fail "autodiff on cuda: skipped ($(grep -o 'skipped: .*' "$out/autodiff_tests.log" | head -1))"
    elif ! grep -q "rule checks ran natively on cuda" "$out/autodiff_tests.log"; then
      fail "autodiff on cuda: the cuda cases did not run (is cuda_rules_test.cpp in the suite?)"
    else
      note "autodiff tests (cpu, and cuda against cpu): pass"
    fi
  else
    grep -B2 -A12 "ERROR\|FATAL" "$out/autodiff_tests.log" | head -60
    fail "autodiff tests: see $out/autodiff_tests.log"
  fi
  grep "ran natively on cuda" "$out/autodiff_tests.log" | cut -c1-400

  # Training on the GPU: the networks' gradients on cuDNN against oneDNN's (1e-4 relative), then
  # the same greedy run of the paper's denoiser (7 layers, 64 channels) and the same end-to-end
  # RPODM run on both devices.
  if "$nn_tests" --no-intro=true -tc="*cuda*,*on a device*" >"$out/nn_tests.log" 2>&1 &&
    grep -q "cuda training checks ran on the GPU" "$out/nn_tests.log"; then
    note "training gradients (cuda against cpu): pass"
  else
    grep -B2 -A12 "ERROR\|FATAL\|skipped" "$out/nn_tests.log" | head -40
    fail "training gradients on cuda: see $out/nn_tests.log"
  fi
  mkdir -p "$out/train"
  for i in 0 1 2 3 4 5 6 7; do
    "$podm" degrade --synthetic scene --size 96x96 --seed "$i" -o "$out/train/img$i.png" >/dev/null
  done
  # Both devices, the same options: the last validation PSNR within 0.05 dB.
  train_compare() { # name, what, podm train arguments...
    local name="$1" what="$2"
    shift 2
    for dev in cpu cuda; do
      /usr/bin/time -f "%e" -o "$out/$name.$dev.time" "$podm" train "$@" --device "$dev" \
        -o "$out/$name.$dev.out" >"$out/$name.$dev.log" 2>&1 ||
        { tail -20 "$out/$name.$dev.log"; fail "$name on $dev"; return; }
    done
    psnr() { grep -o "validation PSNR [0-9.]* dB" "$out/$name.$1.log" | tail -1 | grep -o "[0-9.]*" | head -1; }
    if [ -n "$(psnr cpu)" ] && [ -n "$(psnr cuda)" ] &&
      awk -v a="$(psnr cpu)" -v b="$(psnr cuda)" 'BEGIN { d = a - b; exit !(d < 0.05 && d > -0.05) }'; then
      note "$name ($what): validation PSNR cpu $(psnr cpu) dB, cuda $(psnr cuda) dB; process cpu $(cat "$out/$name.cpu.time") s, cuda $(cat "$out/$name.cuda.time") s"
    else
      fail "$name: cuda and cpu differ (validation PSNR cpu '$(psnr cpu)', cuda '$(psnr cuda)')"
    fi
  }
  train_compare train_greedy "fine-tuning the denoiser, 60 steps, batch 16 x 48²" \
    examples/denoise_ircnn.podm --data "$out/train" --lr 1e-4 \
    --init-from examples/weights/denoise_ircnn.safetensors --sigma 15 --crop 48 --batch 16 \
    --steps 60 --seed 1 --val-crop 64
  train_compare train_e2e "RPODM end to end, 20 steps, batch 2 x 48²" \
    examples/deblur_rpodm.podm --mode e2e --data "$out/train" --sigma 2.55 --crop 48 --batch 2 \
    --seed 3 --lr 1e-4 --val-crop 64 --steps 20
  for bench in gpu_stage gpu_nn gpu_fused; do
    if timeout 300 "$benches/podm_bench_$bench" >"$out/bench_$bench.log" 2>&1; then
      note "$(grep "podm_bench_$bench summary" "$out/bench_$bench.log" || echo "podm_bench_$bench: no summary line")"
    else
      tail -20 "$out/bench_$bench.log"
      fail "podm_bench_$bench: see $out/bench_$bench.log"
    fi
  done
else
  tail -40 "$out/build_gpu_extra.log"
  fail "build (autodiff suite, gpu benchmarks): see $out/build_gpu_extra.log"
fi

note "total: $(($(date +%s) - start)) s"
echo
echo "gpu-check summary"
printf '  %s\n' "${summary[@]}"
if [ -n "${OUT:-}" ]; then cp "$out"/*.log "$out"/*.compare "$OUT"/ 2>/dev/null || true; fi
exit $status
