// Host loops over runtime/prox_math.h in the order the CUDA prox kernels (runtime/cuda/prox.cu)
// run them: hardthre_box's radix selection and TV's FGP phase by phase, plane by plane. The math
// test checks them against independent references; the device test checks the GPU against them.
#pragma once

#include "runtime/prox_math.h"

#include <cstdint>
#include <limits>
#include <vector>

namespace podm::testing {

// hardthre_box with count as the device computes it: the cutoff by radix select over gain keys
// (histograms per byte, selectKeyByte), then the entries above it and the first ties at it.
inline std::vector<float> countProxLikeDevice(const std::vector<float>& v, float lo, float hi,
                                              int64_t count) {
  const auto n = static_cast<int64_t>(v.size());
  float cutoff = std::numeric_limits<float>::infinity();
  int64_t tiesToKeep = 0;
  if (count >= n) {
    cutoff = -std::numeric_limits<float>::infinity();
  } else if (count > 0) {
    uint32_t prefix = 0, mask = 0;
    int64_t remaining = count, above = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
      unsigned histogram[256] = {};
      for (float x : v) {
        const uint32_t key = proxmath::gainKey(proxmath::hardThreBoxRankingGain(x, lo, hi));
        if ((key & mask) == prefix)
          ++histogram[(key >> shift) & 255u];
      }
      prefix |= proxmath::selectKeyByte(histogram, remaining, above) << shift;
      mask |= 255u << shift;
    }
    cutoff = proxmath::keyGain(prefix);
    tiesToKeep = count - above;
  }
  std::vector<float> out(v.size());
  int64_t tiesBefore = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const float gain = proxmath::hardThreBoxRankingGain(v[i], lo, hi);
    const bool tie = proxmath::hardThreBoxAtCutoff(gain, cutoff);
    const bool keep =
        proxmath::hardThreBoxAboveCutoff(gain, cutoff) || (tie && tiesBefore < tiesToKeep);
    tiesBefore += tie;
    out[i] = proxmath::hardThreBoxRankedOutput(v[i], lo, hi, keep);
  }
  return out;
}

struct PlaneSize {
  int64_t h, w;
};

// TV's FGP as prox.cu runs it, on `planes` planes at once: per iteration the primal phase over
// every pixel (tvPrimalAt, from (p, q) after a restart), the dual phase (tvDualTarget,
// tvDualStep, sums in double) and the per-plane finish (TvControl); a plane that stopped is left
// alone; then the output from (p, q). Returns the iterations each plane took.
// GCC 12 at -O3 reports a free of a non-heap object in the inlined vector destructors below, a
// known false positive of its -Wfree-nonheap-object (every buffer here is a plain std::vector).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"
#endif
inline std::vector<int> tvLikeDevice(const std::vector<float>& v, std::vector<float>& out,
                                     int64_t planes, PlaneSize s, float gamma, bool isotropic,
                                     int maxIterations, double tolerance, float lo, float hi) {
  const int64_t pixels = s.h * s.w;
  std::vector<float> p(v.size(), 0.f), q(v.size(), 0.f), r(v.size(), 0.f), t(v.size(), 0.f),
      u(v.size());
  const auto count = static_cast<size_t>(planes);
  std::vector<proxmath::TvControl> control(count);
  std::vector<float> momentum(count);
  std::vector<int> iterations(count, 0);
  std::vector<bool> done(count, false);
  for (int64_t k = 0; k < planes; ++k)
    momentum[size_t(k)] = control[size_t(k)].nextMomentum();
  const float step = proxmath::tvStep(gamma);
  for (int k = 0; k < maxIterations; ++k)
    for (int64_t plane = 0; plane < planes; ++plane) {
      if (done[size_t(plane)])
        continue;
      const size_t base = size_t(plane * pixels);
      const bool restarted = control[size_t(plane)].restarted;
      const float* rr = (restarted ? p.data() : r.data()) + base;
      const float* ss = (restarted ? q.data() : t.data()) + base;
      for (int64_t at = 0; at < pixels; ++at) {
        u[base + size_t(at)] =
            proxmath::tvPrimalAt(v.data() + base, rr, ss, at / s.w, at % s.w, s.w, gamma, lo, hi);
        if (restarted) {
          r[base + size_t(at)] = p[base + size_t(at)];
          t[base + size_t(at)] = q[base + size_t(at)];
        }
      }
      double sums[3] = {0, 0, 0};
      for (int64_t at = 0; at < pixels; ++at) {
        const int64_t i = at / s.w, j = at % s.w;
        const size_t e = base + size_t(at);
        const float a =
            i + 1 < s.h ? proxmath::tvDualTarget(r[e], step, u[e + size_t(s.w)], u[e]) : 0.f;
        const float b = j + 1 < s.w ? proxmath::tvDualTarget(t[e], step, u[e + 1], u[e]) : 0.f;
        const proxmath::TvDualStep d =
            isotropic
                ? proxmath::tvDualStep<true>(a, b, p[e], q[e], r[e], t[e], momentum[size_t(plane)])
                : proxmath::tvDualStep<false>(a, b, p[e], q[e], r[e], t[e],
                                              momentum[size_t(plane)]);
        sums[0] += d.change2;
        sums[1] += d.norm2;
        sums[2] += d.restartSignal;
      }
      const double change = control[size_t(plane)].finish(sums[0], sums[1], sums[2]);
      iterations[size_t(plane)] = k + 1;
      if (change <= tolerance)
        done[size_t(plane)] = true;
      else
        momentum[size_t(plane)] = control[size_t(plane)].nextMomentum();
    }
  out.resize(v.size());
  for (int64_t plane = 0; plane < planes; ++plane) {
    const size_t base = size_t(plane * pixels);
    for (int64_t at = 0; at < pixels; ++at)
      out[base + size_t(at)] =
          proxmath::tvPrimalAt(v.data() + base, p.data() + base, q.data() + base, at / s.w,
                               at % s.w, s.w, gamma, lo, hi);
  }
  return iterations;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

} // namespace podm::testing
