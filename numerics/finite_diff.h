// Forward finite differences (the discrete gradient of TV models) and their exact adjoint, the
// negative divergence.
//
// For each input plane p the output holds two planes: 2p = x-differences, 2p+1 = y-differences:
//   dx[i,j] = x[i,j+1] - x[i,j],  dy[i,j] = x[i+1,j] - x[i,j]
// At the last column / row:
//   Periodic: wrap around (dx[i,w-1] = x[i,0] - x[i,w-1]);
//   Neumann:  zero (dx[i,w-1] = 0, dy[h-1,j] = 0), the usual choice for total variation.
#pragma once

#include <cstdint>

namespace podm::numerics {

enum class DiffBoundary { Periodic, Neumann };

// g (2*planes planes) = grad x (planes planes of h x w). x and g must not overlap.
void gradient(const float* x, float* g, int64_t planes, int64_t h, int64_t w,
              DiffBoundary boundary);

// x = grad' g = -div g. x and g must not overlap.
void gradientAdjoint(const float* g, float* x, int64_t planes, int64_t h, int64_t w,
                     DiffBoundary boundary);

} // namespace podm::numerics
