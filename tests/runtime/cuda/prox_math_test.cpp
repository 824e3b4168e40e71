// The prox math of runtime/prox_math.h, which the CPU proxes (stdlib/prox) and the CUDA kernels
// (runtime/cuda/prox.cu) both call, checked on the host against independent closed forms: soft
// and hard thresholding, box projection, group shrinkage, GST's threshold and fixed point, the
// hardthre_box selection against a sort, and TV's FGP, run phase by phase as the device runs it,
// against an independent dual solver in double. So every machine tests the arithmetic the GPU
// runs; the stdlib's own tests (tests/stdlib/prox) check the same functions through the CPU.
#include "prox_reference.h"
#include "runtime/prox_math.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <doctest/doctest.h>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

using namespace podm;
using namespace podm::testing;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<float> randomValues(size_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, scale);
  std::vector<float> v(n);
  for (float& x : v)
    x = normal(rng);
  return v;
}

// Values where the selects and comparisons of the functions matter.
const std::vector<float> kSpecial = {0.f,  -0.f,   1.f,  -1.f,  0.5f,  -0.5f, 2.f,
                                     -2.f, 1e-30f, kInf, -kInf, 3e38f, kNaN};

bool sameBits(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

} // namespace

TEST_CASE("prox math: max, min and the box projection follow std::max / std::min, NaN included") {
  for (float a : kSpecial)
    for (float b : kSpecial) {
      // The device's select form, spelled as the standard defines max and min.
      const float max = a < b ? b : a, min = b < a ? b : a;
      CHECK(sameBits(proxmath::maxOf(a, b), max));
      CHECK(sameBits(proxmath::minOf(a, b), min));
    }
  const float lo = -0.5f, hi = 2.f;
  for (float x : kSpecial) {
    const float clamped = proxmath::clampToBox(x, lo, hi);
    if (std::isnan(x))
      CHECK(std::isnan(clamped));
    else
      CHECK(clamped == std::clamp(x, lo, hi));
    // An unbounded box leaves every value alone (the TV kernels always clamp).
    CHECK(sameBits(proxmath::clampToBox(x, -kInf, kInf), x));
  }
}

TEST_CASE("prox math: soft thresholding, hard thresholding and nonneg are their closed forms") {
  const std::vector<float> v = randomValues(4097, 1.5f, 1);
  for (float gamma : {0.f, 0.05f, 0.7f, 3.f}) {
    const float cutoff2 = proxmath::l0CutoffSquared(gamma);
    for (float x : v) {
      const float soft = x > gamma ? x - gamma : x < -gamma ? x + gamma : 0.f;
      CHECK(proxmath::softThreshold(x, gamma) == soft);
      // Keeping x costs 1, zeroing it x^2 / (2 gamma): keep when |x| > sqrt(2 gamma); skip values
      // within rounding of the cut.
      const double cut = std::sqrt(2.0 * gamma);
      if (std::fabs(std::fabs(double(x)) - cut) > 1e-6 * (1 + cut))
        CHECK(proxmath::hardThreshold(x, cutoff2) == (std::fabs(double(x)) > cut ? x : 0.f));
      CHECK(proxmath::nonnegative(x) == (x > 0 ? x : 0.f));
    }
  }
  CHECK(std::signbit(proxmath::softThreshold(-0.25f, 0.5f))); // sign kept at zero, as copysign does
  CHECK(std::isnan(proxmath::softThreshold(kNaN, 0.5f)));
  CHECK(std::isnan(proxmath::nonnegative(kNaN)));
}

TEST_CASE("prox math: hardthre_box with a threshold keeps the better of 0 and the projection") {
  const std::vector<float> v = randomValues(4097, 2.f, 2);
  struct Box {
    float lo, hi;
  };
  for (Box box : {Box{-1.f, 3.f}, Box{0.2f, 1.f}, Box{-2.f, -0.5f}})
    for (float gamma : {0.1f, 1.f})
      for (float t : {0.f, 0.6f, 1.5f}) {
        const float minimumGain = proxmath::hardThreBoxMinimumGain(gamma, t);
        for (float x : v) {
          // Cost of u, times 2 gamma: (u - x)^2 + gamma t^2 [u != 0]; u is 0 or the projection c.
          const double c = std::clamp(double(x), double(box.lo), double(box.hi));
          const double costZero = double(x) * x;
          const double costKeep = (c - x) * (c - x) + double(gamma) * t * t;
          if (std::fabs(costZero - costKeep) < 1e-5 * (1 + costZero) || std::fabs(c) < 1e-6)
            continue; // a tie within rounding, or a projection at zero
          const float expected = costKeep < costZero ? static_cast<float>(c) : 0.f;
          CHECK(proxmath::hardThreBoxWithThreshold(x, box.lo, box.hi, minimumGain) == expected);
        }
      }
}

namespace {

// The projection onto {at most `count` nonzeros, each in [lo, hi]} by sorting: rank entries by
// the squared distance they save, c (2x - c) in double, larger first, ties in index order; keep
// the first `count` that save something. A NaN is passed on.
std::vector<float> countProxBySort(const std::vector<float>& v, float lo, float hi, int64_t count) {
  std::vector<double> saved(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const float c = std::clamp(v[i], lo, hi);
    const float gain = c * (2.f * v[i] - c); // in float: ties must stay ties
    saved[i] = std::isnan(gain) ? -INFINITY : gain;
  }
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return saved[a] > saved[b]; });
  std::vector<float> out(v.size(), 0.f);
  for (size_t k = 0; k < order.size() && static_cast<int64_t>(k) < count; ++k)
    if (saved[order[k]] > 0)
      out[order[k]] = std::clamp(v[order[k]], lo, hi);
  for (size_t i = 0; i < v.size(); ++i)
    if (std::isnan(v[i]))
      out[i] = v[i];
  return out;
}

} // namespace

TEST_CASE("prox math: hardthre_box's radix selection keeps what a sort keeps, ties included") {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> level(-8, 8);
  for (size_t n : {1u, 7u, 64u, 513u, 3000u})
    for (bool quantized : {false, true}) {
      // Quantized data: many equal gains, so ties at the cutoff are the common case.
      std::vector<float> v = randomValues(n, 1.5f, static_cast<uint32_t>(n));
      if (quantized)
        for (float& x : v)
          x = 0.25f * static_cast<float>(level(rng));
      if (n > 5) {
        v[1] = kNaN;
        v[2] = -0.f;
        v[4] = 1e30f;
      }
      struct Box {
        float lo, hi;
      };
      for (Box box : {Box{-1.f, 3.f}, Box{0.2f, 1.f}, Box{-1.f, 1.f}})
        for (int64_t count :
             {int64_t{0}, int64_t{1}, int64_t{3}, static_cast<int64_t>(n / 2),
              static_cast<int64_t>(n) - 1, static_cast<int64_t>(n), static_cast<int64_t>(n) + 5}) {
          if (count < 0)
            continue;
          const std::vector<float> device = countProxLikeDevice(v, box.lo, box.hi, count);
          const std::vector<float> sorted = countProxBySort(v, box.lo, box.hi, count);
          int64_t kept = 0;
          for (size_t i = 0; i < n; ++i) {
            CHECK((sameBits(device[i], sorted[i]) || device[i] == sorted[i]));
            kept += device[i] != 0.f && !std::isnan(device[i]);
          }
          CHECK(kept <= count);
        }
    }
  // A zero gain is never kept, not even as a tie at a zero cutoff: 0.1 projects onto 0.2 in
  // [0.2, 1] and saves 0.2 (0.2 - 0.2) = 0.
  const std::vector<float> zeroGains = {0.1f, 0.1f, 0.5f, -1.f};
  const std::vector<float> kept = countProxLikeDevice(zeroGains, 0.2f, 1.f, 2);
  CHECK(kept == std::vector<float>{0.f, 0.f, 0.5f, 0.f});
  CHECK(kept == countProxBySort(zeroGains, 0.2f, 1.f, 2));
  // The keys order like the gains, and decode back to them.
  const std::vector<float> gains = {-kInf, -3.f, -1e-30f, -0.f, 0.f, 1e-30f, 2.f, 3e38f, kInf};
  for (size_t i = 0; i + 1 < gains.size(); ++i) {
    CHECK(proxmath::gainKey(gains[i]) <= proxmath::gainKey(gains[i + 1]));
    CHECK(proxmath::keyGain(proxmath::gainKey(gains[i])) == gains[i]);
  }
  CHECK(proxmath::gainKey(-0.f) == proxmath::gainKey(0.f));
}

TEST_CASE("prox math: group shrinkage over each pixel's channels is max(0, 1 - gamma/||v||) v") {
  struct Dims {
    int64_t n, c, h, w;
  };
  for (Dims d : {Dims{1, 1, 5, 7}, Dims{2, 3, 9, 4}, Dims{1, 8, 1, 33}})
    for (float gamma : {0.f, 0.3f, 2.f}) {
      const int64_t plane = d.h * d.w;
      std::vector<float> v = randomValues(static_cast<size_t>(d.n * d.c * plane), 1.f, 4);
      for (int64_t c = 0; c < d.c; ++c)
        v[static_cast<size_t>(c * plane)] = 0.f; // a zero group: no division
      // The device's loop: one pixel group at a time, channels in order.
      std::vector<float> out(v.size());
      for (int64_t group = 0; group < d.n * plane; ++group) {
        const int64_t sample = group / plane;
        const int64_t first = sample * d.c * plane + group % plane;
        float sumOfSquares = 0.f;
        for (int64_t c = 0; c < d.c; ++c)
          sumOfSquares = proxmath::addSquare(sumOfSquares, v[size_t(first + c * plane)]);
        const float factor = proxmath::groupShrinkFactor(sumOfSquares, gamma);
        for (int64_t c = 0; c < d.c; ++c)
          out[size_t(first + c * plane)] = v[size_t(first + c * plane)] * factor;
      }
      for (int64_t group = 0; group < d.n * plane; ++group) {
        const int64_t first = group / plane * d.c * plane + group % plane;
        double norm2 = 0;
        for (int64_t c = 0; c < d.c; ++c)
          norm2 += double(v[size_t(first + c * plane)]) * v[size_t(first + c * plane)];
        const double norm = std::sqrt(norm2);
        const double factor = norm > gamma ? 1 - gamma / norm : 0;
        // 1 - gamma / ||v|| cancels in float when ||v|| is near gamma: allow an ulp of 1 times v.
        for (int64_t c = 0; c < d.c; ++c) {
          const double x = v[size_t(first + c * plane)];
          const double expected = factor * x;
          CHECK(std::fabs(out[size_t(first + c * plane)] - expected) <=
                1e-6 * std::fabs(expected) + 2.5e-7 * std::fabs(x));
        }
      }
    }
}

namespace {

// min_u |u|^p + (u - x)^2 / (2 gamma), the lp prox objective, in double.
double lpObjective(double u, double x, double p, double gamma) {
  return std::pow(std::fabs(u), p) + (u - x) * (u - x) / (2 * gamma);
}

} // namespace

TEST_CASE("prox math: lp shrinkage is GST's global minimiser, at GST's threshold") {
  CHECK(proxmath::lpIterationBound(0.8) == 23); // lp.cpp's documented a-priori bounds
  CHECK(proxmath::lpIterationBound(0.99) == 34);
  for (double p : {0.1, 0.5, 0.8})
    for (float gamma : {0.05f, 0.5f, 2.f}) {
      const proxmath::LpShrinkage s =
          proxmath::lpShrinkage(p, gamma, proxmath::lpIterationBound(p));
      // The threshold: at tau the objective's nonzero stationary point ties with 0.
      const double tau = proxmath::lpThreshold(p, gamma);
      CHECK(proxmath::lpShrink(static_cast<float>(tau * (1 - 1e-4)), s) == 0.f);
      const float justAbove = proxmath::lpShrink(static_cast<float>(tau * (1 + 1e-4)), s);
      CHECK(justAbove > 0.f);
      CHECK(lpObjective(justAbove, tau, p, gamma) ==
            doctest::Approx(lpObjective(0, tau, p, gamma)).epsilon(1e-3));
      for (float x : randomValues(300, static_cast<float>(3 * tau), 5)) {
        const float u = proxmath::lpShrink(x, s);
        const double magnitude = std::fabs(double(x));
        if (u == 0.f) {
          CHECK(magnitude <= tau * (1 + 1e-6));
        } else {
          CHECK(std::signbit(u) == std::signbit(x));
          // GST's fixed point S = |x| - gamma p S^{p-1}.
          const double root = std::fabs(double(u));
          CHECK(root == doctest::Approx(magnitude - gamma * p * std::pow(root, p - 1))
                            .epsilon(1e-6)
                            .scale(tau));
        }
        // Global: no point of a fine grid over [0, |x|] does better (f32 rounding allowed).
        double best = lpObjective(0, magnitude, p, gamma);
        for (int k = 1; k <= 2000; ++k)
          best = std::min(best, lpObjective(magnitude * k / 2000, magnitude, p, gamma));
        CHECK(lpObjective(std::fabs(double(u)), magnitude, p, gamma) <= best + 1e-6 * (1 + best));
      }
    }
}

namespace {

// D^T (p, q) at (i, j) from its definition, in double: p's last row and q's last column are 0.
double divergenceReference(const std::vector<double>& p, const std::vector<double>& q, int64_t i,
                           int64_t j, int64_t h, int64_t w) {
  auto at = [&](const std::vector<double>& a, int64_t y, int64_t x) {
    return y < 0 || x < 0 ? 0.0 : a[size_t(y * w + x)];
  };
  const double pHere = i + 1 < h ? at(p, i, j) : 0.0, qHere = j + 1 < w ? at(q, i, j) : 0.0;
  const double pAbove = i > 0 ? at(p, i - 1, j) : 0.0, qLeft = j > 0 ? at(q, i, j - 1) : 0.0;
  return pAbove - pHere + qLeft - qHere;
}

// prox of gamma (TV + box) on one plane by FISTA on the dual, in double, written from the
// problem alone: u = P_box(v - gamma D^T (p, q)), (p, q) += D u / (8 gamma) then onto the ball.
std::vector<double> tvReference(const float* v, PlaneSize s, double gamma, bool isotropic,
                                double lo, double hi, int iterations) {
  const size_t n = size_t(s.h * s.w);
  std::vector<double> p(n, 0.0), q(n, 0.0), r(n, 0.0), t(n, 0.0), u(n);
  double momentum = 1;
  auto primal = [&](const std::vector<double>& a, const std::vector<double>& b) {
    for (int64_t i = 0; i < s.h; ++i)
      for (int64_t j = 0; j < s.w; ++j)
        u[size_t(i * s.w + j)] =
            std::clamp(v[i * s.w + j] - gamma * divergenceReference(a, b, i, j, s.h, s.w), lo, hi);
  };
  for (int k = 0; k < iterations; ++k) {
    primal(r, t);
    std::vector<double> pOld = p, qOld = q;
    for (int64_t i = 0; i < s.h; ++i)
      for (int64_t j = 0; j < s.w; ++j) {
        const size_t e = size_t(i * s.w + j);
        double a = i + 1 < s.h ? r[e] + (u[e + size_t(s.w)] - u[e]) / (8 * gamma) : 0.0;
        double b = j + 1 < s.w ? t[e] + (u[e + 1] - u[e]) / (8 * gamma) : 0.0;
        if (isotropic) {
          const double length = std::max(1.0, std::hypot(a, b));
          a /= length;
          b /= length;
        } else {
          a = std::clamp(a, -1.0, 1.0);
          b = std::clamp(b, -1.0, 1.0);
        }
        p[e] = a;
        q[e] = b;
      }
    const double next = (1 + std::sqrt(1 + 4 * momentum * momentum)) / 2;
    for (size_t e = 0; e < n; ++e) {
      r[e] = p[e] + (momentum - 1) / next * (p[e] - pOld[e]);
      t[e] = q[e] + (momentum - 1) / next * (q[e] - qOld[e]);
    }
    momentum = next;
  }
  primal(p, q);
  return u;
}

} // namespace

TEST_CASE("prox math: TV's D^T at a pixel is the adjoint of the forward differences") {
  for (PlaneSize s :
       {PlaneSize{1, 1}, PlaneSize{1, 9}, PlaneSize{7, 1}, PlaneSize{6, 5}, PlaneSize{13, 16}}) {
    const size_t n = size_t(s.h * s.w);
    std::vector<float> u = randomValues(n, 1.f, 6), p = randomValues(n, 1.f, 7),
                       q = randomValues(n, 1.f, 8);
    for (int64_t j = 0; j < s.w; ++j)
      p[size_t((s.h - 1) * s.w + j)] = 0.f; // no vertical difference below the last row
    for (int64_t i = 0; i < s.h; ++i)
      q[size_t(i * s.w + s.w - 1)] = 0.f; // none right of the last column
    double lhs = 0, rhs = 0;              // <D u, (p, q)> and <u, D^T (p, q)>
    for (int64_t i = 0; i < s.h; ++i)
      for (int64_t j = 0; j < s.w; ++j) {
        const size_t e = size_t(i * s.w + j);
        if (i + 1 < s.h)
          lhs += (double(u[e + size_t(s.w)]) - u[e]) * p[e];
        if (j + 1 < s.w)
          lhs += (double(u[e + 1]) - u[e]) * q[e];
        rhs += double(u[e]) * proxmath::tvDivergenceAt(p.data(), q.data(), i, j, s.w);
      }
    CHECK(lhs == doctest::Approx(rhs).epsilon(1e-5).scale(1e-5));
  }
}

TEST_CASE("prox math: TV's FGP, phase by phase as on the device, is the prox of TV and TV + box") {
  struct Case {
    PlaneSize plane;
    int64_t planes;
    float gamma, lo, hi;
  };
  for (const Case& c : {Case{{1, 1}, 1, 0.3f, -kInf, kInf}, Case{{1, 12}, 2, 0.3f, -kInf, kInf},
                        Case{{9, 1}, 1, 0.2f, 0.f, 0.5f}, Case{{7, 5}, 3, 0.2f, -kInf, kInf},
                        Case{{12, 11}, 2, 0.5f, 0.f, 1.f}, Case{{16, 13}, 1, 0.05f, -kInf, kInf}})
    for (bool isotropic : {true, false}) {
      const PlaneSize s = c.plane;
      const int64_t pixels = s.h * s.w;
      std::vector<float> v = randomValues(size_t(c.planes * pixels), 0.5f, 9);
      for (size_t i = 0; i < v.size(); ++i)
        v[i] += (i / size_t(std::max<int64_t>(1, s.w / 2))) % 2 ? 0.8f : 0.f; // some edges
      std::vector<float> out;
      tvLikeDevice(v, out, c.planes, s, c.gamma, isotropic, 3000, 0.0, c.lo, c.hi);
      for (int64_t plane = 0; plane < c.planes; ++plane) {
        const std::vector<double> reference =
            tvReference(v.data() + plane * pixels, s, c.gamma, isotropic, c.lo, c.hi, 20000);
        for (int64_t e = 0; e < pixels; ++e) {
          const float u = out[size_t(plane * pixels + e)];
          CHECK(u == doctest::Approx(reference[size_t(e)]).scale(1).epsilon(2e-4));
          CHECK(u >= c.lo);
          CHECK(u <= c.hi);
        }
      }
    }
}

TEST_CASE("prox math: TV's planes stop on their own relative dual change, as on the CPU") {
  const PlaneSize s{24, 20};
  const int64_t planes = 3;
  std::vector<float> v = randomValues(size_t(planes * s.h * s.w), 1.f, 10);
  for (size_t i = 0; i < size_t(s.h * s.w); ++i)
    v[i] *= 0.01f; // a nearly flat first plane converges much sooner than the noisy ones
  std::vector<float> out;
  const double tolerance = 1e-5;
  const std::vector<int> iterations = tvLikeDevice(
      v, out, planes, s, 0.5f, true, proxmath::kTvDefaultIterations * 10, tolerance, -kInf, kInf);
  for (int k : iterations) {
    CHECK(k > 1);
    CHECK(k < proxmath::kTvDefaultIterations * 10); // stopped on the tolerance, not the cap
  }
  CHECK(iterations[0] != iterations[1]);
  // Stopped a plane early: one more iteration from there changes the dual by about tol.
  std::vector<float> longer;
  tvLikeDevice(v, longer, planes, s, 0.5f, true, proxmath::kTvDefaultIterations * 10, 0.0, -kInf,
               kInf);
  for (size_t i = 0; i < out.size(); ++i)
    CHECK(out[i] == doctest::Approx(longer[i]).scale(1).epsilon(1e-3));
}

TEST_CASE("prox math: the momentum sequence and the stopping value are FGP's") {
  proxmath::TvControl control;
  CHECK(control.nextMomentum() == 0.f); // t_1 = 1: no extrapolation on the first step
  double t = (1 + std::sqrt(5.0)) / 2;
  CHECK(control.t == doctest::Approx(t));
  const double next = (1 + std::sqrt(1 + 4 * t * t)) / 2;
  CHECK(control.nextMomentum() == doctest::Approx((t - 1) / next));
  CHECK(control.finish(4.0, 16.0, -1.0) == doctest::Approx(0.5));
  CHECK_FALSE(control.restarted);
  control.finish(1.0, 1.0, 0.5); // momentum pointed uphill: restart
  CHECK(control.restarted);
  CHECK(control.t == 1.0);
  CHECK(control.nextMomentum() == 0.f);
  CHECK(proxmath::tvRelativeChange(0.0, 0.0) == 0.0); // a zero dual that stayed zero has converged
  CHECK(proxmath::tvRelativeChange(1.0, 0.0) == 1.0);
}
