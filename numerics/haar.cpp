// Multi-level orthonormal Haar: one 2x2-block butterfly per level, through a scratch plane.
#include "numerics/haar.h"

#include "numerics/scratch.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace podm::numerics {
namespace {

// One row pair of the forward butterfly. A separate function with restrict parameters because
// GCC vectorizes the stride-2 loads here but not when the same loop sits inline with local
// restrict pointers ("complicated access pattern").
void forwardRows(const float* __restrict top, const float* __restrict bottom,
                 float* __restrict approx, float* __restrict horizontal, float* __restrict vertical,
                 float* __restrict diagonal, int64_t half) {
  for (int64_t j = 0; j < half; ++j) {
    float a = top[2 * j], b = top[2 * j + 1], c = bottom[2 * j], d = bottom[2 * j + 1];
    approx[j] = 0.5f * (a + b + c + d);
    horizontal[j] = 0.5f * (a - b + c - d);
    vertical[j] = 0.5f * (a + b - c - d);
    diagonal[j] = 0.5f * (a - b - c + d);
  }
}

void inverseRows(const float* __restrict approx, const float* __restrict horizontal,
                 const float* __restrict vertical, const float* __restrict diagonal,
                 float* __restrict top, float* __restrict bottom, int64_t half) {
  for (int64_t j = 0; j < half; ++j) {
    float s = approx[j], x = horizontal[j], y = vertical[j], z = diagonal[j];
    top[2 * j] = 0.5f * (s + x + y + z);
    top[2 * j + 1] = 0.5f * (s - x + y - z);
    bottom[2 * j] = 0.5f * (s + x - y - z);
    bottom[2 * j + 1] = 0.5f * (s - x - y + z);
  }
}

// Forward butterfly on the top-left rh x rw region of a plane with row stride `stride`, through
// `tmp` (rh x rw) because every output quadrant overlaps input rows still to be read.
void forwardLevel(float* plane, int64_t stride, int64_t rh, int64_t rw, float* tmp) {
  const int64_t hh = rh / 2, hw = rw / 2;
  for (int64_t i = 0; i < hh; ++i) {
    const float* top = plane + 2 * i * stride;
    float* approx = tmp + i * rw;
    float* vertical = tmp + (i + hh) * rw;
    forwardRows(top, top + stride, approx, approx + hw, vertical, vertical + hw, hw);
  }
  for (int64_t i = 0; i < rh; ++i)
    std::memcpy(plane + i * stride, tmp + i * rw, static_cast<size_t>(rw) * sizeof(float));
}

void inverseLevel(float* plane, int64_t stride, int64_t rh, int64_t rw, float* tmp) {
  const int64_t hh = rh / 2, hw = rw / 2;
  for (int64_t i = 0; i < hh; ++i) {
    const float* approx = plane + i * stride;
    const float* vertical = plane + (i + hh) * stride;
    float* top = tmp + 2 * i * rw;
    inverseRows(approx, approx + hw, vertical, vertical + hw, top, top + rw, hw);
  }
  for (int64_t i = 0; i < rh; ++i)
    std::memcpy(plane + i * stride, tmp + i * rw, static_cast<size_t>(rw) * sizeof(float));
}

} // namespace

void checkHaarSize(int64_t h, int64_t w, int levels) {
  if (levels < 1 || levels > 30)
    throw std::invalid_argument("haar: levels must be between 1 and 30, got " +
                                std::to_string(levels));
  const int64_t block = int64_t{1} << levels;
  if (h <= 0 || w <= 0 || h % block != 0 || w % block != 0)
    throw std::invalid_argument("haar(levels=" + std::to_string(levels) + "): image size " +
                                std::to_string(h) + "x" + std::to_string(w) +
                                " must be divisible by 2^levels = " + std::to_string(block));
}

void haarForward(const float* x, float* y, int64_t planes, int64_t h, int64_t w, int levels) {
  checkHaarSize(h, w, levels);
  float* tmp = scratchFloats(ScratchSlot::Haar, static_cast<size_t>(h * w));
  if (x != y)
    std::memcpy(y, x, static_cast<size_t>(planes * h * w) * sizeof(float));
  for (int64_t p = 0; p < planes; ++p)
    for (int l = 0; l < levels; ++l)
      forwardLevel(y + p * h * w, w, h >> l, w >> l, tmp);
}

void haarInverse(const float* y, float* x, int64_t planes, int64_t h, int64_t w, int levels) {
  checkHaarSize(h, w, levels);
  float* tmp = scratchFloats(ScratchSlot::Haar, static_cast<size_t>(h * w));
  if (x != y)
    std::memcpy(x, y, static_cast<size_t>(planes * h * w) * sizeof(float));
  for (int64_t p = 0; p < planes; ++p)
    for (int l = levels - 1; l >= 0; --l)
      inverseLevel(x + p * h * w, w, h >> l, w >> l, tmp);
}

} // namespace podm::numerics
