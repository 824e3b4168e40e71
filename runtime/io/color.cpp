// BT.601 YCbCr in MATLAB's rgb2ycbcr convention, and the split/merge of luma for restoration.
#include "runtime/io/color.h"

#include "numerics/bicubic.h"

#include <algorithm>
#include <stdexcept>

namespace podm::io {
namespace {

// Rows: Y, Cb, Cr as functions of R, G, B in [0,1] (MATLAB's T / 255), plus the offsets.
constexpr double kT[3][3] = {{65.481 / 255, 128.553 / 255, 24.966 / 255},
                             {-37.797 / 255, -74.203 / 255, 112.0 / 255},
                             {112.0 / 255, -93.786 / 255, -18.214 / 255}};
constexpr double kOffset[3] = {16.0 / 255, 128.0 / 255, 128.0 / 255};

// The exact inverse of kT (by cofactors, in double), computed once.
struct Inverse {
  double m[3][3];
  Inverse() {
    const auto& a = kT;
    double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                 a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                 a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
        m[i][j] = (a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0]) / det;
      }
  }
};
const Inverse& inverse() {
  static const Inverse inv;
  return inv;
}

void requireRgb(const Tensor& t, const char* what) {
  const Shape& s = t.shape();
  if (t.empty() || s.n != 1 || s.c != 3)
    throw std::invalid_argument(std::string(what) + ": expected a 1x3xHxW image, got " + s.str());
}

Tensor plane(const Tensor& t, int64_t c) {
  const Shape& s = t.shape();
  Tensor out = Tensor::image(s.h, s.w);
  std::copy_n(t.data() + c * s.h * s.w, s.h * s.w, out.data());
  return out;
}

} // namespace

Tensor rgbToYCbCr(const Tensor& rgb) {
  requireRgb(rgb, "rgbToYCbCr");
  Tensor out(rgb.shape());
  int64_t n = rgb.shape().plane();
  const float* in = rgb.data();
  float* o = out.data();
  for (int64_t i = 0; i < n; ++i) {
    double r = in[i], g = in[n + i], b = in[2 * n + i];
    for (int k = 0; k < 3; ++k)
      o[k * n + i] = float(kOffset[k] + kT[k][0] * r + kT[k][1] * g + kT[k][2] * b);
  }
  return out;
}

Tensor yCbCrToRgb(const Tensor& ycbcr) {
  requireRgb(ycbcr, "yCbCrToRgb");
  const auto& m = inverse().m;
  Tensor out(ycbcr.shape());
  int64_t n = ycbcr.shape().plane();
  const float* in = ycbcr.data();
  float* o = out.data();
  for (int64_t i = 0; i < n; ++i) {
    double v[3] = {in[i] - kOffset[0], in[n + i] - kOffset[1], in[2 * n + i] - kOffset[2]};
    for (int k = 0; k < 3; ++k)
      o[k * n + i] = float(m[k][0] * v[0] + m[k][1] * v[1] + m[k][2] * v[2]);
  }
  return out;
}

LumaSplit splitLuma(const Tensor& image) {
  const Shape& s = image.shape();
  if (image.empty() || s.n != 1 || (s.c != 1 && s.c != 3))
    throw std::invalid_argument("splitLuma: expected 1x1xHxW or 1x3xHxW, got " + s.str());
  LumaSplit out;
  if (s.c == 1) {
    out.y = image.clone();
    return out;
  }
  Tensor ycc = rgbToYCbCr(image);
  out.y = plane(ycc, 0);
  out.cb = plane(ycc, 1);
  out.cr = plane(ycc, 2);
  return out;
}

Tensor mergeLuma(const Tensor& y, const LumaSplit& split) {
  const Shape& s = y.shape();
  if (y.empty() || s.n != 1 || s.c != 1)
    throw std::invalid_argument("mergeLuma: expected a 1x1xHxW luma, got " + s.str());
  if (!split.color())
    return y.clone();
  Tensor ycc(Shape{1, 3, s.h, s.w});
  int64_t n = s.h * s.w;
  std::copy_n(y.data(), n, ycc.data());
  const Shape& cs = split.cb.shape();
  if (cs.h == s.h && cs.w == s.w) {
    std::copy_n(split.cb.data(), n, ycc.data() + n);
    std::copy_n(split.cr.data(), n, ycc.data() + 2 * n);
  } else {
    // Scale as the SR setting defines it (output / input); non-integer ratios still resize.
    double scale = double(s.h) / double(cs.h);
    numerics::BicubicResize2d resize(cs.h, cs.w, s.h, s.w, scale);
    resize.apply(split.cb.data(), ycc.data() + n, 1);
    resize.apply(split.cr.data(), ycc.data() + 2 * n, 1);
  }
  Tensor rgb = yCbCrToRgb(ycc);
  float* d = rgb.data();
  for (int64_t i = 0; i < 3 * n; ++i)
    d[i] = std::clamp(d[i], 0.0f, 1.0f);
  return rgb;
}

Tensor luma(const Tensor& image) {
  if (!image.empty() && image.shape().c == 1)
    return image;
  return splitLuma(image).y;
}

} // namespace podm::io
