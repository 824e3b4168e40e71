// Mean SSIM (Wang et al. 2004, their ssim_index.m): separable 11-tap Gaussian window with sigma
// 1.5, local statistics over the 'valid' region, K1 = 0.01, K2 = 0.03. One implementation for the
// per-stage `ssim` monitor kernel and io::ssim, so that a monitor and `podm run --ref` report the
// same figure to the last bit.
#pragma once

#include <cstdint>
#include <vector>

namespace podm::numerics {

// The normalised 1-D Gaussian (sum 1); the 2-D window is its outer product.
void ssimGaussian(double g[11]);

// What one evaluation works in: per row band (one per thread numerics/parallel.h would use for
// the size), the horizontal sums of its last 11 rows, one vertical row and its sum. Sized once by
// resize(), so that a kernel run every stage allocates nothing.
struct SsimScratch {
  double g[11];
  int64_t bands = 1;
  std::vector<double> rows, column, sums;
  // For an h x w region (both at least 11).
  void resize(int64_t h, int64_t w);
};

// Mean SSIM of the h x w regions at a and b (row strides strideA, strideB), peak value dataRange.
// `s` must have been resized for h x w.
double ssimMean(const float* a, int64_t strideA, const float* b, int64_t strideB, int64_t h,
                int64_t w, double dataRange, SsimScratch& s);

} // namespace podm::numerics
