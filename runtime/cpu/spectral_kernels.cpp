// rfft2 / irfft2 as thin wrappers over numerics/fft.h, one FFTW transform per plane.
// The IR's irfft2 is normalized (irfft2(rfft2(x)) = x) and must not destroy its operand, while
// FFTW's c2r is unnormalized and overwrites its input: the wrapper copies each plane into a
// workspace made at prepare time, scaling by 1/(h*w) in the same pass (the scaling applied to the
// spectrum rather than the output: the same up to float rounding, one memory pass fewer).
#include "numerics/fft.h"
#include "runtime/cpu/cpu_kernel.h"

#include <memory>
#include <vector>

namespace podm::cpu {
namespace {

void rfft2Kernel(const CpuKernel& k, const KernelIO& io) {
  const float* x = static_cast<const float*>(io.inputs[0].raw);
  cf* y = static_cast<cf*>(io.output.raw);
  const int64_t in = k.h * k.w, out = k.h * numerics::halfSpectrumWidth(k.w);
  for (int64_t p = 0; p < k.planes; ++p)
    numerics::fftForward(x + p * in, y + p * out, k.h, k.w);
}

void irfft2Kernel(const CpuKernel& k, const KernelIO& io) {
  const cf* x = static_cast<const cf*>(io.inputs[0].raw);
  float* y = static_cast<float*>(io.output.raw);
  cf* ws = static_cast<InverseWorkspace&>(*k.state).plane;
  const int64_t in = k.h * numerics::halfSpectrumWidth(k.outW), out = k.h * k.outW;
  const float scale = 1.f / static_cast<float>(out);
  for (int64_t p = 0; p < k.planes; ++p) {
    const float* __restrict src = reinterpret_cast<const float*>(x + p * in);
    float* __restrict dst = reinterpret_cast<float*>(ws);
    for (int64_t i = 0; i < 2 * in; ++i)
      dst[i] = src[i] * scale;
    numerics::fftInverse(ws, y + p * out, k.h, k.outW);
  }
}

} // namespace

CpuKernel buildRfft2(const CpuBuildContext& c) {
  const ir::Dims& d = c.operand(0).dims;
  CpuKernel k;
  k.run = rfft2Kernel;
  k.planes = d.n * d.c;
  k.h = d.h;
  k.w = d.w;
  numerics::fftPrepare(k.planes, k.h, k.w); // planning belongs to preparation, not stage 1
  return k;
}

CpuKernel buildIrfft2(const CpuBuildContext& c) {
  const ir::Dims& d = c.result().dims;
  CpuKernel k;
  k.run = irfft2Kernel;
  k.planes = d.n * d.c;
  k.h = d.h;
  k.outW = d.w;
  numerics::fftPrepare(k.planes, k.h, k.outW);
  k.state = std::make_unique<InverseWorkspace>(
      static_cast<size_t>(d.h * numerics::halfSpectrumWidth(d.w)));
  return k;
}

} // namespace podm::cpu
