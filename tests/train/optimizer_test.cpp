// Optimizers: Adam and SGD (with momentum, Nesterov, weight decay) against reference updates
// written from the published formulas in double; learning-rate schedules; global-norm
// clipping; state()/loadState() resuming bit-identically; Adam minimising a quadratic.
#include "train/optimizer.h"

#include <cmath>
#include <doctest/doctest.h>
#include <random>
#include <stdexcept>
#include <vector>

using namespace podm;
using namespace podm::train;

namespace {

Parameter makeParam(const std::string& name, Shape s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Parameter p{name, Tensor(s), Tensor(s)};
  for (int64_t i = 0; i < s.numel(); ++i)
    p.value.data()[i] = u(rng);
  return p;
}

// A deterministic gradient for step t that changes sign and size from step to step.
void setGrad(Parameter& p, int t) {
  for (int64_t i = 0; i < p.grad.numel(); ++i)
    p.grad.data()[i] = float(std::sin(0.7 * double(i + 1) + 1.3 * t) * (1.0 + 0.1 * t));
}

std::vector<double> toDouble(const Tensor& t) {
  return std::vector<double>(t.data(), t.data() + t.numel());
}

double maxDiff(const std::vector<double>& a, const Tensor& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::abs(a[i] - double(b.data()[i])));
  return m;
}

OptimizerOptions constantLr(double lr, double wd = 0) {
  OptimizerOptions o;
  o.lr.base = lr;
  o.weightDecay = wd;
  return o;
}

} // namespace

TEST_CASE("Adam matches the reference AdamW update") {
  const double lr = 0.01, wd = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  Parameter a = makeParam("a", Shape{2, 3, 1, 1}, 1), b = makeParam("b", Shape{1, 1, 1, 4}, 2);
  std::vector<double> xa = toDouble(a.value), xb = toDouble(b.value);
  std::vector<double> ma(xa.size()), va(xa.size()), mb(xb.size()), vb(xb.size());
  Adam opt(constantLr(lr, wd));
  auto ref = [&](std::vector<double>& x, std::vector<double>& m, std::vector<double>& v,
                 const Tensor& g, int t) {
    for (size_t i = 0; i < x.size(); ++i) {
      double gi = g.data()[i];
      x[i] *= 1 - lr * wd;
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      double mh = m[i] / (1 - std::pow(b1, t)), vh = v[i] / (1 - std::pow(b2, t));
      x[i] -= lr * mh / (std::sqrt(vh) + eps);
    }
  };
  for (int t = 1; t <= 6; ++t) {
    setGrad(a, t);
    setGrad(b, -t);
    ref(xa, ma, va, a.grad, t);
    ref(xb, mb, vb, b.grad, t);
    opt.step({&a, &b});
    CHECK(maxDiff(xa, a.value) < 1e-6);
    CHECK(maxDiff(xb, b.value) < 1e-6);
  }
  CHECK(opt.steps() == 6);
}

TEST_CASE("SGD with momentum and Nesterov matches the reference update") {
  for (bool nesterov : {false, true}) {
    CAPTURE(nesterov);
    const double lr = 0.05, mu = 0.8, wd = 0.01;
    Parameter p = makeParam("w", Shape{1, 2, 2, 2}, 3);
    std::vector<double> x = toDouble(p.value), buf(x.size(), 0.0);
    Sgd opt(constantLr(lr, wd), SgdOptions{mu, nesterov});
    for (int t = 1; t <= 5; ++t) {
      setGrad(p, t);
      for (size_t i = 0; i < x.size(); ++i) {
        double g = p.grad.data()[i];
        x[i] *= 1 - lr * wd;
        buf[i] = t == 1 ? g : mu * buf[i] + g;
        x[i] -= lr * (nesterov ? g + mu * buf[i] : buf[i]);
      }
      opt.step({&p});
      CHECK(maxDiff(x, p.value) < 1e-6);
    }
  }
}

TEST_CASE("global-norm clipping scales all gradients together and returns the norm before") {
  Parameter a = makeParam("a", Shape{1, 1, 1, 2}, 4), b = makeParam("b", Shape{1, 1, 1, 1}, 5);
  a.grad.data()[0] = 3, a.grad.data()[1] = 0, b.grad.data()[0] = 4; // norm 5
  OptimizerOptions o = constantLr(1e-3);
  o.clipNorm = 1.0;
  Sgd opt(o, SgdOptions{0, false});
  std::vector<double> before = toDouble(a.value);
  double norm = opt.step({&a, &b});
  CHECK(norm == doctest::Approx(5.0));
  // Clipped in place to norm 1, direction kept.
  CHECK(a.grad.data()[0] == doctest::Approx(0.6).epsilon(1e-5));
  CHECK(b.grad.data()[0] == doctest::Approx(0.8).epsilon(1e-5));
  CHECK(a.value.data()[0] == doctest::Approx(before[0] - 1e-3 * 0.6).epsilon(1e-6));
  // Below the threshold nothing changes.
  a.grad.data()[0] = 0.3, b.grad.data()[0] = 0.4;
  CHECK(opt.step({&a, &b}) == doctest::Approx(0.5));
  CHECK(a.grad.data()[0] == 0.3f);
}

TEST_CASE("learning-rate schedules") {
  LrSchedule s;
  s.base = 0.1;
  CHECK(s.at(0) == 0.1);
  CHECK(s.at(12345) == 0.1);
  s.warmup = 4;
  CHECK(s.at(0) == doctest::Approx(0.025));
  CHECK(s.at(3) == doctest::Approx(0.1));
  CHECK(s.at(4) == doctest::Approx(0.1));
  s.kind = ScheduleKind::Step;
  s.stepSize = 10;
  s.gamma = 0.5;
  CHECK(s.at(4 + 9) == doctest::Approx(0.1));
  CHECK(s.at(4 + 10) == doctest::Approx(0.05));
  CHECK(s.at(4 + 25) == doctest::Approx(0.025));
  s.kind = ScheduleKind::Cosine;
  s.total = 100;
  s.minLr = 0.01;
  CHECK(s.at(4) == doctest::Approx(0.1));
  CHECK(s.at(4 + 50) == doctest::Approx(0.055));
  CHECK(s.at(4 + 100) == doctest::Approx(0.01));
  CHECK(s.at(4 + 500) == doctest::Approx(0.01));
  for (int64_t t = 4; t < 104; ++t)
    CHECK(s.at(t + 1) <= s.at(t));
  CHECK(parseSchedule("cosine") == ScheduleKind::Cosine);
  CHECK_THROWS_WITH_AS(parseSchedule("linear"), doctest::Contains("'linear'"),
                       std::invalid_argument);
  // The optimizer applies the schedule: with plain SGD the step taken is lr·g.
  OptimizerOptions o = constantLr(0.1);
  o.lr.warmup = 2;
  Sgd opt(o, SgdOptions{0, false});
  Parameter p = makeParam("p", Shape{1, 1, 1, 1}, 6);
  float x0 = p.value.data()[0];
  p.grad.data()[0] = 1;
  CHECK(opt.learningRate() == doctest::Approx(0.05));
  opt.step({&p});
  CHECK(p.value.data()[0] == doctest::Approx(x0 - 0.05f));
}

TEST_CASE("state round trip resumes identically") {
  for (std::string kind : {"adam", "sgd"}) {
    CAPTURE(kind);
    OptimizerOptions o = constantLr(0.02, 0.01);
    o.lr.kind = ScheduleKind::Cosine;
    o.lr.total = 10;
    Parameter a = makeParam("net.conv0.weight", Shape{2, 1, 3, 3}, 7);
    Parameter b = makeParam("net.conv0.bias", Shape{1, 1, 1, 2}, 8);
    auto first = makeOptimizer(kind, o);
    for (int t = 1; t <= 3; ++t) {
      setGrad(a, t), setGrad(b, t);
      first->step({&a, &b});
    }
    StateMap saved = first->state();
    CHECK(saved.count("optimizer.step"));
    Parameter a2{a.name, a.value.clone(), Tensor(a.value.shape())};
    Parameter b2{b.name, b.value.clone(), Tensor(b.value.shape())};
    auto second = makeOptimizer(kind, o);
    second->loadState(saved);
    CHECK(second->steps() == 3);
    for (int t = 4; t <= 6; ++t) {
      setGrad(a, t), setGrad(b, t), setGrad(a2, t), setGrad(b2, t);
      first->step({&a, &b});
      second->step({&a2, &b2});
    }
    for (int64_t i = 0; i < a.value.numel(); ++i)
      CHECK(a.value.data()[i] == a2.value.data()[i]);
    for (int64_t i = 0; i < b.value.numel(); ++i)
      CHECK(b.value.data()[i] == b2.value.data()[i]);
  }
}

TEST_CASE("state errors name the problem") {
  Adam adam(constantLr(0.1));
  Sgd sgd(constantLr(0.1));
  Parameter p = makeParam("w", Shape{1, 1, 2, 2}, 9);
  setGrad(p, 1);
  sgd.step({&p});
  CHECK_THROWS_WITH_AS(adam.loadState(sgd.state()), doctest::Contains("is not adam state"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(adam.loadState({}), doctest::Contains("optimizer.step"),
                       std::invalid_argument);
  // A slot of another shape surfaces at the next step, naming the parameter.
  StateMap st = adam.state();
  st["adam.m.w"] = Tensor(Shape{1, 1, 1, 3});
  st["adam.v.w"] = Tensor(Shape{1, 1, 1, 3});
  adam.loadState(st);
  CHECK_THROWS_WITH_AS(adam.step({&p}), doctest::Contains("'w'"), std::invalid_argument);
  Parameter q = p;
  CHECK_THROWS_WITH_AS(sgd.step({&p, &q}), doctest::Contains("two parameters"),
                       std::invalid_argument);
}

TEST_CASE("Adam minimises a badly scaled quadratic") {
  // f(x) = Σ a_i (x_i − c_i)², curvatures over three decades.
  Parameter p = makeParam("x", Shape{1, 1, 1, 6}, 10);
  const double a[6] = {0.01, 0.1, 1, 3, 10, 0.5}, c[6] = {1, -2, 0.5, 3, -1, 0};
  auto f = [&] {
    double s = 0;
    for (int i = 0; i < 6; ++i)
      s += a[i] * std::pow(p.value.data()[i] - c[i], 2);
    return s;
  };
  double f0 = f();
  OptimizerOptions o = constantLr(0.05);
  o.lr.kind = ScheduleKind::Cosine;
  o.lr.total = 2000;
  Adam opt(o);
  for (int t = 0; t < 2000; ++t) {
    for (int i = 0; i < 6; ++i)
      p.grad.data()[i] = float(2 * a[i] * (p.value.data()[i] - c[i]));
    opt.step({&p});
  }
  CHECK(f() < 1e-6 * f0);
  for (int i = 0; i < 6; ++i)
    CHECK(p.value.data()[i] == doctest::Approx(c[i]).epsilon(1e-2).scale(1));
}
