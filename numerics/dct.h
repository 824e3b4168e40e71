// Orthonormal 2-D DCT-II (MATLAB's dct2) and its inverse, the orthonormal DCT-III (idct2), on
// FFTW's REDFT10 / REDFT01 with the orthonormal scaling applied in one pass:
//   X[k,l] = c_k c_l sum_{i,j} x[i,j] cos(pi (2i+1) k / 2h) cos(pi (2j+1) l / 2w),
//   c_0 = sqrt(1/n), c_k = sqrt(2/n) (k > 0).
// The transform matrix is orthogonal, so the inverse is the adjoint.
#pragma once

#include <cstdint>

namespace podm::numerics {

// y = DCT-II(x) for every h x w plane. x and y must not overlap.
void dctForward(const float* x, float* y, int64_t planes, int64_t h, int64_t w);
// x = DCT-III(y), the inverse and adjoint of dctForward. x and y must not overlap.
void dctInverse(const float* y, float* x, int64_t planes, int64_t h, int64_t w);

} // namespace podm::numerics
