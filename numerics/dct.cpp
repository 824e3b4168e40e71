// Orthonormal DCT-II / DCT-III: FFTW's unnormalized r2r transforms plus a separable scaling.
#include "numerics/dct.h"

#include "numerics/fft.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace podm::numerics {
namespace {

// REDFT10 gives Y_k = 2 sum x_j cos(..); the orthonormal X_k is c_k Y_k / 2.
std::vector<float> forwardScale(int64_t n) {
  std::vector<float> s(static_cast<size_t>(n), static_cast<float>(1.0 / std::sqrt(2.0 * n)));
  s[0] = static_cast<float>(0.5 / std::sqrt(static_cast<double>(n)));
  return s;
}

// REDFT01 computes X_0 + 2 sum_{k>0} X_k cos(..); prescaling by c_0 and c_k/2 makes it orthonormal.
std::vector<float> inverseScale(int64_t n) {
  std::vector<float> s(static_cast<size_t>(n), static_cast<float>(1.0 / std::sqrt(2.0 * n)));
  s[0] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
  return s;
}

void scalePlane(float* plane, const float* rowScale, const float* colScale, int64_t h, int64_t w) {
  for (int64_t i = 0; i < h; ++i) {
    float* __restrict row = plane + i * w;
    const float r = rowScale[i];
    for (int64_t j = 0; j < w; ++j)
      row[j] *= r * colScale[j];
  }
}

void checkSize(int64_t h, int64_t w) {
  if (h <= 0 || w <= 0)
    throw std::invalid_argument("dct: plane size " + std::to_string(h) + "x" + std::to_string(w) +
                                " must be positive");
}

} // namespace

void dctForward(const float* x, float* y, int64_t planes, int64_t h, int64_t w) {
  checkSize(h, w);
  const std::vector<float> rows = forwardScale(h), cols = forwardScale(w);
  for (int64_t p = 0; p < planes; ++p) {
    dct2Unnormalized(x + p * h * w, y + p * h * w, h, w);
    scalePlane(y + p * h * w, rows.data(), cols.data(), h, w);
  }
}

void dctInverse(const float* y, float* x, int64_t planes, int64_t h, int64_t w) {
  checkSize(h, w);
  const std::vector<float> rows = inverseScale(h), cols = inverseScale(w);
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = y + p * h * w;
    float* out = x + p * h * w;
    for (int64_t i = 0; i < h; ++i) {
      const float r = rows[static_cast<size_t>(i)];
      for (int64_t j = 0; j < w; ++j)
        out[i * w + j] = in[i * w + j] * r * cols[static_cast<size_t>(j)];
    }
    dct3UnnormalizedInPlace(out, h, w);
  }
}

} // namespace podm::numerics
