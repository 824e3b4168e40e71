// Strided copies for decimation and zero-filling upsampling.
#include "numerics/resample.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace podm::numerics {
namespace {

void checkFactor(int64_t s) {
  if (s < 1)
    throw std::invalid_argument("resample: factor must be a positive integer, got " +
                                std::to_string(s));
}

} // namespace

void decimate(const float* x, float* y, int64_t planes, int64_t h, int64_t w, int64_t s) {
  checkFactor(s);
  const int64_t oh = decimatedLength(h, s), ow = decimatedLength(w, s);
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = x + p * h * w;
    float* dst = y + p * oh * ow;
    for (int64_t i = 0; i < oh; ++i) {
      const float* __restrict row = src + i * s * w;
      float* __restrict out = dst + i * ow;
      for (int64_t j = 0; j < ow; ++j)
        out[j] = row[j * s];
    }
  }
}

void upsampleZeroFill(const float* x, float* y, int64_t planes, int64_t h, int64_t w, int64_t s) {
  checkFactor(s);
  const int64_t ih = decimatedLength(h, s), iw = decimatedLength(w, s);
  std::fill(y, y + planes * h * w, 0.0f);
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = x + p * ih * iw;
    float* dst = y + p * h * w;
    for (int64_t i = 0; i < ih; ++i) {
      const float* __restrict row = src + i * iw;
      float* __restrict out = dst + i * s * w;
      for (int64_t j = 0; j < iw; ++j)
        out[j * s] = row[j];
    }
  }
}

} // namespace podm::numerics
