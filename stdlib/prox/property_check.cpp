// The generic prox property checks. Every check works from value() and prox() alone, so it applies
// unchanged to any plugin. Inputs are random but seeded (reports are reproducible) and cover a
// multi-sample, multi-channel, non-square shape, because per-sample and per-plane proxes (l21,
// TV, hardthre_box with count) hide their bugs in the layout.
//
// Checks (status Skipped where the property does not apply to the prox's traits):
//  contract        output has the input's shape and is finite for edge shapes (1x1x1x1, 1-row,
//                  1-column, multi-sample); the input is left unchanged; out == v gives the same
//                  bits as a separate output; a NaN-filled output is fully overwritten.
//  finite-value    value() is finite at every prox output (prox outputs lie in dom g).
//  optimality      convex g: the subgradient inequality g(u) >= g(p) + <(v - p)/gamma, u - p> at
//                  many u (random perturbations, feasible points from the prox itself, points on
//                  segments towards them, coordinate swaps). Nonconvex g: p must be a global
//                  minimiser of Psi(u) = g(u) + ||u - v||^2 / (2 gamma) against the same u.
//  brute-force-1d  separable g: for a sweep of 8200 inputs v_i (magnitudes 1e-3..1e2 in 0.3%
//                  steps, both signs, and random ones) and three gammas, Psi_i(p_i) is no worse
//                  than the exact minimum of g(u) + (u - v_i)^2 / (2 gamma) over a 200001-point
//                  grid through 0 plus all p_j (grid_minimizer.h). Objective values, not argmins,
//                  are compared because ties (at a threshold) are legitimate.
//  firm-nonexpansive  convex g: ||p(x) - p(y)||^2 <= <p(x) - p(y), x - y>.
//
// Tolerances: the data are f32 and prox outputs are f32-rounded, so every inequality gets a
// rounding budget of 16 f32 ulps times the magnitudes in it. An iterative prox (TV by FGP) is
// exact only to its stopping rule; it is held to a relative suboptimality of the prox objective,
// Psi(p) - Psi* <= kIterativeSuboptimality * Psi(p) =: eps. The subgradient and objective tests
// then allow a violation of eps, and firm non-expansiveness a relative slack of the same size.
// (For FGP the u-independent slack is the right shape: (v - p)/gamma = D^T of a feasible dual
// point, an eps'-subgradient of TV at p with eps' = TV(p) - <(v - p)/gamma, p>, a duality gap.)
// tests/stdlib/prox shows that FGP at its defaults passes and a TV prox with gamma off by 2%
// fails.
#include "stdlib/prox/property_check.h"

#include "stdlib/prox/grid_minimizer.h"
#include "stdlib/prox/prox_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <ostream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace podm::stdlib {

namespace {

constexpr double kFloatEpsilon = 1.1920928955078125e-07; // 2^-23
// Relative rounding budget of an exact prox: a few ulps of f32.
constexpr double kExactTolerance = 16 * kFloatEpsilon;
// Relative prox-objective suboptimality allowed to an iterative prox (see the header comment).
constexpr double kIterativeSuboptimality = 1e-3;
// The brute-force grid: 2 * kGridHalf + 1 points, symmetric so that 0 is a grid point.
constexpr int kGridHalf = 100000;

using Rng = std::mt19937_64;

const Shape kMainShape{2, 3, 6, 7};

double dot(const Tensor& a, const Tensor& b) {
  double sum = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    sum += static_cast<double>(a.data()[i]) * b.data()[i];
  return sum;
}

double norm(const Tensor& a) {
  return std::sqrt(dot(a, a));
}

double rms(const Tensor& a) {
  return a.numel() ? norm(a) / std::sqrt(double(a.numel())) : 0.0;
}

bool allFinite(const Tensor& a) {
  for (int64_t i = 0; i < a.numel(); ++i)
    if (!std::isfinite(a.data()[i]))
      return false;
  return true;
}

bool sameBits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.bytes()) == 0;
}

// a + scale * b
Tensor axpy(const Tensor& a, double scale, const Tensor& b) {
  Tensor result(a.shape());
  for (int64_t i = 0; i < a.numel(); ++i)
    result.data()[i] = static_cast<float>(a.data()[i] + scale * b.data()[i]);
  return result;
}

Tensor gaussian(Shape shape, double scale, Rng& rng) {
  std::normal_distribution<double> normal(0.0, scale);
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = static_cast<float>(normal(rng));
  return t;
}

// Exact zeros, small, unit and large entries mixed: thresholds and clamps all get exercised.
Tensor mixed(Shape shape, Rng& rng) {
  std::uniform_int_distribution<int> kind(0, 3);
  std::normal_distribution<double> normal(0.0, 1.0);
  const double scales[] = {0.0, 0.1, 1.0, 3.0};
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = static_cast<float>(scales[kind(rng)] * normal(rng));
  return t;
}

// Piecewise-constant planes plus noise: the images TV and l21 are designed for.
Tensor blocky(Shape shape, Rng& rng) {
  std::normal_distribution<double> level(0.0, 1.0), noise(0.0, 0.1);
  Tensor t(shape);
  for (int64_t plane = 0; plane < shape.n * shape.c; ++plane) {
    double levels[4] = {level(rng), level(rng), level(rng), level(rng)};
    for (int64_t y = 0; y < shape.h; ++y)
      for (int64_t x = 0; x < shape.w; ++x) {
        int quadrant = (2 * y >= shape.h ? 2 : 0) + (2 * x >= shape.w ? 1 : 0);
        t.data()[plane * shape.plane() + y * shape.w + x] =
            static_cast<float>(levels[quadrant] + noise(rng));
      }
  }
  return t;
}

struct Sample {
  Tensor v;
  float gamma;
  std::string label;
};

std::string formatGamma(float gamma) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", static_cast<double>(gamma));
  return buffer;
}

std::string describeArgs(const ProxArgs& args) {
  std::string text;
  for (const auto& [name, value] : args)
    text += (text.empty() ? "" : ", ") + name + " = " + detail::formatNumber(value);
  return text;
}

std::string traitList(const ProxTraits& traits) {
  std::string text = traits.convex ? "convex" : "nonconvex";
  if (traits.separable)
    text += ", separable";
  if (traits.indicator)
    text += ", indicator";
  if (traits.iterative)
    text += ", iterative";
  return text;
}

// Tracks the worst ratio violation / tolerance over many inequalities of one check.
class Worst {
public:
  // `where` describes the case; it is only called when this case is the new worst.
  template <typename Describe>
  void record(double violation, double tolerance, Describe&& where) {
    double ratio = violation / tolerance;
    if (std::isnan(ratio) || ratio > ratio_) {
      ratio_ = std::isnan(ratio) ? std::numeric_limits<double>::infinity() : ratio;
      violation_ = violation;
      tolerance_ = tolerance;
      where_ = where();
    }
    ++count_;
  }
  // A check that compared nothing proved nothing, so it fails.
  bool failed() const { return count_ == 0 || ratio_ > 1.0; }
  std::string describe(const std::string& what) const {
    std::ostringstream text;
    text.precision(3);
    if (count_ == 0)
      return "no finite comparison was possible for " + what;
    text << count_ << " " << what << "; worst violation " << violation_ << " vs tolerance "
         << tolerance_ << " (" << where_ << ")";
    return text.str();
  }

private:
  double ratio_ = -std::numeric_limits<double>::infinity();
  double violation_ = 0, tolerance_ = 0;
  std::string where_;
  int64_t count_ = 0;
};

class Checker {
public:
  Checker(const ProxFunction& g, ProxTraits traits, uint64_t seed)
      : g_(g), traits_(traits), rng_(seed) {
    const float gammas[] = {0.05f, 0.5f, 2.0f};
    Tensor inputs[] = {mixed(kMainShape, rng_), blocky(kMainShape, rng_),
                       gaussian(kMainShape, 1.0, rng_)};
    const char* names[] = {"mixed", "blocky", "gaussian"};
    for (int input = 0; input < 3; ++input)
      for (float gamma : gammas)
        samples_.push_back({inputs[input], gamma,
                            std::string(names[input]) + " input, gamma " + formatGamma(gamma)});
  }

  PropertyCheck contract();
  PropertyCheck finiteValue();
  PropertyCheck optimality();
  PropertyCheck bruteForce1d();
  PropertyCheck firmNonexpansive();

private:
  Tensor proxOf(const Tensor& v, float gamma) const {
    Tensor out(v.shape());
    g_.prox(v, gamma, out);
    if (out.shape() != v.shape())
      throw std::runtime_error("prox changed the output shape from " + v.shape().str() + " to " +
                               out.shape().str());
    if (!allFinite(out))
      throw std::runtime_error("prox returned a non-finite entry for a finite input");
    return out;
  }
  double objective(const Tensor& u, const Tensor& v, double gamma) const {
    Tensor difference = axpy(u, -1.0, v);
    return g_.value(u) + dot(difference, difference) / (2 * gamma);
  }
  // The magnitudes that f32 rounding of v, p and u can perturb an inequality by, per unit ulp.
  static double roundingScale(const Tensor& v, const Tensor& p, const Tensor& u, double gamma) {
    double scale = 0;
    for (int64_t i = 0; i < v.numel(); ++i) {
      double vi = v.data()[i], pi = p.data()[i], ui = u.data()[i];
      scale += (std::fabs(vi) + std::fabs(pi) + std::fabs(ui)) *
               (std::fabs(ui - pi) + std::fabs(vi - pi));
    }
    return scale / gamma;
  }
  std::vector<Tensor> candidates(const Sample& sample, const Tensor& p);
  // How much an iterative prox's inexactness may lower the prox objective's optimality: eps.
  double iterativeSlack(const Tensor& p, const Tensor& v, double gamma) const {
    return traits_.iterative ? kIterativeSuboptimality * objective(p, v, gamma) : 0.0;
  }

  const ProxFunction& g_;
  ProxTraits traits_;
  Rng rng_;
  std::vector<Sample> samples_;
};

PropertyCheck Checker::contract() {
  const Shape shapes[] = {{1, 1, 1, 1}, {1, 1, 1, 9}, {1, 1, 9, 1}, {1, 2, 1, 5}, kMainShape};
  int calls = 0;
  for (const Shape& shape : shapes) {
    for (float gamma : {0.05f, 1.0f}) {
      Tensor v = mixed(shape, rng_);
      Tensor input = v.clone();
      Tensor reference = proxOf(v, gamma);
      std::string where = "shape " + shape.str() + ", gamma " + formatGamma(gamma);
      if (!sameBits(v, input))
        return {"contract", CheckStatus::Failed, "prox modified its input (" + where + ")"};
      Tensor aliased = v.clone();
      g_.prox(aliased, gamma, aliased);
      if (!sameBits(aliased, reference))
        return {"contract", CheckStatus::Failed,
                "prox with out == v differs from prox into a separate output (" + where + ")"};
      Tensor dirty(shape);
      dirty.fill(std::numeric_limits<float>::quiet_NaN());
      g_.prox(v, gamma, dirty);
      if (!sameBits(dirty, reference))
        return {"contract", CheckStatus::Failed,
                "the result depends on the previous contents of out (" + where + ")"};
      calls += 3;
    }
  }
  return {"contract", CheckStatus::Passed,
          std::to_string(calls) + " calls: shapes kept, input unchanged, out == v and a "
                                  "NaN-filled out give identical bits"};
}

PropertyCheck Checker::finiteValue() {
  for (const Sample& sample : samples_) {
    double value = g_.value(proxOf(sample.v, sample.gamma));
    if (!std::isfinite(value))
      return {"finite-value", CheckStatus::Failed,
              "value(prox(v)) = " + detail::formatNumber(value) + " (" + sample.label +
                  "): prox outputs must lie in dom g"};
  }
  return {"finite-value", CheckStatus::Passed,
          std::to_string(samples_.size()) + " prox outputs have finite value"};
}

// Points to compare the prox output against: feasible ones from the prox itself (which matters
// for indicators and l0-type g, where random points are rarely in the domain), perturbations of
// several sizes, points between p and feasible points, and coordinate swaps that keep sparsity.
std::vector<Tensor> Checker::candidates(const Sample& sample, const Tensor& p) {
  const Tensor& v = sample.v;
  const double scale = std::max(rms(v), 1e-3);
  std::vector<Tensor> feasible;
  for (double sigma : {0.01, 0.1, 1.0})
    for (int repeat = 0; repeat < 2; ++repeat)
      feasible.push_back(
          proxOf(axpy(v, sigma * scale, gaussian(v.shape(), 1.0, rng_)), sample.gamma));
  feasible.push_back(proxOf(gaussian(v.shape(), 3.0, rng_), sample.gamma));

  std::vector<Tensor> points = feasible;
  for (double size : {1e-4, 1e-2, 1.0})
    for (int repeat = 0; repeat < 2; ++repeat)
      points.push_back(axpy(p, size * scale, gaussian(v.shape(), 1.0, rng_)));
  for (const Tensor& target : feasible)
    for (double theta : {1e-3, 0.1, 0.5})
      points.push_back(axpy(p, theta, axpy(target, -1.0, p)));
  // Rescalings of p decide optimality for positively homogeneous g (norms, TV).
  for (double factor : {0.5, 1.5, 2.0})
    points.push_back(axpy(Tensor(v.shape()), factor, p));
  std::uniform_int_distribution<int64_t> index(0, v.numel() - 1);
  std::uniform_int_distribution<size_t> pick(0, feasible.size() - 1);
  for (int swap = 0; swap < 24; ++swap) {
    Tensor u = p.clone();
    const Tensor& source = feasible[pick(rng_)];
    for (int k = 0; k < 2; ++k) {
      int64_t i = index(rng_);
      u.data()[i] = source.data()[i];
    }
    points.push_back(std::move(u));
  }
  for (int move = 0; move < 8; ++move) {
    Tensor u = p.clone();
    int64_t i = index(rng_);
    u.data()[i] = move % 2 ? v.data()[i] : 0.0f;
    points.push_back(std::move(u));
  }
  points.push_back(Tensor(v.shape()));
  points.push_back(v.clone());
  return points;
}

PropertyCheck Checker::optimality() {
  Worst worst;
  for (const Sample& sample : samples_) {
    const Tensor& v = sample.v;
    const double gamma = sample.gamma;
    Tensor p = proxOf(v, sample.gamma);
    const double gp = g_.value(p);
    const Tensor subgradient = axpy(v, -1.0, p); // times 1/gamma below
    const double psiP = objective(p, v, gamma);
    const double slack = iterativeSlack(p, v, gamma);
    int index = 0;
    for (const Tensor& u : candidates(sample, p)) {
      ++index;
      const double gu = g_.value(u);
      if (!std::isfinite(gu))
        continue; // outside dom g: both inequalities hold trivially
      const double rounding = roundingScale(v, p, u, gamma);
      auto where = [&] { return sample.label + ", candidate " + std::to_string(index); };
      if (traits_.convex) {
        Tensor step = axpy(u, -1.0, p);
        double linear = dot(subgradient, step) / gamma;
        double violation = gp + linear - gu;
        double tolerance =
            kExactTolerance * (std::fabs(gu) + std::fabs(gp) + std::fabs(linear) + rounding) +
            slack + 1e-300;
        worst.record(violation, tolerance, where);
      } else {
        double psiU = objective(u, v, gamma);
        double violation = psiP - psiU;
        double tolerance =
            kExactTolerance * (std::fabs(psiP) + std::fabs(psiU) + rounding) + slack + 1e-300;
        worst.record(violation, tolerance, where);
      }
    }
  }
  std::string what = traits_.convex ? "subgradient inequalities g(u) >= g(p) + <(v-p)/gamma, u-p>"
                                    : "comparisons Psi(p) <= Psi(u) of the prox objective";
  return {"optimality", worst.failed() ? CheckStatus::Failed : CheckStatus::Passed,
          worst.describe(what)};
}

PropertyCheck Checker::bruteForce1d() {
  if (!traits_.separable)
    return {"brute-force-1d", CheckStatus::Skipped, "not separable"};
  // A sweep of magnitudes over five decades in steps of 0.3% (thresholds and clamps that are
  // off by a few percent fall between sweep points), both signs, plus mixed random entries.
  const int64_t sweep = 8000, random = 200;
  Tensor v(Shape{1, 1, 1, sweep + random});
  for (int64_t i = 0; i < sweep; ++i)
    v.data()[i] = static_cast<float>((i % 2 ? -1.0 : 1.0) *
                                     std::pow(10.0, -3.0 + 5.0 * double(i / 2) / (sweep / 2)));
  Tensor noise = mixed(Shape{1, 1, 1, random}, rng_);
  std::copy(noise.data(), noise.data() + random, v.data() + sweep);

  Tensor scalar(Shape{1, 1, 1, 1});
  auto g1 = [&](double u) {
    scalar.data()[0] = static_cast<float>(u);
    return g_.value(scalar);
  };
  Worst worst;
  for (float gamma : {0.05f, 0.5f, 2.0f}) {
    Tensor p = proxOf(v, gamma);
    double radius = 1;
    for (int64_t i = 0; i < v.numel(); ++i)
      radius = std::max({radius, 1.25 * std::fabs(v.data()[i]), 1.25 * std::fabs(p.data()[i])});
    // The grid, plus every entry of the prox output: for a set as thin as a point (box with
    // lo == hi) those are the only feasible values, and each p_i must beat every p_j too.
    std::vector<std::pair<double, double>> points;
    points.reserve(2 * kGridHalf + 1 + p.numel());
    for (int k = 0; k <= 2 * kGridHalf; ++k) {
      double u = static_cast<float>(radius * (k - kGridHalf) / kGridHalf);
      points.emplace_back(u, g1(u));
    }
    for (int64_t j = 0; j < p.numel(); ++j)
      points.emplace_back(p.data()[j], g1(p.data()[j]));
    std::sort(points.begin() + 2 * kGridHalf + 1, points.end());
    std::inplace_merge(points.begin(), points.begin() + 2 * kGridHalf + 1, points.end());
    detail::GridMinimizer grid(std::move(points), gamma);
    for (int64_t i = 0; i < v.numel(); ++i) {
      const double vi = v.data()[i], pi = p.data()[i];
      const double best = grid.minimum(vi);
      const double psiP = g1(pi) + (pi - vi) * (pi - vi) / (2.0 * gamma);
      double tolerance = kExactTolerance * (std::fabs(psiP) + std::fabs(best)) + 1e-300;
      worst.record(psiP - best, tolerance, [&] {
        return "v = " + detail::formatNumber(vi) + ", p = " + detail::formatNumber(pi) +
               ", Psi(p) " + detail::formatNumber(psiP) + ", grid min " +
               detail::formatNumber(best) + ", gamma " + formatGamma(gamma);
      });
    }
  }
  return {"brute-force-1d", worst.failed() ? CheckStatus::Failed : CheckStatus::Passed,
          worst.describe("1-D prox objectives against a 200001-point grid")};
}

PropertyCheck Checker::firmNonexpansive() {
  if (!traits_.convex)
    return {"firm-nonexpansive", CheckStatus::Skipped, "nonconvex"};
  Worst worst;
  for (const Sample& sample : samples_) {
    const Tensor& x = sample.v;
    const double scale = std::max(rms(x), 1e-3);
    std::vector<Tensor> partners;
    for (double size : {1e-3, 1e-1, 1.0})
      partners.push_back(axpy(x, size * scale, gaussian(x.shape(), 1.0, rng_)));
    partners.push_back(mixed(x.shape(), rng_));
    Tensor px = proxOf(x, sample.gamma);
    int index = 0;
    for (const Tensor& y : partners) {
      ++index;
      Tensor py = proxOf(y, sample.gamma);
      Tensor dp = axpy(px, -1.0, py), dx = axpy(x, -1.0, y);
      double lhs = dot(dp, dp), rhs = dot(dp, dx);
      double magnitudes = norm(px) + norm(py) + norm(x) + norm(y);
      double relative = kExactTolerance + (traits_.iterative ? kIterativeSuboptimality : 0.0);
      double tolerance = relative * (std::fabs(lhs) + std::fabs(rhs)) +
                         kExactTolerance * magnitudes * (norm(dp) + norm(dx)) + 1e-300;
      worst.record(lhs - rhs, tolerance,
                   [&] { return sample.label + ", partner " + std::to_string(index); });
    }
  }
  return {"firm-nonexpansive", worst.failed() ? CheckStatus::Failed : CheckStatus::Passed,
          worst.describe("pairs ||p(x)-p(y)||^2 <= <p(x)-p(y), x-y>")};
}

PropertyCheck guarded(const std::string& name, const std::function<PropertyCheck()>& check) {
  try {
    return check();
  } catch (const std::exception& error) {
    return {name, CheckStatus::Failed, std::string("threw: ") + error.what()};
  }
}

} // namespace

bool PropertyReport::passed() const {
  return std::none_of(checks.begin(), checks.end(),
                      [](const PropertyCheck& c) { return c.status == CheckStatus::Failed; });
}

const PropertyCheck* PropertyReport::find(std::string_view checkName) const {
  for (const PropertyCheck& check : checks)
    if (check.name == checkName)
      return &check;
  return nullptr;
}

std::string PropertyReport::str() const {
  std::string text;
  for (const PropertyCheck& check : checks) {
    const char* status = check.status == CheckStatus::Passed   ? "PASS"
                         : check.status == CheckStatus::Failed ? "FAIL"
                                                               : "SKIP";
    text += std::string(status) + " " + check.name + ": " + check.detail + "\n";
  }
  return text;
}

PropertyReport checkProxProperties(const ProxEntry& entry, const ProxArgs& args, uint64_t seed) {
  PropertyReport report{entry.name, args, {}};
  std::unique_ptr<ProxFunction> bound;
  try {
    bound = makeProx(entry, args);
  } catch (const std::exception& error) {
    report.checks.push_back({"construct", CheckStatus::Failed, error.what()});
    return report;
  }
  const ProxTraits traits = effectiveTraits(entry, *bound);
  report.checks.push_back({"construct", CheckStatus::Passed, traitList(traits)});
  Checker checker(*bound, traits, seed);
  report.checks.push_back(guarded("contract", [&] { return checker.contract(); }));
  report.checks.push_back(guarded("finite-value", [&] { return checker.finiteValue(); }));
  report.checks.push_back(guarded("optimality", [&] { return checker.optimality(); }));
  report.checks.push_back(guarded("brute-force-1d", [&] { return checker.bruteForce1d(); }));
  report.checks.push_back(guarded("firm-nonexpansive", [&] { return checker.firmNonexpansive(); }));
  return report;
}

int runProxPropertyTests(const ProxEntry& entry, const ProxArgs& args, std::ostream& out,
                         uint64_t seed) {
  PropertyReport report = checkProxProperties(entry, args, seed);
  out << "prox " << entry.name;
  if (!args.empty())
    out << " (" << describeArgs(args) << ")";
  out << ", seed " << seed << "\n" << report.str();
  int failed = 0, skipped = 0;
  for (const PropertyCheck& check : report.checks) {
    failed += check.status == CheckStatus::Failed;
    skipped += check.status == CheckStatus::Skipped;
  }
  out << (report.passed() ? "OK" : "FAILED") << ": "
      << report.checks.size() - static_cast<size_t>(failed + skipped) << " passed, " << failed
      << " failed, " << skipped << " skipped\n";
  return report.passed() ? 0 : 1;
}

} // namespace podm::stdlib
