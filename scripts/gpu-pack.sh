#!/usr/bin/env bash
# Builds, on this machine (nvcc, no GPU needed), what scripts/gpu-check.sh runs on a GPU machine that
# cannot install packages (the lent H100/H200 machines reach no package mirror and have none of
# podm's Debian libraries): the GPU executables for Hopper (sm_90) and the shared libraries they
# need that are not CUDA's, packed into gpu-pack.tar.xz (ignored by git). Carry that file to the
# GPU machine and run `scripts/gpu-check.sh --pack gpu-pack.tar.xz` there: no build, no apt.
#
#   scripts/gpu-pack.sh            # build-gpu-pack/, then gpu-pack.tar.xz
set -euo pipefail
cd "$(dirname "$0")/.."
arch="${PODM_GPU_ARCH:-90}"
targets=(podm podm-hdf5-reader podm_runtime_tests podm_autodiff_tests podm_nn_tests podm_bench_gpu_stage
  podm_bench_gpu_nn podm_bench_gpu_fused)

scripts/deps.sh
cmake -S . -B build-gpu-pack -DCMAKE_BUILD_TYPE=Release -DPODM_ENABLE_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$arch" -DPODM_BUILD_PYTHON=OFF >/dev/null
if ! grep -q "^PODM_CUDNN_LIBRARY:FILEPATH=/" build-gpu-pack/CMakeCache.txt; then
  echo "gpu-pack: this machine has no CUDA toolkit with cuDNN; nothing to pack" >&2
  exit 1
fi
cmake --build build-gpu-pack -j"$(nproc)" --target "${targets[@]}"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"
cp build-gpu-pack/cli/podm build-gpu-pack/cli/podm-hdf5-reader build-gpu-pack/cli/libpodm_cuda.so "$stage/bin/"
cp build-gpu-pack/tests/runtime/podm_runtime_tests \
  build-gpu-pack/tests/runtime/autodiff/podm_autodiff_tests build-gpu-pack/tests/stdlib/nn/podm_nn_tests \
  build-gpu-pack/bench/podm_bench_gpu_stage build-gpu-pack/bench/podm_bench_gpu_nn \
  build-gpu-pack/bench/podm_bench_gpu_fused "$stage/bin/"
# Every shared library they load except the C library's own and CUDA's (the GPU machine's toolkit
# and driver provide those; cuDNN comes from its toolkit or its Python packages, see gpu-check).
for exe in "$stage"/bin/*; do
  ldd "$exe" | awk '$3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
  ld-linux* | libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so* | libresolv.so*) ;;
  libcuda.so* | libcudart* | libcufft* | libcublas* | libcudnn* | libnvrtc* | libnvJitLink*) ;;
  *) cp -L "$lib" "$stage/lib/" ;;
  esac
done
# One Levin image and kernel for the RPODM timing (issue 12's target; ../shared does not travel to
# the GPU machine, and the data stays out of the repository).
levin=../shared/data/levin
if [ -d "$levin" ]; then
  mkdir -p "$stage/data/levin/gt" "$stage/data/levin/kernels"
  cp "$levin/gt/im1.png" "$stage/data/levin/gt/" && cp "$levin/kernels/kernel1.txt" "$stage/data/levin/kernels/"
fi
git rev-parse HEAD >"$stage/COMMIT"
pwd >"$stage/SOURCE_DIR" # the tests' PODM_SOURCE_DIR: gpu-check links it to the tree there
tar -C "$stage" -cJf gpu-pack.tar.xz .
echo "gpu-pack: gpu-pack.tar.xz ($(du -h gpu-pack.tar.xz | cut -f1)) for commit $(cut -c1-10 "$stage/COMMIT"):" \
  "$(ls "$stage/bin" | tr '\n' ' ')+ $(ls "$stage/lib" | wc -l) libraries"
