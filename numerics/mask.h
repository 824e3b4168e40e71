// Pointwise multiplication by a mask (a 0/1 sampling pattern or any real weights). The operator is
// diagonal and therefore self-adjoint: apply and adjoint are the same call.
#pragma once

#include <cstdint>

namespace podm::numerics {

// y[p, k] = mask[k] * x[p, k] for every one of `planes` planes of `planeSize` values: one mask
// plane broadcast over all planes. x and y may be the same array.
void applyMask(const float* x, const float* mask, float* y, int64_t planes, int64_t planeSize);

} // namespace podm::numerics
