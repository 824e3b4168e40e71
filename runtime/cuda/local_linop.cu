// CUDA kernels of the local linear operators: conv2d (direct, one thread per output pixel, the
// taps staged in shared memory), pad2d, decimate, upsample_zero, mask, fd_grad and their adjoints
// (all gathers, so no atomics and the same sums on every run), and Haar (one launch per level).
// Each kernel is a grid-stride loop over one function of local_linop_math.h, which the host test
// checks against the CPU numerics; the launch table at the end maps LocalLinop to a launch.
#include "runtime/cuda/cuda_kernels.h"
#include "runtime/cuda/grid.cuh"
#include "runtime/cuda/local_linop_math.h"

#include <cuda_runtime.h>

namespace podm::cuda {
namespace {

using namespace linop;

constexpr int kBlock = 256;

int gridFor(int64_t n) {
  return grid::blocksFor(n, kBlock);
}

using grid::firstIndex;
using grid::stride;

template <class Shape>
const Shape& shapeOf(const LaunchArgs& args) {
  return *static_cast<const Shape*>(args.state);
}
const float* input(const LaunchArgs& args, int i) {
  return static_cast<const float*>(args.in[i]);
}
float* output(const LaunchArgs& args) {
  return static_cast<float*>(args.out);
}

// out[i] = pixel(i) for every output element; PixelFn is one of the functors below.
template <class PixelFn>
__global__ void mapKernel(PixelFn pixel, float* out, int64_t n) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    out[i] = pixel(i);
}

template <class PixelFn>
void mapPixels(PixelFn pixel, float* out, int64_t n, const char* what) {
  if (n <= 0)
    return;
  mapKernel<<<gridFor(n), kBlock>>>(pixel, out, n);
  checkLaunch(what);
}

// ---- conv2d, conv2d_adjoint ----

// Dynamic shared memory a block may take without opting in (48 KiB); larger kernels are read from
// global memory, where every block reads the same taps through the cache.
constexpr int64_t kMaxStagedTaps = 48 * 1024 / static_cast<int64_t>(sizeof(float));

template <bool Adjoint>
__global__ void convKernel(const float* x, const float* kernel, float* y, ConvShape s, bool staged,
                           int64_t n) {
  extern __shared__ float stagedTaps[];
  ConvTaps taps{kernel, s.kh, s.kw, s.correlation};
  if (staged) { // uniform over the block, so every thread reaches the barrier
    const int64_t count = s.kh * s.kw;
    for (int64_t t = threadIdx.x; t < count; t += blockDim.x)
      stagedTaps[t] = convolutionTap(kernel, count, t, s.correlation);
    __syncthreads();
    taps = ConvTaps{stagedTaps, s.kh, s.kw, false};
  }
  for (int64_t i = firstIndex(); i < n; i += stride())
    y[i] = Adjoint ? convolveAdjointPixel(x, taps, s, i) : convolvePixel(x, taps, s, i);
}

template <bool Adjoint>
void convLaunch(const LaunchArgs& args) {
  const ConvShape& s = shapeOf<ConvShape>(args);
  const int64_t n = s.planes * s.h * s.w;
  const int64_t taps = s.kh * s.kw;
  const bool staged = taps <= kMaxStagedTaps;
  const size_t sharedBytes = staged ? static_cast<size_t>(taps) * sizeof(float) : 0;
  convKernel<Adjoint><<<gridFor(n), kBlock, sharedBytes>>>(input(args, 0), input(args, 1),
                                                           output(args), s, staged, n);
  checkLaunch(Adjoint ? "conv2d_adjoint kernel" : "conv2d kernel");
}

// ---- pad2d, pad2d_adjoint ----

struct PadPixel {
  const float* x;
  PadShape s;
  __device__ float operator()(int64_t i) const { return padPixel(x, s, i); }
};
struct CropPixel {
  const float* y;
  PadShape s;
  __device__ float operator()(int64_t i) const { return cropPixel(y, s, i); }
};
struct PadAdjointColumns {
  const float* y;
  PadShape s;
  __device__ float operator()(int64_t i) const { return padAdjointColumnsPixel(y, s, i); }
};
struct PadAdjointRows {
  const float* folded;
  PadShape s;
  __device__ float operator()(int64_t i) const { return padAdjointRowsPixel(folded, s, i); }
};

void padLaunch(const LaunchArgs& args) {
  const PadShape& s = shapeOf<PadShape>(args);
  mapPixels(PadPixel{input(args, 0), s}, output(args), s.planes * s.paddedH() * s.paddedW(),
            "pad2d kernel");
}

// Zero mode is the crop; the others fold the columns into the node's paddedH x w scratch, then
// its rows into the result (two gathers instead of one scatter with atomics).
void padAdjointLaunch(const LaunchArgs& args) {
  const PadShape& s = shapeOf<PadShape>(args);
  const int64_t n = s.planes * s.h * s.w;
  if (s.mode == PadKind::Zero) {
    mapPixels(CropPixel{input(args, 0), s}, output(args), n, "pad2d_adjoint kernel");
    return;
  }
  float* folded = static_cast<float*>(args.workspace);
  mapPixels(PadAdjointColumns{input(args, 0), s}, folded, s.planes * s.paddedH() * s.w,
            "pad2d_adjoint column kernel");
  mapPixels(PadAdjointRows{folded, s}, output(args), n, "pad2d_adjoint row kernel");
}

// ---- decimate, upsample_zero, mask ----

struct DecimatePixel {
  const float* x;
  SampleShape s;
  __device__ float operator()(int64_t i) const { return decimatePixel(x, s, i); }
};
struct UpsampleZeroPixel {
  const float* x;
  SampleShape s;
  __device__ float operator()(int64_t i) const { return upsampleZeroPixel(x, s, i); }
};
struct MaskPixel {
  const float* x;
  const float* mask;
  MaskShape s;
  __device__ float operator()(int64_t i) const { return maskPixel(x, mask, s, i); }
};

void decimateLaunch(const LaunchArgs& args) {
  const SampleShape& s = shapeOf<SampleShape>(args);
  mapPixels(DecimatePixel{input(args, 0), s}, output(args), s.planes * s.lowH() * s.lowW(),
            "decimate kernel");
}
void upsampleZeroLaunch(const LaunchArgs& args) {
  const SampleShape& s = shapeOf<SampleShape>(args);
  mapPixels(UpsampleZeroPixel{input(args, 0), s}, output(args), s.planes * s.h * s.w,
            "upsample_zero kernel");
}
void maskLaunch(const LaunchArgs& args) {
  const MaskShape& s = shapeOf<MaskShape>(args);
  mapPixels(MaskPixel{input(args, 0), input(args, 1), s}, output(args), s.planes * s.planeSize,
            "mask kernel");
}

// ---- fd_grad, fd_grad_adjoint ----

struct FdGradPixel {
  const float* x;
  FdShape s;
  __device__ float operator()(int64_t i) const { return fdGradPixel(x, s, i); }
};
struct FdGradAdjointPixel {
  const float* g;
  FdShape s;
  __device__ float operator()(int64_t i) const { return fdGradAdjointPixel(g, s, i); }
};

void fdGradLaunch(const LaunchArgs& args) {
  const FdShape& s = shapeOf<FdShape>(args);
  mapPixels(FdGradPixel{input(args, 0), s}, output(args), 2 * s.planes * s.h * s.w,
            "fd_grad kernel");
}
void fdGradAdjointLaunch(const LaunchArgs& args) {
  const FdShape& s = shapeOf<FdShape>(args);
  mapPixels(FdGradAdjointPixel{input(args, 0), s}, output(args), s.planes * s.h * s.w,
            "fd_grad_adjoint kernel");
}

// ---- haar, haar_inv: one launch per level, in order on the default stream ----

template <bool Forward>
__global__ void haarLevelKernel(HaarLevel level) {
  const int64_t n = level.blocks();
  for (int64_t i = firstIndex(); i < n; i += stride()) {
    if (Forward)
      haarForwardBlock(level, i);
    else
      haarInverseBlock(level, i);
  }
}

template <bool Forward>
void haarLevelLaunch(const HaarLevel& level, const char* what) {
  haarLevelKernel<Forward><<<gridFor(level.blocks()), kBlock>>>(level);
  checkLaunch(what);
}

void haarLaunch(const LaunchArgs& args) {
  const HaarShape& s = shapeOf<HaarShape>(args);
  float* scratch = static_cast<float*>(args.workspace);
  for (int64_t l = 0; l < s.levels; ++l)
    haarLevelLaunch<true>(haarForwardLevel(s, l, input(args, 0), output(args), scratch),
                          "haar kernel");
}
void haarInvLaunch(const LaunchArgs& args) {
  const HaarShape& s = shapeOf<HaarShape>(args);
  float* scratch = static_cast<float*>(args.workspace);
  for (int64_t l = s.levels - 1; l >= 0; --l)
    haarLevelLaunch<false>(haarInverseLevel(s, l, input(args, 0), output(args), scratch),
                           "haar_inv kernel");
}

// Indexed by LocalLinop.
constexpr Launch kLaunches[] = {
    convLaunch<false>,   convLaunch<true>,   padLaunch,     padAdjointLaunch,
    decimateLaunch,      upsampleZeroLaunch, maskLaunch,    fdGradLaunch,
    fdGradAdjointLaunch, haarLaunch,         haarInvLaunch,
};
static_assert(sizeof(kLaunches) / sizeof(kLaunches[0]) ==
                  static_cast<size_t>(LocalLinop::HaarInv) + 1,
              "one launch per LocalLinop");

} // namespace

Launch localLinopLaunch(LocalLinop op) {
  return kLaunches[static_cast<int>(op)];
}

} // namespace podm::cuda
