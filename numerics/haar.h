// Orthonormal 2-D Haar wavelet transform, multi-level, and its inverse (which is its adjoint).
//
// Layout (Mallat pyramid, in place in an h x w plane): one level maps each 2x2 block
//   [a b]
//   [c d]
// at block position (i, j) to four coefficients
//   approximation (a + b + c + d)/2                      -> (i,          j)
//   horizontal detail (a - b + c - d)/2 (x-differences)  -> (i,          j + w/2)
//   vertical detail   (a + b - c - d)/2 (y-differences)  -> (i + h/2,    j)
//   diagonal detail   (a - b - c + d)/2                  -> (i + h/2,    j + w/2)
// Level l+1 transforms the approximation quadrant of level l. The 4x4 block matrix is orthogonal,
// so the transform preserves norms and its inverse is its transpose.
#pragma once

#include <cstdint>

namespace podm::numerics {

// Throws std::invalid_argument unless levels >= 1 and h, w are divisible by 2^levels.
void checkHaarSize(int64_t h, int64_t w, int levels);

// y = W x for every h x w plane. x and y may be the same array.
void haarForward(const float* x, float* y, int64_t planes, int64_t h, int64_t w, int levels);
// x = W' y = W^-1 y. x and y may be the same array.
void haarInverse(const float* y, float* x, int64_t planes, int64_t h, int64_t w, int levels);

} // namespace podm::numerics
