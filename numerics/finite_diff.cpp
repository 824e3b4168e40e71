// Forward differences and negative divergence, row by row so every inner loop is contiguous; rows
// in bands on every core for large planes (numerics/parallel.h).
#include "numerics/finite_diff.h"

#include "numerics/parallel.h"

namespace podm::numerics {
namespace {

// Rows [i0, i1) of one plane; a row reads its own and the next (or, wrapped, the first) row.
void gradientPlane(const float* x, float* dx, float* dy, int64_t h, int64_t w,
                   DiffBoundary boundary, int64_t i0, int64_t i1) {
  const bool periodic = boundary == DiffBoundary::Periodic;
  for (int64_t i = i0; i < i1; ++i) {
    const float* __restrict row = x + i * w;
    float* __restrict outX = dx + i * w;
    for (int64_t j = 0; j + 1 < w; ++j)
      outX[j] = row[j + 1] - row[j];
    outX[w - 1] = periodic ? row[0] - row[w - 1] : 0.0f;

    float* __restrict outY = dy + i * w;
    if (i + 1 < h) {
      const float* __restrict next = row + w;
      for (int64_t j = 0; j < w; ++j)
        outY[j] = next[j] - row[j];
    } else if (periodic) {
      for (int64_t j = 0; j < w; ++j)
        outY[j] = x[j] - row[j];
    } else {
      for (int64_t j = 0; j < w; ++j)
        outY[j] = 0.0f;
    }
  }
}

// Transpose of gradientPlane: each difference g = x[b] - x[a] sends +g to b and -g to a.
// Rows [i0, i1) of one plane; a row reads its own and the previous (or, wrapped, the last) row.
void gradientAdjointPlane(const float* dx, const float* dy, float* x, int64_t h, int64_t w,
                          DiffBoundary boundary, int64_t i0, int64_t i1) {
  const bool periodic = boundary == DiffBoundary::Periodic;
  for (int64_t i = i0; i < i1; ++i) {
    const float* __restrict gx = dx + i * w;
    float* __restrict out = x + i * w;
    // x-part: out[j] = gx[j-1] - gx[j], with the wrap or the zeroed last column.
    if (periodic) {
      out[0] = gx[w - 1] - gx[0];
      for (int64_t j = 1; j < w; ++j)
        out[j] = gx[j - 1] - gx[j];
    } else {
      if (w == 1) {
        out[0] = 0.0f;
      } else {
        out[0] = -gx[0];
        for (int64_t j = 1; j + 1 < w; ++j)
          out[j] = gx[j - 1] - gx[j];
        out[w - 1] = gx[w - 2];
      }
    }
    // y-part: out[j] += gy[i-1,j] - gy[i,j].
    const float* __restrict gy = dy + i * w;
    const bool lastRow = i + 1 == h;
    const float* __restrict above =
        i > 0 ? dy + (i - 1) * w : (periodic ? dy + (h - 1) * w : nullptr);
    if (!periodic && lastRow) {
      if (above)
        for (int64_t j = 0; j < w; ++j)
          out[j] += above[j];
    } else if (above) {
      for (int64_t j = 0; j < w; ++j)
        out[j] += above[j] - gy[j];
    } else {
      for (int64_t j = 0; j < w; ++j)
        out[j] -= gy[j];
    }
  }
}

} // namespace

void gradient(const float* x, float* g, int64_t planes, int64_t h, int64_t w,
              DiffBoundary boundary) {
  const int64_t plane = h * w;
  for (int64_t p = 0; p < planes; ++p)
    parallelPasses(h, plane, [&](int64_t i0, int64_t i1) {
      gradientPlane(x + p * plane, g + 2 * p * plane, g + (2 * p + 1) * plane, h, w, boundary, i0,
                    i1);
    });
}

void gradientAdjoint(const float* g, float* x, int64_t planes, int64_t h, int64_t w,
                     DiffBoundary boundary) {
  const int64_t plane = h * w;
  for (int64_t p = 0; p < planes; ++p)
    parallelPasses(h, plane, [&](int64_t i0, int64_t i1) {
      gradientAdjointPlane(g + 2 * p * plane, g + (2 * p + 1) * plane, x + p * plane, h, w,
                           boundary, i0, i1);
    });
}

} // namespace podm::numerics
