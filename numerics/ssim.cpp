// SSIM numerics (see ssim.h). Accumulation is in double so that large images do not lose digits.
//
// One pass over the rows per row band: each input row is filtered horizontally into the five
// local sums (of p, q, p², q², pq) kept for the band's last 11 rows, and each output row is then
// filtered vertically from them and added to the band's sum at once. A band starts 10 rows early
// to fill its ring (recomputing rows the band above also filters, to the same bits). Memory
// traffic is the two images read about once; the five statistics never exist as whole planes.
// The arithmetic is the textbook order: every horizontal and vertical sum runs its taps from
// k = 0 up starting from 0, each band adds its pixels in row-major order and the band sums are
// added in band order. The bands are fixed by the size (SsimScratch::bands), so a monitor and
// `podm run --ref` report the same figure to the last bit; against one sum over the whole map
// (one band) the mean differs in the last digits of a double at most.
#include "numerics/ssim.h"

#include "numerics/parallel.h"
#include "numerics/vector_clones.h"

#include <algorithm>
#include <cmath>

namespace podm::numerics {

namespace {

constexpr int kTaps = 11;
constexpr int kStats = 5; // p, q, p², q², pq

// Row y of the images into `dst` (kStats rows of ow sums each). Taps outermost, so each loop over
// x is a vector loop; every sum still adds its taps from k = 0 up.
PODM_VECTOR_CLONES void filterRow(const float* a, const float* b, int64_t ow, const double* g,
                                  double* dst) {
  double* __restrict m1 = dst;
  double* __restrict m2 = dst + ow;
  double* __restrict s11 = dst + 2 * ow;
  double* __restrict s22 = dst + 3 * ow;
  double* __restrict s12 = dst + 4 * ow;
  std::fill(dst, dst + kStats * ow, 0.0);
  for (int k = 0; k < kTaps; ++k) {
    const double gk = g[k];
    const float* __restrict pa = a + k;
    const float* __restrict pb = b + k;
    for (int64_t x = 0; x < ow; ++x) {
      const double p = pa[x], q = pb[x];
      m1[x] += gk * p;
      m2[x] += gk * q;
      s11[x] += gk * (p * p);
      s22[x] += gk * (q * q);
      s12[x] += gk * (p * q);
    }
  }
}

// The sum of output rows [y0, y1) of the SSIM map, with the band's own ring and column.
PODM_VECTOR_CLONES double ssimRows(const float* a, int64_t strideA, const float* b, int64_t strideB,
                                   int64_t ow, double c1, double c2, const double* g, double* rows,
                                   double* v, int64_t y0, int64_t y1) {
  double sum = 0;
  const int64_t rowDoubles = kStats * ow;
  auto ring = [&](int64_t y) { return rows + (y % kTaps) * rowDoubles; };
  for (int64_t y = y0; y < y0 + kTaps - 1; ++y)
    filterRow(a + y * strideA, b + y * strideB, ow, g, ring(y));
  for (int64_t y = y0; y < y1; ++y) {
    const int64_t last = y + kTaps - 1;
    filterRow(a + last * strideA, b + last * strideB, ow, g, ring(last));
    std::fill(v, v + rowDoubles, 0.0);
    for (int k = 0; k < kTaps; ++k) {
      const double gk = g[k];
      const double* __restrict r = ring(y + k);
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
  return sum;
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
  const int64_t oh = h - 10, ow = w - 10;
  bands = std::max<int64_t>(1, std::min<int64_t>(fftThreadsFor(h * w), oh));
  rows.assign(size_t(bands * kTaps * kStats * ow), 0.0);
  column.assign(size_t(bands * kStats * ow), 0.0);
  sums.assign(size_t(bands), 0.0);
}

double ssimMean(const float* a, int64_t strideA, const float* b, int64_t strideB, int64_t h,
                int64_t w, double dataRange, SsimScratch& s) {
  const int64_t oh = h - 10, ow = w - 10;
  const double c1 = (0.01 * dataRange) * (0.01 * dataRange);
  const double c2 = (0.03 * dataRange) * (0.03 * dataRange);
  // One band per thread that parallelRows would use (s.bands, fixed by the size).
  const int64_t bands = s.bands;
  auto band = [&](int64_t first, int64_t last) {
    for (int64_t t = first; t < last; ++t)
      s.sums[size_t(t)] =
          ssimRows(a, strideA, b, strideB, ow, c1, c2, s.g, s.rows.data() + t * kTaps * kStats * ow,
                   s.column.data() + t * kStats * ow, oh * t / bands, oh * (t + 1) / bands);
  };
  if (bands > 1)
    runBands(bands, bands, band);
  else
    band(0, 1);
  double sum = 0;
  for (double bandSum : s.sums)
    sum += bandSum;
  return sum / double(oh * ow);
}

} // namespace podm::numerics
