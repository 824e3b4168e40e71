// SSIM numerics (see ssim.h). Accumulation is in double so that large images do not lose digits.
#include "numerics/ssim.h"

#include <algorithm>
#include <cmath>

namespace podm::numerics {
namespace {

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

} // namespace

void ssimGaussian(double g[11]) {
  double sum = 0;
  for (int i = 0; i < 11; ++i) {
    const double t = i - 5;
    g[i] = std::exp(-t * t / (2 * 1.5 * 1.5));
    sum += g[i];
  }
  for (int i = 0; i < 11; ++i)
    g[i] /= sum;
}

void SsimScratch::resize(int64_t h, int64_t w) {
  ssimGaussian(g);
  const size_t n = size_t(h * w), valid = size_t((h - 10) * (w - 10));
  for (auto* v : {&p, &q, &pp, &qq, &pq})
    v->assign(n, 0.0);
  tmp.assign(size_t(h * (w - 10)), 0.0);
  for (auto* v : {&mp, &mq, &spp, &sqq, &spq})
    v->assign(valid, 0.0);
}

double ssimMean(const float* a, int64_t strideA, const float* b, int64_t strideB, int64_t h,
                int64_t w, double dataRange, SsimScratch& s) {
  for (int64_t y = 0; y < h; ++y)
    for (int64_t i = 0; i < w; ++i) {
      const size_t n = size_t(y * w + i);
      s.p[n] = a[y * strideA + i];
      s.q[n] = b[y * strideB + i];
      s.pp[n] = s.p[n] * s.p[n];
      s.qq[n] = s.q[n] * s.q[n];
      s.pq[n] = s.p[n] * s.q[n];
    }
  filterValid(s.p, h, w, s.g, s.tmp, s.mp);
  filterValid(s.q, h, w, s.g, s.tmp, s.mq);
  filterValid(s.pp, h, w, s.g, s.tmp, s.spp);
  filterValid(s.qq, h, w, s.g, s.tmp, s.sqq);
  filterValid(s.pq, h, w, s.g, s.tmp, s.spq);
  const double c1 = (0.01 * dataRange) * (0.01 * dataRange);
  const double c2 = (0.03 * dataRange) * (0.03 * dataRange);
  double sum = 0;
  for (size_t n = 0; n < s.mp.size(); ++n) {
    const double mu1 = s.mp[n], mu2 = s.mq[n];
    const double s1 = s.spp[n] - mu1 * mu1, s2 = s.sqq[n] - mu2 * mu2, s12 = s.spq[n] - mu1 * mu2;
    sum +=
        ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (s1 + s2 + c2));
  }
  return sum / double(s.mp.size());
}

} // namespace podm::numerics
