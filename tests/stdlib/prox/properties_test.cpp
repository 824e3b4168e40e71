// Every registered prox, standard or added later, passes the generic property checks; and the
// checks themselves catch wrong proxes (a check that cannot fail proves nothing).
#include "stdlib/prox/property_check.h"
#include "stdlib/prox/prox.h"
#include "tests/stdlib/prox/prox_test_args.h"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <functional>
#include <limits>
#include <sstream>
#include <vector>

using namespace podm;
using namespace podm::stdlib;

namespace {

// A registered prox evaluated at a wrong step gamma * factor: what a prox that forgets a factor
// of 2 or mis-scales its threshold looks like from outside.
class SkewedGammaProx final : public ProxFunction {
public:
  SkewedGammaProx(std::unique_ptr<ProxFunction> inner, float factor)
      : inner_(std::move(inner)), factor_(factor) {}
  double value(const Tensor& x) const override { return inner_->value(x); }
  void prox(const Tensor& v, float gamma, Tensor& out) const override {
    inner_->prox(v, gamma * factor_, out);
  }
  std::optional<ProxTraits> boundTraits() const override { return inner_->boundTraits(); }

private:
  std::unique_ptr<ProxFunction> inner_;
  float factor_;
};

// A registered prox whose output is pulled 5% of the way back towards its input.
class BlendedProx final : public ProxFunction {
public:
  explicit BlendedProx(std::unique_ptr<ProxFunction> inner) : inner_(std::move(inner)) {}
  double value(const Tensor& x) const override { return inner_->value(x); }
  void prox(const Tensor& v, float gamma, Tensor& out) const override {
    Tensor exact(v.shape());
    inner_->prox(v, gamma, exact);
    for (int64_t i = 0; i < v.numel(); ++i)
      out.data()[i] = 0.95f * exact.data()[i] + 0.05f * v.data()[i];
  }
  std::optional<ProxTraits> boundTraits() const override { return inner_->boundTraits(); }

private:
  std::unique_ptr<ProxFunction> inner_;
};

template <typename Wrapper, typename... Extra>
ProxEntry wrapped(const ProxEntry& entry, Extra... extra) {
  ProxEntry copy = entry;
  copy.name += "_mutated";
  copy.make = [make = entry.make, extra...](const ProxArgs& args) -> std::unique_ptr<ProxFunction> {
    return std::make_unique<Wrapper>(make(args), extra...);
  };
  return copy;
}

// g = 0 on R^n (prox = identity) with a defect chosen by the subclass, for the contract checks.
class IdentityBase : public ProxFunction {
public:
  double value(const Tensor&) const override { return 0.0; }
};

// Adds into out instead of overwriting it.
class AccumulatingProx final : public IdentityBase {
public:
  void prox(const Tensor& v, float, Tensor& out) const override {
    for (int64_t i = 0; i < v.numel(); ++i)
      out.data()[i] += v.data()[i];
  }
};

// The projection onto mirror-symmetric vectors, (v + reverse(v)) / 2: correct into a separate
// buffer, wrong when out == v because the second half reads entries already overwritten.
class SymmetrizingProxWithAliasBug final : public ProxFunction {
public:
  double value(const Tensor& x) const override {
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i)
      if (x.data()[i] != x.data()[n - 1 - i])
        return std::numeric_limits<double>::infinity();
    return 0.0;
  }
  void prox(const Tensor& v, float, Tensor& out) const override {
    const int64_t n = v.numel();
    for (int64_t i = 0; i < n; ++i)
      out.data()[i] = 0.5f * (v.data()[i] + v.data()[n - 1 - i]);
  }
};

// The identity claimed for g = 0, but scaled up: expansive, so neither a prox nor firmly
// non-expansive.
class ExpansiveProx final : public IdentityBase {
public:
  void prox(const Tensor& v, float, Tensor& out) const override {
    for (int64_t i = 0; i < v.numel(); ++i)
      out.data()[i] = 1.5f * v.data()[i];
  }
};

// PODM Sec. 5.2 read literally: keep the s largest |Proj_[lo,hi](v)|. For an asymmetric box that
// is not the projection onto Omega (see hardthre_box.cpp), which is why hardthre_box ranks by gain.
class LiteralHardThreProx final : public ProxFunction {
public:
  double value(const Tensor& x) const override { return exact_->value(x); }
  void prox(const Tensor& v, float, Tensor& out) const override {
    const int64_t size = v.shape().c * v.shape().h * v.shape().w; // per sample, as hardthre_box
    std::vector<float> projected(size), ranked(size);
    for (int64_t sample = 0; sample < v.shape().n; ++sample) {
      const float* in = v.data() + sample * size;
      float* result = out.data() + sample * size;
      for (int64_t i = 0; i < size; ++i) {
        projected[i] = std::clamp(in[i], kLo, kHi);
        ranked[i] = std::fabs(projected[i]);
      }
      float cutoff = -1.0f;
      if (size > kCount) {
        std::nth_element(ranked.begin(), ranked.begin() + kCount, ranked.end(),
                         std::greater<float>());
        cutoff = ranked[kCount];
      }
      int64_t kept = 0;
      for (int64_t i = 0; i < size; ++i) {
        bool keep = std::fabs(projected[i]) > cutoff && kept < kCount;
        kept += keep;
        result[i] = keep ? projected[i] : 0.0f;
      }
    }
  }
  std::optional<ProxTraits> boundTraits() const override { return ProxTraits{.indicator = true}; }

  static constexpr float kLo = -1.0f, kHi = 3.0f;
  static constexpr int64_t kCount = 20;

private:
  std::unique_ptr<ProxFunction> exact_ = proxRegistry().make(
      "hardthre_box", {{"lo", kLo}, {"hi", kHi}, {"count", static_cast<double>(kCount)}});
};

template <typename Function>
ProxEntry fixtureEntry(const char* name, ProxTraits traits) {
  return {.name = name,
          .summary = "test fixture",
          .params = {},
          .traits = traits,
          .make = [](const ProxArgs&) { return std::make_unique<Function>(); }};
}

CheckStatus statusOf(const PropertyReport& report, const char* check) {
  const PropertyCheck* found = report.find(check);
  REQUIRE(found != nullptr);
  return found->status;
}

} // namespace

TEST_CASE("every registered prox passes the property checks") {
  for (const ProxEntry* entry : proxRegistry().all()) {
    for (const ProxArgs& args : proxTestArguments(entry->name)) {
      std::ostringstream log;
      int status = runProxPropertyTests(*entry, args, log);
      INFO(log.str());
      CHECK(status == 0);
    }
  }
}

TEST_CASE("a prox with a required parameter and no test arguments fails, it is not skipped") {
  const ProxEntry* lp = proxRegistry().find("lp");
  REQUIRE(lp != nullptr);
  PropertyReport report = checkProxProperties(*lp, {}, kDefaultPropertySeed);
  CHECK_FALSE(report.passed());
  CHECK(statusOf(report, "construct") == CheckStatus::Failed);
  CHECK(report.str().find("missing required argument 'p'") != std::string::npos);
}

TEST_CASE("the checks reject every registered prox evaluated at a wrong gamma") {
  for (const ProxEntry* entry : proxRegistry().all()) {
    for (const ProxArgs& args : proxTestArguments(entry->name)) {
      auto bound = makeProx(*entry, args);
      if (effectiveTraits(*entry, *bound).indicator)
        continue; // a projection does not depend on gamma; the blend test below covers it
      for (float factor : {0.9f, 1.1f}) {
        PropertyReport report =
            checkProxProperties(wrapped<SkewedGammaProx>(*entry, factor), args, 7);
        INFO(entry->name << " with gamma x " << factor << "\n" << report.str());
        CHECK_FALSE(report.passed());
      }
    }
  }
}

TEST_CASE("the checks reject every registered prox pulled towards its input") {
  for (const ProxEntry* entry : proxRegistry().all()) {
    for (const ProxArgs& args : proxTestArguments(entry->name)) {
      PropertyReport report = checkProxProperties(wrapped<BlendedProx>(*entry), args, 7);
      INFO(entry->name << "\n" << report.str());
      CHECK_FALSE(report.passed());
    }
  }
}

TEST_CASE("the iterative tolerance still catches TV with gamma off by 2%") {
  for (const char* name : {"tv_iso", "tv_aniso"}) {
    const ProxEntry* tv = proxRegistry().find(name);
    REQUIRE(tv != nullptr);
    for (float factor : {0.98f, 1.02f}) {
      PropertyReport report = checkProxProperties(wrapped<SkewedGammaProx>(*tv, factor), {}, 7);
      INFO(name << " with gamma x " << factor << "\n" << report.str());
      CHECK(statusOf(report, "optimality") == CheckStatus::Failed);
    }
  }
}

TEST_CASE("the iterative tolerance flags a TV prox stopped far too early") {
  PropertyReport report =
      checkProxProperties(*proxRegistry().find("tv_iso"), {{"iters", 2}, {"tol", 0}}, 7);
  INFO(report.str());
  CHECK(statusOf(report, "optimality") == CheckStatus::Failed);
}

TEST_CASE("the contract checks catch output-handling bugs") {
  PropertyReport accumulating = checkProxProperties(
      fixtureEntry<AccumulatingProx>("accumulating", {.convex = true, .separable = true}), {}, 1);
  CHECK(statusOf(accumulating, "contract") == CheckStatus::Failed);

  PropertyReport aliasing = checkProxProperties(
      fixtureEntry<SymmetrizingProxWithAliasBug>("symmetrize", {.convex = true, .indicator = true}),
      {}, 1);
  INFO(aliasing.str());
  CHECK(statusOf(aliasing, "contract") == CheckStatus::Failed);
  CHECK(aliasing.find("contract")->detail.find("out == v") != std::string::npos);
  // Apart from the aliasing bug it is a correct projection, and the other checks agree.
  CHECK(statusOf(aliasing, "optimality") == CheckStatus::Passed);
  CHECK(statusOf(aliasing, "firm-nonexpansive") == CheckStatus::Passed);

  PropertyReport expansive = checkProxProperties(
      fixtureEntry<ExpansiveProx>("expansive", {.convex = true, .separable = true}), {}, 1);
  CHECK(statusOf(expansive, "contract") == CheckStatus::Passed);
  CHECK(statusOf(expansive, "optimality") == CheckStatus::Failed);
  CHECK(statusOf(expansive, "brute-force-1d") == CheckStatus::Failed);
  CHECK(statusOf(expansive, "firm-nonexpansive") == CheckStatus::Failed);
}

TEST_CASE("the checks reject the paper's literal HardThre(Proj) on an asymmetric box") {
  PropertyReport report =
      checkProxProperties(fixtureEntry<LiteralHardThreProx>("literal", {}), {}, 7);
  INFO(report.str());
  CHECK(statusOf(report, "optimality") == CheckStatus::Failed);
}

TEST_CASE("runProxPropertyTests prints one line per check and a verdict") {
  std::ostringstream out;
  CHECK(runProxPropertyTests(*proxRegistry().find("l1"), {}, out) == 0);
  std::string text = out.str();
  CHECK(text.find("prox l1") != std::string::npos);
  CHECK(text.find("PASS optimality") != std::string::npos);
  CHECK(text.find("PASS brute-force-1d") != std::string::npos);
  CHECK(text.find("OK: 6 passed, 0 failed, 0 skipped") != std::string::npos);

  std::ostringstream failing;
  CHECK(runProxPropertyTests(*proxRegistry().find("lp"), {{"p", 2.0}}, failing) == 1);
  CHECK(failing.str().find("FAIL construct") != std::string::npos);
}
