// Image-quality reductions for the per-stage monitors: `ssim` as in runtime/io/metrics.cpp (Wang
// et al. 2004, separable 11-tap Gaussian with sigma 1.5 over the valid region, K1 = 0.01,
// K2 = 0.03, data range 1), in the same order of double-precision operations so that a monitor
// and `podm run --ref` report the same figure. The buffers are prepared once: running the kernel
// every stage allocates nothing.
#include "runtime/cpu/cpu_kernel.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace podm::cpu {
namespace {

struct SsimState : KernelState {
  double g[11];
  std::vector<double> p, q, pp, qq, pq, tmp, mp, mq, spp, sqq, spq;
};

// Valid-region correlation with the separable Gaussian: out is (h-10) x (w-10).
void filterValid(const std::vector<double>& in, int64_t h, int64_t w, const double* g,
                 std::vector<double>& tmp, std::vector<double>& out) {
  const int64_t oh = h - 10, ow = w - 10;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < ow; ++x) {
      double acc = 0;
      for (int k = 0; k < 11; ++k)
        acc += g[k] * in[size_t(y * w + x + k)];
      tmp[size_t(y * ow + x)] = acc;
    }
  std::fill(out.begin(), out.end(), 0.0);
  for (int64_t y = 0; y < oh; ++y)
    for (int k = 0; k < 11; ++k)
      for (int64_t x = 0; x < ow; ++x)
        out[size_t(y * ow + x)] += g[k] * tmp[size_t((y + k) * ow + x)];
}

// k.w: the full plane width; k.outH x k.outW: the shaved region; k.i0: the shave.
void ssimKernel(const CpuKernel& k, const KernelIO& io) {
  auto& s = static_cast<SsimState&>(*k.state);
  const float* a = static_cast<const float*>(io.inputs[0].raw);
  const float* b = static_cast<const float*>(io.inputs[1].raw);
  const int64_t h = k.outH, w = k.outW, stride = k.w, shave = k.i0;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t i = 0; i < w; ++i) {
      const size_t n = size_t(y * w + i);
      const int64_t at = (y + shave) * stride + shave + i;
      s.p[n] = a[at];
      s.q[n] = b[at];
      s.pp[n] = s.p[n] * s.p[n];
      s.qq[n] = s.q[n] * s.q[n];
      s.pq[n] = s.p[n] * s.q[n];
    }
  filterValid(s.p, h, w, s.g, s.tmp, s.mp);
  filterValid(s.q, h, w, s.g, s.tmp, s.mq);
  filterValid(s.pp, h, w, s.g, s.tmp, s.spp);
  filterValid(s.qq, h, w, s.g, s.tmp, s.sqq);
  filterValid(s.pq, h, w, s.g, s.tmp, s.spq);
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  double sum = 0;
  for (size_t n = 0; n < s.mp.size(); ++n) {
    const double mu1 = s.mp[n], mu2 = s.mq[n];
    const double s1 = s.spp[n] - mu1 * mu1, s2 = s.sqq[n] - mu2 * mu2, s12 = s.spq[n] - mu1 * mu2;
    sum +=
        ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (s1 + s2 + c2));
  }
  *static_cast<float*>(io.output.raw) = static_cast<float>(sum / double(s.mp.size()));
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
  double sum = 0;
  for (int i = 0; i < 11; ++i) {
    const double x = i - 5;
    s->g[i] = std::exp(-x * x / (2 * 1.5 * 1.5));
    sum += s->g[i];
  }
  for (double& g : s->g)
    g /= sum;
  const size_t n = size_t(k.outH * k.outW), valid = size_t((k.outH - 10) * (k.outW - 10));
  for (auto* v : {&s->p, &s->q, &s->pp, &s->qq, &s->pq})
    v->assign(n, 0.0);
  s->tmp.assign(size_t(k.outH * (k.outW - 10)), 0.0);
  for (auto* v : {&s->mp, &s->mq, &s->spp, &s->sqq, &s->spq})
    v->assign(valid, 0.0);
  k.state = std::move(s);
  return k;
}

} // namespace podm::cpu
