// Padding and its adjoint through 1-D tap tables (numerics/pad.h).
#include "numerics/pad.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace podm::numerics {

std::optional<PadMode> parsePadMode(std::string_view text) {
  if (text == "zero")
    return PadMode::Zero;
  if (text == "replicate")
    return PadMode::Replicate;
  if (text == "smooth")
    return PadMode::Smooth;
  return std::nullopt;
}

const char* padModeName(PadMode mode) {
  switch (mode) {
  case PadMode::Zero:
    return "zero";
  case PadMode::Replicate:
    return "replicate";
  case PadMode::Smooth:
    return "smooth";
  }
  return "?";
}

std::vector<PadTap> padTaps(int64_t n, int64_t before, int64_t after, PadMode mode) {
  if (n < 1 || before < 0 || after < 0)
    throw std::invalid_argument("pad: a signal of length >= 1 and non-negative pads are needed");
  const int64_t gap = before + after;
  std::vector<PadTap> taps(static_cast<size_t>(n + gap));
  auto clampIndex = [&](int64_t i) { return std::clamp<int64_t>(i, 0, n - 1); };
  for (int64_t t = 0; t < n + gap; ++t) {
    PadTap& tap = taps[static_cast<size_t>(t)];
    const int64_t p = t - before; // position in the signal's own coordinates
    if (p >= 0 && p < n) {
      tap.i[0] = p;
      tap.w[0] = 1.f;
      continue;
    }
    switch (mode) {
    case PadMode::Zero:
      break;
    case PadMode::Replicate:
      tap.i[0] = clampIndex(p);
      tap.w[0] = 1.f;
      break;
    case PadMode::Smooth: {
      // q = 1..gap: the position in the gap that follows the last sample (the pad after the
      // signal, then, wrapping around, the pad before it).
      const int64_t q = p >= n ? p - n + 1 : after + before + p + 1;
      const double s = static_cast<double>(q) / static_cast<double>(gap + 1);
      const double fromEnd = std::cos(0.5 * std::numbers::pi * s);
      tap.i[0] = n - 1;
      tap.i[1] = 0;
      tap.w[0] = static_cast<float>(fromEnd * fromEnd);
      tap.w[1] = 1.f - tap.w[0];
      break;
    }
    }
  }
  return taps;
}

Padding2d::Padding2d(int64_t h, int64_t w, PadSides sides, PadMode mode)
    : h_(h), w_(w), sides_(sides), mode_(mode), rows_(padTaps(h, sides.top, sides.bottom, mode)),
      cols_(padTaps(w, sides.left, sides.right, mode)) {
}

// clang-format off
// y[r][c] = Σ_a Σ_b rows[r].w[a] cols[c].w[b] x[rows[r].i[a]][cols[c].i[b]]
// clang-format on
void Padding2d::apply(const float* x, float* y, int64_t planes) const {
  const int64_t h = h_, w = w_, H = paddedH(), W = paddedW();
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * h * w;
    float* yp = y + p * H * W;
    for (int64_t r = 0; r < H; ++r) {
      const PadTap& tr = rows_[static_cast<size_t>(r)];
      float* yr = yp + r * W;
      const float* x0 = xp + tr.i[0] * w;
      const float* x1 = xp + tr.i[1] * w;
      if (mode_ == PadMode::Zero) { // a row copied into place, or a row of zeros
        std::fill(yr, yr + W, 0.f);
        if (tr.w[0] == 1.f)
          std::copy(x0, x0 + w, yr + sides_.left);
        continue;
      }
      for (int64_t c = 0; c < W; ++c) {
        const PadTap& tc = cols_[static_cast<size_t>(c)];
        const float a = tc.w[0] * x0[tc.i[0]] + tc.w[1] * x0[tc.i[1]];
        const float b = tc.w[0] * x1[tc.i[0]] + tc.w[1] * x1[tc.i[1]];
        yr[c] = tr.w[0] * a + tr.w[1] * b;
      }
    }
  }
}

void Padding2d::adjoint(const float* y, float* x, int64_t planes) const {
  const int64_t h = h_, w = w_, H = paddedH(), W = paddedW();
  for (int64_t p = 0; p < planes; ++p) {
    const float* yp = y + p * H * W;
    float* xp = x + p * h * w;
    if (mode_ == PadMode::Zero) { // the crop
      for (int64_t r = 0; r < h; ++r) {
        const float* src = yp + (r + sides_.top) * W + sides_.left;
        std::copy(src, src + w, xp + r * w);
      }
      continue;
    }
    std::fill(xp, xp + h * w, 0.f);
    for (int64_t r = 0; r < H; ++r) {
      const PadTap& tr = rows_[static_cast<size_t>(r)];
      const float* yr = yp + r * W;
      float* x0 = xp + tr.i[0] * w;
      float* x1 = xp + tr.i[1] * w;
      for (int64_t c = 0; c < W; ++c) {
        const PadTap& tc = cols_[static_cast<size_t>(c)];
        const float v = yr[c];
        for (int b = 0; b < 2; ++b) {
          x0[tc.i[b]] += tr.w[0] * tc.w[b] * v;
          x1[tc.i[b]] += tr.w[1] * tc.w[b] * v;
        }
      }
    }
  }
}

} // namespace podm::numerics
