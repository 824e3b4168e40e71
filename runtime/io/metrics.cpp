// PSNR, SSIM (Wang et al. 2004, separable Gaussian filtering over the valid region) and the
// relative errors of the paper. Accumulation is in double so that large images do not lose digits.
#include "runtime/io/metrics.h"

#include "numerics/ssim.h"
#include "runtime/io/color.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

namespace podm::io {
namespace {

struct View {
  const float* d;
  int64_t stride, h, w; // the shaved region
};

View shaved(const Tensor& t, int shave, const char* what) {
  const Shape& s = t.shape();
  if (t.empty() || s.n != 1 || s.c != 1)
    throw std::invalid_argument(std::string(what) +
                                ": expected 1x1xHxW images (use io::luma), got " + s.str());
  if (shave < 0 || 2 * int64_t(shave) >= s.h || 2 * int64_t(shave) >= s.w)
    throw std::invalid_argument(std::string(what) + ": shave " + std::to_string(shave) +
                                " leaves nothing of a " + s.str() + " image");
  return {t.data() + shave * s.w + shave, s.w, s.h - 2 * shave, s.w - 2 * shave};
}

void sameShape(const Tensor& a, const Tensor& b, const char* what) {
  if (!(a.shape() == b.shape()))
    throw std::invalid_argument(std::string(what) + ": shapes differ (" + a.shape().str() + " vs " +
                                b.shape().str() + ")");
}

double norm2(const Tensor& t) {
  double s = 0;
  const float* d = t.data();
  for (int64_t i = 0; i < t.numel(); ++i)
    s += double(d[i]) * d[i];
  return std::sqrt(s);
}

double diffNorm(const Tensor& a, const Tensor& b) {
  double s = 0;
  const float* x = a.data();
  const float* y = b.data();
  for (int64_t i = 0; i < a.numel(); ++i) {
    double e = double(x[i]) - y[i];
    s += e * e;
  }
  return std::sqrt(s);
}

} // namespace

void ssimWindow(double window[121]) {
  double g[11];
  numerics::ssimGaussian(
      g); // the 2-D window is separable: fspecial's normalised product equals g g^T
  for (int i = 0; i < 11; ++i)
    for (int j = 0; j < 11; ++j)
      window[i * 11 + j] = g[i] * g[j];
}

double psnr(const Tensor& x, const Tensor& ref, int shave, double dataRange) {
  sameShape(x, ref, "psnr");
  View a = shaved(x, shave, "psnr"), b = shaved(ref, shave, "psnr");
  double sse = 0;
  for (int64_t y = 0; y < a.h; ++y)
    for (int64_t i = 0; i < a.w; ++i) {
      double e = double(a.d[y * a.stride + i]) - b.d[y * b.stride + i];
      sse += e * e;
    }
  double mse = sse / double(a.h * a.w);
  if (mse == 0)
    return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(dataRange * dataRange / mse);
}

double ssim(const Tensor& x, const Tensor& ref, int shave, double dataRange) {
  sameShape(x, ref, "ssim");
  View a = shaved(x, shave, "ssim"), b = shaved(ref, shave, "ssim");
  if (a.h < 11 || a.w < 11)
    throw std::invalid_argument("ssim: image smaller than the 11x11 window after shaving");
  numerics::SsimScratch scratch;
  scratch.resize(a.h, a.w);
  return numerics::ssimMean(a.d, a.stride, b.d, b.stride, a.h, a.w, dataRange, scratch);
}

double reconstructionError(const Tensor& x, const Tensor& ref) {
  sameShape(x, ref, "reconstructionError");
  return diffNorm(x, ref) / norm2(ref);
}

double relativeChange(const Tensor& xNew, const Tensor& xOld) {
  sameShape(xNew, xOld, "relativeChange");
  return diffNorm(xNew, xOld) / norm2(xOld);
}

Quality measure(const Tensor& x, const Tensor& ref, int shave) {
  sameShape(x, ref, "measure");
  Quality q;
  Tensor lx = luma(x), lr = luma(ref);
  q.psnr = psnr(lx, lr, shave);
  const Shape& s = lx.shape();
  q.ssim = (s.h - 2 * shave >= 11 && s.w - 2 * shave >= 11)
               ? ssim(lx, lr, shave)
               : std::numeric_limits<double>::quiet_NaN();
  q.reconError = reconstructionError(x, ref);
  return q;
}

namespace {

// x sampled at (p + ty, q + tx) for every pixel (p, q), bilinearly; the last row and column are
// repeated (their weight is 0 at the shifts measureAligned asks for near them).
Tensor resampled(const Tensor& x, float ty, float tx) {
  const int64_t h = x.shape().h, w = x.shape().w;
  Tensor out = Tensor::image(h, w);
  for (int64_t y = 0; y < h; ++y) {
    const float* r0 = x.data() + y * w;
    const float* r1 = x.data() + std::min(y + 1, h - 1) * w;
    float* o = out.data() + y * w;
    for (int64_t i = 0; i < w; ++i) {
      const int64_t c1 = std::min(i + 1, w - 1);
      const float top = r0[i] + tx * (r0[c1] - r0[i]);
      const float bottom = r1[i] + tx * (r1[c1] - r1[i]);
      o[i] = top + ty * (bottom - top);
    }
  }
  return out;
}

// The h x w window of `a` whose corner is (oy, ox).
Tensor window(const Tensor& a, int64_t oy, int64_t ox, int64_t h, int64_t w) {
  Tensor out = Tensor::image(h, w);
  for (int64_t y = 0; y < h; ++y)
    std::copy_n(a.data() + (oy + y) * a.shape().w + ox, w, out.data() + y * w);
  return out;
}

// Sum of squared differences between that window of `a` and r (as psnr() sums them).
double windowSse(const Tensor& a, int64_t oy, int64_t ox, const Tensor& r) {
  const int64_t h = r.shape().h, w = r.shape().w;
  double sse = 0;
  for (int64_t y = 0; y < h; ++y) {
    const float* p = a.data() + (oy + y) * a.shape().w + ox;
    const float* q = r.data() + y * w;
    for (int64_t i = 0; i < w; ++i) {
      const double e = double(p[i]) - q[i];
      sse += e * e;
    }
  }
  return sse;
}

// floor(k / n) for n > 0.
int64_t floorDiv(int64_t k, int64_t n) {
  return k >= 0 ? k / n : -((-k + n - 1) / n);
}

} // namespace

AlignedQuality measureAligned(const Tensor& x, const Tensor& ref, int shave, int maxShift,
                              int subdivisions) {
  AlignedQuality best;
  if (maxShift <= 0) {
    static_cast<Quality&>(best) = measure(x, ref, shave);
    return best;
  }
  if (subdivisions < 1)
    throw std::invalid_argument("measureAligned: subdivisions must be 1 or more");
  sameShape(x, ref, "measureAligned");
  const Tensor lx = luma(x), lr = luma(ref);
  // The reference's shaved window, moved inward only as far as the shifts need x's pixels: with
  // shave >= maxShift this is Levin et al.'s window (ref shaved, x sampled in its border).
  const int64_t border = alignedBorder(shave, maxShift), h = lx.shape().h - 2 * border,
                w = lx.shape().w - 2 * border;
  if (h < 1 || w < 1)
    throw std::invalid_argument("measureAligned: a border of " + std::to_string(border) +
                                " pixels leaves nothing of the image");
  const Tensor r = window(lr, border, border, h, w);
  // Shifts are k / n (n = subdivisions) for whole k in [-maxShift n, maxShift n]: whole shifts
  // are exact copies. Shift k = n floor(k / n) + f samples x resampled by the fraction f / n at
  // the whole offset floor(k / n), so each of the n^2 resamplings is made once. Ties go to the
  // smallest (ky, kx), whatever the loop order.
  const int64_t n = subdivisions, steps = int64_t(maxShift) * n;
  double bestSse = std::numeric_limits<double>::infinity();
  int64_t bestY = 0, bestX = 0;
  for (int64_t fy = 0; fy < n; ++fy)
    for (int64_t fx = 0; fx < n; ++fx) {
      const Tensor moved = resampled(lx, float(fy) / float(n), float(fx) / float(n));
      for (int64_t ky = -steps; ky <= steps; ++ky) {
        if (ky - n * floorDiv(ky, n) != fy)
          continue;
        for (int64_t kx = -steps; kx <= steps; ++kx) {
          if (kx - n * floorDiv(kx, n) != fx)
            continue;
          const double sse =
              windowSse(moved, border + floorDiv(ky, n), border + floorDiv(kx, n), r);
          if (sse < bestSse || (sse == bestSse && std::pair(ky, kx) < std::pair(bestY, bestX)))
            bestSse = sse, bestY = ky, bestX = kx;
        }
      }
    }
  best.dy = double(bestY) / double(n), best.dx = double(bestX) / double(n);
  const Tensor moved = resampled(lx, float(bestY - n * floorDiv(bestY, n)) / float(n),
                                 float(bestX - n * floorDiv(bestX, n)) / float(n));
  const Tensor aligned =
      window(moved, border + floorDiv(bestY, n), border + floorDiv(bestX, n), h, w);
  const double mse = bestSse / double(h * w);
  best.psnr = mse == 0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(1.0 / mse);
  best.ssim = h >= 11 && w >= 11 ? ssim(aligned, r) : std::numeric_limits<double>::quiet_NaN();
  best.reconError = reconstructionError(aligned, r);
  return best;
}

int64_t alignedBorder(int shave, int maxShift) {
  return std::max<int64_t>(shave, maxShift);
}

std::optional<int> alignSubdivisions(double step) {
  if (!(step > 0 && step <= 1))
    return std::nullopt;
  const double n = std::round(1 / step);
  if (n < 1 || n > 16 || std::abs(step * n - 1) > 1e-9)
    return std::nullopt;
  return int(n);
}

Tensor quantize(const Tensor& image, int bits) {
  if (bits < 1 || bits > 16)
    throw std::invalid_argument("quantize: bits must be in 1..16");
  Tensor out = image.clone();
  double levels = double((1 << bits) - 1);
  float* d = out.data();
  for (int64_t i = 0; i < out.numel(); ++i) {
    double v = std::isnan(d[i]) ? 0.0 : std::clamp(double(d[i]), 0.0, 1.0);
    d[i] = float(std::round(v * levels) / levels);
  }
  return out;
}

} // namespace podm::io
