// Decimation by an integer factor (keep every s-th pixel in both axes, starting at (0,0)) and its
// adjoint, zero-filling upsampling. Together they are the S / S' of the PODM super-resolution
// model.
#pragma once

#include <cstdint>

namespace podm::numerics {

// Output length of decimating n samples by s: ceil(n / s) (samples 0, s, 2s, ... < n).
inline int64_t decimatedLength(int64_t n, int64_t s) {
  return (n + s - 1) / s;
}

// y[i,j] = x[i*s, j*s] for every plane; x is h x w, y is decimatedLength(h,s) x
// decimatedLength(w,s).
void decimate(const float* x, float* y, int64_t planes, int64_t h, int64_t w, int64_t s);

// The adjoint of decimate: y (h x w) is zero except y[i*s, j*s] = x[i,j], where x is
// decimatedLength(h,s) x decimatedLength(w,s). h and w are the full-resolution sizes.
void upsampleZeroFill(const float* x, float* y, int64_t planes, int64_t h, int64_t w, int64_t s);

} // namespace podm::numerics
