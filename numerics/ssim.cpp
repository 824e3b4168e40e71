// SSIM numerics (see ssim.h). Accumulation is in double so that large images do not lose digits.
//
// One pass over the rows: each input row is filtered horizontally into the five local sums (of p,
// q, p², q², pq) kept for the last 11 rows, and each output row is then filtered vertically from
// them and added to the mean at once. Memory traffic is the two images read once; the five
// statistics never exist as whole planes. The arithmetic is the textbook order: every horizontal
// and vertical sum runs its taps from k = 0 up starting from 0, and the mean adds pixels in
// row-major order, so the figure is the same to the bit as filtering whole planes.
#include "numerics/ssim.h"

#include <algorithm>
#include <cmath>

namespace podm::numerics {

namespace {

constexpr int kTaps = 11;
constexpr int kStats = 5; // p, q, p², q², pq

// Row y of the images into `dst` (kStats rows of ow sums each).
void filterRow(const float* a, const float* b, int64_t ow, const double* g, double* dst) {
  double* m1 = dst;
  double* m2 = dst + ow;
  double* s11 = dst + 2 * ow;
  double* s22 = dst + 3 * ow;
  double* s12 = dst + 4 * ow;
  for (int64_t x = 0; x < ow; ++x) {
    double sp = 0, sq = 0, spp = 0, sqq = 0, spq = 0;
    for (int k = 0; k < kTaps; ++k) {
      const double p = a[x + k], q = b[x + k];
      sp += g[k] * p;
      sq += g[k] * q;
      spp += g[k] * (p * p);
      sqq += g[k] * (q * q);
      spq += g[k] * (p * q);
    }
    m1[x] = sp;
    m2[x] = sq;
    s11[x] = spp;
    s22[x] = sqq;
    s12[x] = spq;
  }
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
  (void)h;
  ssimGaussian(g);
  rows.assign(size_t(kTaps * kStats * (w - 10)), 0.0);
  column.assign(size_t(kStats * (w - 10)), 0.0);
}

double ssimMean(const float* a, int64_t strideA, const float* b, int64_t strideB, int64_t h,
                int64_t w, double dataRange, SsimScratch& s) {
  const int64_t oh = h - 10, ow = w - 10;
  const int64_t rowDoubles = kStats * ow;
  auto ring = [&](int64_t y) { return s.rows.data() + (y % kTaps) * rowDoubles; };
  for (int64_t y = 0; y < kTaps - 1; ++y)
    filterRow(a + y * strideA, b + y * strideB, ow, s.g, ring(y));
  const double c1 = (0.01 * dataRange) * (0.01 * dataRange);
  const double c2 = (0.03 * dataRange) * (0.03 * dataRange);
  double sum = 0;
  double* v = s.column.data();
  for (int64_t y = 0; y < oh; ++y) {
    const int64_t last = y + kTaps - 1;
    filterRow(a + last * strideA, b + last * strideB, ow, s.g, ring(last));
    std::fill(v, v + rowDoubles, 0.0);
    for (int k = 0; k < kTaps; ++k) {
      const double gk = s.g[k];
      const double* r = ring(y + k);
      for (int64_t i = 0; i < rowDoubles; ++i)
        v[i] += gk * r[i];
    }
    for (int64_t x = 0; x < ow; ++x) {
      const double mu1 = v[x], mu2 = v[ow + x];
      const double s1 = v[2 * ow + x] - mu1 * mu1, s2 = v[3 * ow + x] - mu2 * mu2,
                   s12 = v[4 * ow + x] - mu1 * mu2;
      sum +=
          ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (s1 + s2 + c2));
    }
  }
  return sum / double(oh * ow);
}

} // namespace podm::numerics
