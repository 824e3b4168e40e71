// Broadcast mask multiply.
#include "numerics/mask.h"

namespace podm::numerics {

void applyMask(const float* x, const float* mask, float* y, int64_t planes, int64_t planeSize) {
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = x + p * planeSize;
    float* out = y + p * planeSize;
    for (int64_t k = 0; k < planeSize; ++k)
      out[k] = mask[k] * in[k];
  }
}

} // namespace podm::numerics
