// Image-quality reductions for the per-stage monitors: `ssim` through the same numerics as
// io::ssim (numerics/ssim.h), so that a monitor and `podm run --ref` report the same
// figure. The buffers are prepared once: running the kernel every stage allocates nothing.
#include "numerics/ssim.h"
#include "runtime/cpu/cpu_kernel.h"

namespace podm::cpu {
namespace {

struct SsimState : KernelState {
  numerics::SsimScratch scratch;
};

// k.w: the full plane width; k.outH x k.outW: the shaved region; k.i0: the shave.
void ssimKernel(const CpuKernel& k, const KernelIO& io) {
  auto& s = static_cast<SsimState&>(*k.state);
  const float* a = static_cast<const float*>(io.inputs[0].raw);
  const float* b = static_cast<const float*>(io.inputs[1].raw);
  const int64_t at = k.i0 * k.w + k.i0;
  const double mean = numerics::ssimMean(a + at, k.w, b + at, k.w, k.outH, k.outW, 1.0, s.scratch);
  *static_cast<float*>(io.output.raw) = static_cast<float>(mean);
}

} // namespace

CpuKernel buildSsim(const CpuBuildContext& c) {
  const ir::Type& t = c.operand(0); // 1x1xhxw, >= 11x11 after the shave (ruleSsim)
  CpuKernel k;
  k.run = ssimKernel;
  k.i0 = c.node().attrs.getInt("shave");
  k.h = t.dims.h;
  k.w = t.dims.w;
  k.outH = k.h - 2 * k.i0;
  k.outW = k.w - 2 * k.i0;
  auto s = std::make_unique<SsimState>();
  s->scratch.resize(k.outH, k.outW);
  k.state = std::move(s);
  return k;
}

} // namespace podm::cpu
