// CUDA kernels of the transforms: the two passes of a separable resampling (resize_bicubic and its
// adjoint) and the DCT filter bank with its adjoint. One thread per output element, grid-stride
// loops; the arithmetic is transform_math.h's, which the host tests check against numerics/. The
// DCT itself is two cuBLAS products (transform_kernels.cpp) and has no kernel here.
#include "runtime/cuda/grid.cuh"
#include "runtime/cuda/transform_math.h"

#include <cuda_runtime.h>

namespace podm::cuda::transform {
namespace {

constexpr int kBlock = 256;

int gridFor(int64_t n) {
  return grid::blocksFor(n, kBlock);
}

using grid::firstIndex;
using grid::stride;

// `lines` rows of inW floats to rows of outW floats.
__global__ void widthPassKernel(const float* in, float* out, int64_t lines, int64_t inW,
                                int64_t outW, AxisTaps taps) {
  const int64_t n = lines * outW;
  for (int64_t e = firstIndex(); e < n; e += stride()) {
    const int64_t line = e / outW, o = e - line * outW;
    out[e] = gatherAlongRow(taps, in + line * inW, o);
  }
}

// `planes` planes of inH x w to outH x w.
__global__ void heightPassKernel(const float* in, float* out, int64_t planes, int64_t inH,
                                 int64_t outH, int64_t w, AxisTaps taps) {
  const int64_t n = planes * outH * w;
  for (int64_t e = firstIndex(); e < n; e += stride()) {
    const int64_t j = e % w, line = e / w;
    const int64_t o = line % outH, p = line / outH;
    out[e] = gatherAlongColumn(taps, in + p * inH * w, w, o, j);
  }
}

void widthPass(const SeparablePlan& s, const float* in, float* out, int64_t lineCount) {
  widthPassKernel<<<gridFor(lineCount * s.outW), kBlock>>>(in, out, lineCount, s.inW, s.outW,
                                                           s.width);
  checkLaunch("resample width pass");
}

void heightPass(const SeparablePlan& s, const float* in, float* out, int64_t w) {
  heightPassKernel<<<gridFor(s.planes * s.outH * w), kBlock>>>(in, out, s.planes, s.inH, s.outH, w,
                                                               s.height);
  checkLaunch("resample height pass");
}

// Width first: in (inH x inW) -> scratch (inH x outW) -> out (outH x outW). Height first:
// in (inH x inW) -> scratch (outH x inW) -> out (outH x outW).
void separableResampleLaunchImpl(const LaunchArgs& args) {
  const auto& s = *static_cast<const SeparablePlan*>(args.state);
  const auto* in = static_cast<const float*>(args.in[0]);
  auto* out = static_cast<float*>(args.out);
  if (s.widthFirst) {
    widthPass(s, in, s.scratch, s.planes * s.inH);
    heightPass(s, s.scratch, out, s.outW);
  } else {
    heightPass(s, in, s.scratch, s.inW);
    widthPass(s, s.scratch, out, s.planes * s.outH);
  }
}

// Output plane p * count + f is filter f on input plane p.
__global__ void filterBankKernel(const float* x, float* y, FilterBankPlan b) {
  const int64_t plane = b.h * b.w, n = b.planes * b.count * plane;
  for (int64_t e = firstIndex(); e < n; e += stride()) {
    const int64_t outPlane = e / plane, pixel = e - outPlane * plane;
    const int64_t p = outPlane / b.count, f = outPlane - p * b.count;
    const int64_t i = pixel / b.w, j = pixel - i * b.w;
    y[e] = filterBankElement(x + p * plane, b.h, b.w, b.filters + f * b.size * b.size, b.size,
                             b.edge, i, j);
  }
}

__global__ void filterBankAdjointKernel(const float* y, float* x, FilterBankPlan b) {
  const int64_t plane = b.h * b.w, n = b.planes * plane;
  for (int64_t e = firstIndex(); e < n; e += stride()) {
    const int64_t p = e / plane, pixel = e - p * plane;
    const int64_t r = pixel / b.w, s = pixel - r * b.w;
    x[e] = filterBankAdjointElement(y + p * b.count * plane, b.h, b.w, b.filters, b.count, b.size,
                                    b.rows, b.cols, r, s);
  }
}

void filterBankLaunchImpl(const LaunchArgs& args) {
  const auto& b = *static_cast<const FilterBankPlan*>(args.state);
  filterBankKernel<<<gridFor(b.planes * b.count * b.h * b.w), kBlock>>>(
      static_cast<const float*>(args.in[0]), static_cast<float*>(args.out), b);
  checkLaunch("dct_filters kernel");
}

void filterBankAdjointLaunchImpl(const LaunchArgs& args) {
  const auto& b = *static_cast<const FilterBankPlan*>(args.state);
  filterBankAdjointKernel<<<gridFor(b.planes * b.h * b.w), kBlock>>>(
      static_cast<const float*>(args.in[0]), static_cast<float*>(args.out), b);
  checkLaunch("dct_filters_adjoint kernel");
}

} // namespace

Launch separableResampleLaunch() {
  return separableResampleLaunchImpl;
}
Launch filterBankLaunch() {
  return filterBankLaunchImpl;
}
Launch filterBankAdjointLaunch() {
  return filterBankAdjointLaunchImpl;
}

} // namespace podm::cuda::transform
