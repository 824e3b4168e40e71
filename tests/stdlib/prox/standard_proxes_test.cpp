// Targeted tests of what defines each standard prox: closed forms, the GST threshold, the
// sparsity budget of hardthre_box, TV's behaviour on known cases, group shrinkage of l21.
#include "runtime/run_scope.h"
#include "stdlib/prox/hardthre_box.h"
#include "stdlib/prox/lp.h"
#include "stdlib/prox/property_check.h"
#include "stdlib/prox/prox.h"
#include "stdlib/prox/tv.h"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <numeric>
#include <random>

using namespace podm;
using namespace podm::stdlib;

namespace {

Tensor fromValues(Shape shape, std::vector<float> values) {
  Tensor t(shape);
  REQUIRE(static_cast<int64_t>(values.size()) == t.numel());
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor proxOf(const ProxFunction& g, const Tensor& v, float gamma) {
  Tensor out(v.shape());
  g.prox(v, gamma, out);
  return out;
}

Tensor randomTensor(Shape shape, uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = static_cast<float>(normal(rng));
  return t;
}

int64_t nonzeros(const float* begin, const float* end) {
  return std::count_if(begin, end, [](float x) { return x != 0.0f; });
}

} // namespace

TEST_CASE("l1, l0, box and nonneg match their closed forms") {
  Tensor v = fromValues({1, 1, 1, 6}, {-2.0f, -0.5f, 0.0f, 0.3f, 0.9f, 3.0f});
  auto l1 = proxRegistry().make("l1", {});
  Tensor p = proxOf(*l1, v, 0.5f);
  const float softExpected[] = {-1.5f, 0.0f, 0.0f, 0.0f, 0.4f, 2.5f};
  for (int i = 0; i < 6; ++i)
    CHECK(p.data()[i] == doctest::Approx(softExpected[i]));
  CHECK(l1->value(v) == doctest::Approx(6.7));

  auto l0 = proxRegistry().make("l0", {});
  p = proxOf(*l0, v, 0.32f); // threshold sqrt(0.64) = 0.8
  const float hardExpected[] = {-2.0f, 0.0f, 0.0f, 0.0f, 0.9f, 3.0f};
  for (int i = 0; i < 6; ++i)
    CHECK(p.data()[i] == hardExpected[i]);
  CHECK(l0->value(v) == 5.0);

  auto box = proxRegistry().make("box", {{"lo", -1.0}, {"hi", 0.5}});
  p = proxOf(*box, v, 1.0f);
  const float clampExpected[] = {-1.0f, -0.5f, 0.0f, 0.3f, 0.5f, 0.5f};
  for (int i = 0; i < 6; ++i)
    CHECK(p.data()[i] == clampExpected[i]);
  CHECK(std::isinf(box->value(v)));
  CHECK(box->value(p) == 0.0);

  auto nonneg = proxRegistry().make("nonneg", {});
  p = proxOf(*nonneg, v, 1.0f);
  for (int i = 0; i < 6; ++i)
    CHECK(p.data()[i] == std::max(v.data()[i], 0.0f));
}

TEST_CASE("lp: the GST threshold is exact") {
  for (double exponent : {0.2, 0.5, 0.8}) {
    for (float gamma : {0.1f, 1.0f, 3.0f}) {
      LpProx lp(exponent);
      const double tau = lp.threshold(gamma);
      // The objective at 0 and at the nonzero stationary point tie exactly at tau; the latter is
      // S_tau = (2 gamma (1 - p))^{1/(2 - p)}.
      const double rootAtTau = std::pow(2 * gamma * (1 - exponent), 1 / (2 - exponent));
      auto psi = [&](double u, double v) {
        return std::pow(std::fabs(u), exponent) + (u - v) * (u - v) / (2.0 * gamma);
      };
      CHECK(psi(rootAtTau, tau) == doctest::Approx(psi(0.0, tau)).epsilon(1e-12));

      auto below = static_cast<float>(tau * (1 - 1e-5));
      auto above = static_cast<float>(tau * (1 + 1e-5));
      Tensor v = fromValues({1, 1, 1, 4}, {below, above, -below, -above});
      Tensor p = proxOf(lp, v, gamma);
      INFO("p = " << exponent << ", gamma = " << gamma << ", tau = " << tau);
      CHECK(p.data()[0] == 0.0f);
      CHECK(p.data()[2] == 0.0f);
      CHECK(p.data()[1] > 0.0f);
      CHECK(p.data()[3] < 0.0f);
      // Just above tau the minimiser jumps to (almost) S_tau, not to a small value.
      CHECK(p.data()[1] == doctest::Approx(rootAtTau).epsilon(1e-2));
      CHECK(p.data()[3] == doctest::Approx(-rootAtTau).epsilon(1e-2));
    }
  }
}

TEST_CASE("lp: the root finder solves the GST equation to f32 resolution") {
  CHECK(LpProx(0.8).maxIterations() == 23); // the a-priori bound stated in lp.cpp
  CHECK(LpProx(0.99).maxIterations() == 34);
  for (double exponent : {0.05, 0.5, 0.8, 0.95, 0.999}) {
    for (float gamma : {0.01f, 0.7f, 5.0f}) {
      LpProx lp(exponent);
      const double tau = lp.threshold(gamma);
      // From just above the threshold, where convergence is slowest, to far above it.
      std::vector<float> magnitudes;
      for (double factor : {1.0001, 1.01, 1.5, 4.0, 100.0, 1e4})
        magnitudes.push_back(static_cast<float>(tau * factor));
      Tensor v(Shape{1, 1, 1, static_cast<int64_t>(magnitudes.size())});
      std::copy(magnitudes.begin(), magnitudes.end(), v.data());
      Tensor p = proxOf(lp, v, gamma);
      for (int64_t i = 0; i < v.numel(); ++i) {
        double s = p.data()[i], magnitude = v.data()[i];
        INFO("p = " << exponent << ", gamma = " << gamma << ", |v| = " << magnitude);
        REQUIRE(s > 0);
        // S - |v| + gamma p S^{p-1} = 0; its derivative is at least 1 - p/2, so a residual of
        // r means an error in S of at most r / (1 - p/2). Allow 2 f32 ulps of S.
        double residual = s - magnitude + gamma * exponent * std::pow(s, exponent - 1);
        CHECK(std::fabs(residual) <= 2.4e-7 * (1 - exponent / 2) * s);
      }
    }
  }
}

TEST_CASE("hardthre_box with count keeps exactly s entries per sample") {
  auto g = proxRegistry().make("hardthre_box", {{"lo", -1.0}, {"hi", 1.0}, {"count", 17}});
  Tensor v = randomTensor({3, 2, 8, 8}, 11);
  Tensor p = proxOf(*g, v, 0.5f);
  const int64_t sampleSize = 2 * 8 * 8;
  for (int64_t sample = 0; sample < 3; ++sample) {
    const float* begin = p.data() + sample * sampleSize;
    CHECK(nonzeros(begin, begin + sampleSize) == 17);
    // The kept entries are the 17 largest magnitudes of the (symmetric) projection.
    std::vector<float> magnitudes(sampleSize);
    for (int64_t i = 0; i < sampleSize; ++i)
      magnitudes[i] = std::min(std::fabs(v.data()[sample * sampleSize + i]), 1.0f);
    std::sort(magnitudes.begin(), magnitudes.end(), std::greater<float>());
    for (int64_t i = 0; i < sampleSize; ++i)
      if (begin[i] == 0.0f)
        CHECK(std::min(std::fabs(v.data()[sample * sampleSize + i]), 1.0f) <= magnitudes[16]);
  }
  CHECK(g->value(p) == 0.0);
  CHECK(std::isinf(g->value(v)));

  // Ties at the cut-off still leave exactly s nonzeros.
  Tensor flat(Shape{1, 1, 1, 50});
  flat.fill(0.5f);
  Tensor q = proxOf(*g, flat, 0.5f);
  CHECK(nonzeros(q.data(), q.data() + 50) == 17);
}

TEST_CASE("hardthre_box with count is the exact projection onto Omega, asymmetric boxes too") {
  // Enumerate every support of size <= s on small vectors and compare squared distances.
  const float lo = -1.0f, hi = 3.0f;
  const int n = 8, s = 3;
  HardThreBoxProx g = HardThreBoxProx::withCount(lo, hi, s);
  for (uint64_t trial = 0; trial < 40; ++trial) {
    Tensor v = randomTensor({1, 1, 1, n}, 100 + trial, 3.0);
    Tensor p = proxOf(g, v, 1.0f);
    double ours = 0;
    for (int i = 0; i < n; ++i)
      ours += std::pow(double(p.data()[i]) - v.data()[i], 2);
    double best = std::numeric_limits<double>::infinity();
    for (int mask = 0; mask < (1 << n); ++mask) {
      if (__builtin_popcount(mask) > s)
        continue;
      double distance = 0;
      for (int i = 0; i < n; ++i) {
        double vi = v.data()[i];
        double ui = (mask >> i) & 1 ? std::clamp(vi, double(lo), double(hi)) : 0.0;
        distance += (ui - vi) * (ui - vi);
      }
      best = std::min(best, distance);
    }
    CHECK(ours == doctest::Approx(best).epsilon(1e-6));
  }
  // The case where the paper's "largest magnitudes after projection" is not the projection.
  Tensor v = fromValues({1, 1, 1, 2}, {-5.0f, 2.0f});
  Tensor p = proxOf(HardThreBoxProx::withCount(-1.0f, 3.0f, 1), v, 1.0f);
  CHECK(p.data()[0] == -1.0f);
  CHECK(p.data()[1] == 0.0f);
}

TEST_CASE("hardthre_box: zero outside [lo, hi] stays allowed, as the paper uses it") {
  auto g = proxRegistry().make("hardthre_box", {{"lo", 0.2}, {"hi", 1.0}, {"count", 2}});
  Tensor v = fromValues({1, 1, 1, 5}, {0.9f, -3.0f, 0.05f, 0.5f, 4.0f});
  Tensor p = proxOf(*g, v, 1.0f);
  // 4 -> 1 (gain 7) and 0.9 (gain 0.81) are kept; -3 would clamp to 0.2, farther than 0.
  const float expected[] = {0.9f, 0.0f, 0.0f, 0.0f, 1.0f};
  for (int i = 0; i < 5; ++i)
    CHECK(p.data()[i] == expected[i]);
  CHECK(g->value(p) == 0.0);
}

TEST_CASE("hardthre_box with threshold zeroes |Proj v| below threshold * sqrt(gamma)") {
  auto g = proxRegistry().make("hardthre_box", {{"lo", -1.0}, {"hi", 1.0}, {"threshold", 0.4}});
  Tensor v = fromValues({1, 1, 1, 6}, {0.39f, 0.41f, -0.39f, -0.41f, 5.0f, 0.0f});
  Tensor p = proxOf(*g, v, 1.0f);
  const float expected[] = {0.0f, 0.41f, 0.0f, -0.41f, 1.0f, 0.0f};
  for (int i = 0; i < 6; ++i)
    CHECK(p.data()[i] == expected[i]);
  CHECK(g->value(p) == doctest::Approx(3 * 0.5 * 0.4 * 0.4).epsilon(1e-6));
  // At gamma = 4 the threshold doubles to 0.8.
  Tensor q = proxOf(*g, fromValues({1, 1, 1, 2}, {0.79f, 0.81f}), 4.0f);
  CHECK(q.data()[0] == 0.0f);
  CHECK(q.data()[1] == 0.81f);
}

TEST_CASE("tv: reduces total variation, tends to the identity as gamma -> 0") {
  for (const char* name : {"tv_iso", "tv_aniso"}) {
    INFO(name);
    auto tv = proxRegistry().make(name, {});
    Tensor v = randomTensor({1, 2, 24, 17}, 5);
    Tensor p = proxOf(*tv, v, 0.3f);
    CHECK(tv->value(p) < 0.5 * tv->value(v));
    // prox is a contraction towards the mean: the plane means are preserved (D^T has zero sum).
    for (int64_t plane = 0; plane < 2; ++plane) {
      double meanV = 0, meanP = 0;
      for (int64_t i = 0; i < 24 * 17; ++i) {
        meanV += v.data()[plane * 24 * 17 + i];
        meanP += p.data()[plane * 24 * 17 + i];
      }
      CHECK(meanP == doctest::Approx(meanV).epsilon(1e-4));
    }
    Tensor nearIdentity = proxOf(*tv, v, 1e-6f);
    double difference = 0, size = 0;
    for (int64_t i = 0; i < v.numel(); ++i) {
      difference = std::max(difference, double(std::fabs(nearIdentity.data()[i] - v.data()[i])));
      size = std::max(size, double(std::fabs(v.data()[i])));
    }
    CHECK(difference <= 4e-6 * 2); // |v - p| <= gamma * |D^T dual| <= 4 gamma per entry
    Tensor constant(Shape{1, 1, 9, 9});
    constant.fill(0.7f);
    Tensor same = proxOf(*tv, constant, 1.0f);
    for (int64_t i = 0; i < constant.numel(); ++i)
      CHECK(same.data()[i] == 0.7f);
  }
}

TEST_CASE("tv: a two-region image shifts each region by gamma * boundary / area") {
  // Left half a, right half b > a: TV = H (b' - a') for piecewise-constant u, so each region of
  // area H W / 2 moves towards the other by gamma H / (H W / 2) = 2 gamma / W while the jump
  // stays positive. The dual field q = 2 (j + 1) / W certifies this for the discrete TV too.
  const int64_t h = 6, w = 10;
  const float a = 0.0f, b = 1.0f, gamma = 0.5f;
  Tensor v(Shape{1, 1, h, w});
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      v.at(y, x) = x < w / 2 ? a : b;
  const float shift = gamma * h / (h * w / 2.0f);
  for (const char* name : {"tv_iso", "tv_aniso"}) {
    INFO(name);
    auto tv = proxRegistry().make(name, {{"iters", 5000}, {"tol", 0}});
    Tensor p = proxOf(*tv, v, gamma);
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        CHECK(p.at(y, x) == doctest::Approx(x < w / 2 ? a + shift : b - shift).epsilon(1e-4));
  }
}

TEST_CASE("tv: the solver stops on the relative dual change") {
  Tensor v = randomTensor({1, 1, 16, 16}, 3);
  Tensor out(v.shape());
  TvScratch scratch;
  TvSolveStats loose =
      tvProxPlane(v.data(), out.data(), 16, 16, 0.1f, TvNorm::Isotropic, 10000, 1e-3, scratch);
  TvSolveStats tight =
      tvProxPlane(v.data(), out.data(), 16, 16, 0.1f, TvNorm::Isotropic, 10000, 1e-7, scratch);
  CHECK(loose.relativeDualChange <= 1e-3);
  CHECK(tight.relativeDualChange <= 1e-7);
  CHECK(loose.iterations < tight.iterations);
  CHECK(tight.iterations < 10000);
  TvSolveStats capped =
      tvProxPlane(v.data(), out.data(), 16, 16, 0.1f, TvNorm::Isotropic, 3, 0.0, scratch);
  CHECK(capped.iterations == 3);
}

TEST_CASE("tv: row bands on several threads give the iterates of one band") {
  // Odd sizes, a box, both norms, and restarts (a strongly smoothed plane restarts often).
  Tensor v = randomTensor({1, 1, 157, 131}, 12);
  for (TvNorm norm : {TvNorm::Isotropic, TvNorm::Anisotropic})
    for (TvBox box : {TvBox{}, TvBox{-0.5f, 0.7f}}) {
      Tensor one(v.shape()), three(v.shape()), inPlace = v.clone();
      TvScratch scratch;
      TvSolveStats a =
          tvProxPlane(v.data(), one.data(), 157, 131, 0.8f, norm, 300, 1e-6, scratch, box, 1);
      TvSolveStats b =
          tvProxPlane(v.data(), three.data(), 157, 131, 0.8f, norm, 300, 1e-6, scratch, box, 3);
      tvProxPlane(inPlace.data(), inPlace.data(), 157, 131, 0.8f, norm, 300, 1e-6, scratch, box, 5);
      CHECK(a.iterations == b.iterations);
      CHECK(a.iterations > 20);
      for (int64_t i = 0; i < v.numel(); ++i) {
        REQUIRE(one.data()[i] == doctest::Approx(three.data()[i]).epsilon(1e-6));
        REQUIRE(one.data()[i] == doctest::Approx(inPlace.data()[i]).epsilon(1e-6));
      }
    }
}

TEST_CASE("tv: the warm start carries the dual within a run only") {
  // Two nearby inputs, as consecutive stages give them; 10 iterations per call.
  Tensor v1 = randomTensor({1, 1, 40, 36}, 21), v2 = v1.clone();
  for (int64_t i = 0; i < v2.numel(); ++i)
    v2.data()[i] += 0.01f * std::sin(float(i));
  TvProx warm(TvNorm::Isotropic, 10, 0.0, {}, true), cold(TvNorm::Isotropic, 10, 0.0, {}, false);
  TvProx exact(TvNorm::Isotropic, 20000, 1e-9);
  const float gamma = 0.3f;
  Tensor reference, first, coldOut, warmOut, again;
  exact.prox(v2, gamma, reference);
  {
    const RunScope run;
    warm.prox(v1, gamma, first);
    warm.prox(v2, gamma, warmOut); // from the dual of v1's call
  }
  cold.prox(v2, gamma, coldOut);
  double warmError = 0, coldError = 0;
  for (int64_t i = 0; i < v2.numel(); ++i) {
    warmError = std::max(warmError, double(std::fabs(warmOut.data()[i] - reference.data()[i])));
    coldError = std::max(coldError, double(std::fabs(coldOut.data()[i] - reference.data()[i])));
  }
  CHECK(warmError < 0.5 * coldError); // ten warm iterations get closer than ten cold ones
  // A new run starts from zero again: its first call is the cold one, bit for bit.
  {
    const RunScope run;
    warm.prox(v2, gamma, again);
  }
  for (int64_t i = 0; i < v2.numel(); ++i)
    REQUIRE(again.data()[i] == coldOut.data()[i]);
  // Outside any run (podm.prox, test-prox) every call is cold, so repeated calls repeat.
  warm.prox(v1, gamma, first);
  warm.prox(v2, gamma, again);
  for (int64_t i = 0; i < v2.numel(); ++i)
    REQUIRE(again.data()[i] == coldOut.data()[i]);
}

TEST_CASE("l21: each pixel's channel vector shrinks by gamma in norm, keeping its direction") {
  auto l21 = proxRegistry().make("l21", {});
  Tensor v = randomTensor({2, 3, 5, 4}, 9);
  const float gamma = 1.2f;
  Tensor p = proxOf(*l21, v, gamma);
  const int64_t plane = 5 * 4;
  int shrunk = 0, zeroed = 0;
  for (int64_t sample = 0; sample < 2; ++sample)
    for (int64_t pixel = 0; pixel < plane; ++pixel) {
      double normV = 0, normP = 0, cross = 0;
      for (int64_t c = 0; c < 3; ++c) {
        int64_t i = (sample * 3 + c) * plane + pixel;
        normV += double(v.data()[i]) * v.data()[i];
        normP += double(p.data()[i]) * p.data()[i];
        cross += double(v.data()[i]) * p.data()[i];
      }
      normV = std::sqrt(normV);
      normP = std::sqrt(normP);
      CHECK(normP == doctest::Approx(std::max(normV - gamma, 0.0)).epsilon(1e-5));
      if (normP > 0) {
        CHECK(cross == doctest::Approx(normV * normP).epsilon(1e-5)); // parallel
        ++shrunk;
      } else {
        ++zeroed;
      }
    }
  CHECK(shrunk > 0); // both regimes were exercised
  CHECK(zeroed > 0);
}

TEST_CASE("the standard proxes accept an empty output and reject a mismatched one") {
  for (const char* name : {"l1", "l21", "tv_iso"}) {
    auto g = proxRegistry().make(name, {});
    Tensor v = randomTensor({1, 2, 3, 4}, 1);
    Tensor empty;
    g->prox(v, 0.1f, empty);
    CHECK(empty.shape() == v.shape());
    Tensor wrong(Shape{1, 1, 3, 4});
    CHECK_THROWS_AS(g->prox(v, 0.1f, wrong), std::invalid_argument);
    Tensor complexInput(Shape{1, 2, 3, 4}, DType::C64);
    Tensor out(v.shape());
    CHECK_THROWS_AS(g->prox(complexInput, 0.1f, out), std::invalid_argument);
  }
}
