// The executor runs graphs with a stage loop: schedules, carries, select, monitors, stop
// predicate, Pre and Post regions. The reference is a hand-written loop on the same arithmetic.
#include "ir/builder.h"
#include "prox_test_util.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

#include <cmath>
#include <doctest/doctest.h>
#include <random>
#include <vector>

using namespace podm;
using ir::Op;
using ir::ValueId;

namespace {

constexpr int64_t kN = 32;
const std::vector<float> kKernel = {0.5f, 0.3f, 0.2f};
constexpr float kLambda = 0.05f;

Tensor signal(std::vector<float> v) {
  Tensor t(Shape{1, 1, 1, static_cast<int64_t>(v.size())});
  for (size_t i = 0; i < v.size(); ++i)
    t.data()[i] = v[i];
  return t;
}

std::vector<float> values(const Tensor& t) {
  return {t.data(), t.data() + t.numel()};
}

// numerics/conv.h conventions: true convolution, origin at kw/2, zero outside.
std::vector<float> conv(const std::vector<float>& x) {
  std::vector<float> y(x.size(), 0.f);
  const int64_t n = static_cast<int64_t>(x.size());
  for (int64_t j = 0; j < n; ++j)
    for (int64_t b = 0; b < 3; ++b) {
      int64_t i = j - (b - 1);
      if (i >= 0 && i < n)
        y[j] += kKernel[b] * x[i];
    }
  return y;
}
std::vector<float> convAdjoint(const std::vector<float>& y) {
  std::vector<float> x(y.size(), 0.f);
  const int64_t n = static_cast<int64_t>(y.size());
  for (int64_t j = 0; j < n; ++j)
    for (int64_t b = 0; b < 3; ++b) {
      int64_t i = j - (b - 1);
      if (i >= 0 && i < n)
        x[i] += kKernel[b] * y[j];
    }
  return x;
}
float soft(float v, float t) {
  return std::copysign(std::max(std::fabs(v) - t, 0.f), v);
}

struct Problem {
  std::vector<float> b, gammas, cs;
};

Problem makeProblem(int stages) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> truth(kN, 0.f);
  for (int64_t i = 0; i < kN; i += 5)
    truth[i] = normal(rng);
  Problem p;
  p.b = conv(truth);
  for (float& v : p.b)
    v += 0.01f * normal(rng);
  for (int l = 0; l < stages; ++l) {
    p.gammas.push_back(0.9f - 0.02f * static_cast<float>(l));
    // Alternating tight and loose thresholds make both branches of the check happen.
    p.cs.push_back(l % 3 == 1 ? 1e-7f : 10.f);
  }
  return p;
}

struct Reference {
  std::vector<float> x;
  std::vector<float> change, branch, f;
  int stages = 0;
};

// The hand-written loop: the proximal-gradient step with a check and a damped feedback step.
Reference handLoop(const Problem& p, int stages, float stopBelow) {
  Reference r;
  r.x.assign(kN, 0.f);
  for (int l = 0; l < stages; ++l) {
    const float gamma = p.gammas[l];
    std::vector<float> res = conv(r.x);
    for (int64_t i = 0; i < kN; ++i)
      res[i] -= p.b[i];
    std::vector<float> g = convAdjoint(res);
    std::vector<float> xg(kN), xf(kN);
    double change = 0, f = 0;
    for (int64_t i = 0; i < kN; ++i) {
      xg[i] = soft(1.f * r.x[i] + (-gamma) * g[i], gamma * kLambda);
      xf[i] = soft(1.f * r.x[i] + (-0.5f * gamma) * g[i], 0.5f * gamma * kLambda);
      double d = static_cast<double>(xg[i] - r.x[i]);
      change += d * d;
      f += static_cast<double>(res[i]) * res[i];
    }
    const bool ok = static_cast<float>(change) <= p.cs[l];
    r.x = ok ? xg : xf;
    r.change.push_back(static_cast<float>(change));
    r.branch.push_back(ok ? 1.f : 0.f);
    r.f.push_back(0.5f * static_cast<float>(f));
    r.stages = l + 1;
    if (static_cast<float>(change) < stopBelow)
      break;
  }
  return r;
}

ir::Graph proxGradGraph(const Problem& p, int stages, float stopBelow) {
  ir::Graph g("prox_grad_1d");
  ir::Builder b(g);
  const ir::Dims d{1, 1, 1, kN};
  ValueId obs = b.input("b", ir::Type::real(d));
  ValueId k = b.constant(ir::Type::real({1, 1, 1, 3}), kKernel, "k");
  ValueId x0 = b.constant(ir::Type::real(d), std::vector<float>(kN, 0.f), "x0");
  ValueId one = b.scalar(1.f);
  ValueId tol = b.scalar(stopBelow);
  b.beginLoop(stages);
  ValueId x = b.loopState(x0, "x");
  ValueId gamma = b.schedule("gamma", {p.gammas.begin(), p.gammas.end()});
  ValueId c = b.schedule("c", {p.cs.begin(), p.cs.end()});
  ValueId res = b.op(Op::Sub, {b.op(Op::Conv2d, {x, k}), obs}, {}, "residual");
  ValueId grad = b.op(Op::Conv2dAdjoint, {res, k}, {}, "grad");
  const ir::Attrs l1{{"fn", std::string("l1")}, {"args", ir::NamedFloats{{"lambda", kLambda}}}};
  ValueId v = b.op(Op::Axpby, {one, x, b.op(Op::Neg, {gamma}), grad});
  ValueId xg = b.op(Op::Prox, {v, gamma}, l1, "x_G");
  ValueId change = b.op(Op::Norm2Sq, {b.op(Op::Sub, {xg, x})}, {}, "change");
  ValueId ok = b.op(Op::Le, {change, c}, {}, "check");
  ValueId vf = b.op(Op::Axpby, {one, x, b.op(Op::Scale, {gamma}, {{"alpha", -0.5}}), grad});
  ValueId xf = b.op(Op::Prox, {vf, b.op(Op::Scale, {gamma}, {{"alpha", 0.5}})}, l1, "feedback");
  ValueId next = b.op(Op::Select, {ok, xg, xf}, {}, "x_next");
  b.monitor("change", change);
  b.monitor("branch", ok);
  b.monitor("f", b.op(Op::Scale, {b.op(Op::Norm2Sq, {res})}, {{"alpha", 0.5}}));
  b.carry(x, next);
  b.stopWhen(b.op(Op::Lt, {change, tol}));
  b.endLoop();
  ValueId result = b.loopResult(x);
  b.output("x", result);
  b.output("energy", b.op(Op::Norm2Sq, {result}));
  return g;
}

void checkClose(const std::vector<float>& got, const std::vector<float>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i)
    CHECK_MESSAGE(std::fabs(got[i] - want[i]) <= tol,
                  "index " << i << ": " << got[i] << " vs " << want[i]);
}

} // namespace

TEST_CASE("executor: a straight-line graph") {
  ir::Graph g("line");
  ir::Builder b(g);
  ValueId x = b.input("x", ir::Type::real({1, 1, 2, 2}));
  ValueId s = b.input("s", ir::Type::scalar());
  ValueId y = b.op(Op::Fma, {x, s, b.scalar(1.f)});
  b.output("y", y);
  b.output("sum", b.op(Op::Sum, {y}));
  b.output("x", x);
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  Tensor xt(Shape{1, 1, 2, 2});
  for (int i = 0; i < 4; ++i)
    xt.data()[i] = static_cast<float>(i);
  Tensor st(Shape{1, 1, 1, 1});
  st.data()[0] = 2.f;
  RunResult r = ex.run({{"x", xt}, {"s", st}});
  CHECK(values(r.outputs.at("y")) == std::vector<float>{1, 3, 5, 7});
  CHECK(r.outputs.at("sum").data()[0] == 16.f);
  CHECK(values(r.outputs.at("x")) == values(xt));
  CHECK(r.stages == 0);
  CHECK(ex.notes().empty());
}

TEST_CASE("executor: proximal gradient with schedules, check and select matches a hand loop") {
  const int stages = 40;
  Problem p = makeProblem(stages);
  Reference ref = handLoop(p, stages, 0.f);
  // Both branches of the check must have been taken for this test to mean anything.
  CHECK(std::count(ref.branch.begin(), ref.branch.end(), 1.f) > 0);
  CHECK(std::count(ref.branch.begin(), ref.branch.end(), 0.f) > 0);

  testing::TestProxProvider prox;
  cpu::CpuBackend cpu;
  for (bool planned : {true, false}) {
    CAPTURE(planned);
    ExecutorOptions options;
    options.prox = &prox;
    options.planMemory = planned;
    Executor ex(proxGradGraph(p, stages, 0.f), cpu, nullptr, options);
    for (int run = 0; run < 2; ++run) { // a second run starts from the same initial state
      RunResult r = ex.run({{"b", signal(p.b)}});
      CHECK(r.stages == stages);
      checkClose(values(r.outputs.at("x")), ref.x, 1e-6);
      REQUIRE(r.monitors.find("branch"));
      CHECK(*r.monitors.find("branch") == ref.branch);
      checkClose(*r.monitors.find("change"), ref.change, 1e-6);
      checkClose(*r.monitors.find("f"), ref.f, 1e-6);
      double energy = 0;
      for (float v : ref.x)
        energy += double{v} * v;
      CHECK(r.outputs.at("energy").data()[0] == doctest::Approx(energy).epsilon(1e-6));
    }
  }
}

TEST_CASE("executor: the stop predicate ends the loop early") {
  const int stages = 400;
  Problem p = makeProblem(stages);
  const float tol = 1e-9f;
  Reference ref = handLoop(p, stages, tol);
  REQUIRE(ref.stages < stages);
  testing::TestProxProvider prox;
  cpu::CpuBackend cpu;
  ExecutorOptions options;
  options.prox = &prox;
  Executor ex(proxGradGraph(p, stages, tol), cpu, nullptr, options);
  RunResult r = ex.run({{"b", signal(p.b)}});
  CHECK(r.stages == ref.stages);
  CHECK(r.monitors.find("change")->size() == static_cast<size_t>(ref.stages));
  checkClose(values(r.outputs.at("x")), ref.x, 1e-6);
}

TEST_CASE("executor: carries are a parallel assignment (FISTA-style and swapped states)") {
  ir::Graph g("carries");
  ir::Builder b(g);
  const ir::Dims d{1, 1, 1, 4};
  ValueId a0 = b.input("a", ir::Type::real(d));
  ValueId b0 = b.input("b", ir::Type::real(d));
  ValueId half = b.scalar(0.5f);
  b.beginLoop(5);
  ValueId x = b.loopState(a0, "x");
  ValueId prev = b.loopState(a0, "prev");
  ValueId p = b.loopState(a0, "p");
  ValueId q = b.loopState(b0, "q");
  // x_next = x + 0.5 (x - prev) + 1; prev_next = x (a state); p and q swap every stage.
  ValueId momentum = b.op(Op::Fma, {half, b.op(Op::Sub, {x, prev}), x});
  ValueId xn = b.op(Op::Add, {momentum, b.scalar(1.f)});
  b.carry(x, xn);
  b.carry(prev, x);
  b.carry(p, q);
  b.carry(q, p);
  b.endLoop();
  b.output("x", b.loopResult(x));
  b.output("prev", b.loopResult(prev));
  b.output("p", b.loopResult(p));
  b.output("q", b.loopResult(q));

  std::vector<float> av = {1, 2, 3, 4}, bv = {-1, -2, -3, -4};
  std::vector<float> rx = av, rprev = av, rp = av, rq = bv;
  for (int l = 0; l < 5; ++l) {
    std::vector<float> nx(4);
    for (int i = 0; i < 4; ++i)
      nx[i] = (0.5f * (rx[i] - rprev[i]) + rx[i]) + 1.f;
    rprev = rx;
    rx = nx;
    std::swap(rp, rq);
  }
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  RunResult r = ex.run({{"a", signal(av)}, {"b", signal(bv)}});
  CHECK(values(r.outputs.at("x")) == rx);
  CHECK(values(r.outputs.at("prev")) == rprev);
  CHECK(values(r.outputs.at("p")) == rp);
  CHECK(values(r.outputs.at("q")) == rq);
}

TEST_CASE("executor: Pre values used in the body and a Post region") {
  ir::Graph g("regions");
  ir::Builder b(g);
  const ir::Dims d{1, 1, 4, 4};
  ValueId y = b.input("y", ir::Type::real(d));
  ValueId twice = b.op(Op::Scale, {y}, {{"alpha", 2.0}}); // Pre, read by every stage
  b.beginLoop(3);
  ValueId x = b.loopState(y, "x");
  ValueId step = b.schedule("step", {1.0, 10.0, 100.0});
  b.carry(x, b.op(Op::Axpby, {b.scalar(1.f), x, step, twice}));
  b.endLoop();
  ValueId result = b.loopResult(x);
  b.output("out", b.op(Op::Sub, {result, y}));
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  Tensor yt(Shape{1, 1, 4, 4});
  for (int i = 0; i < 16; ++i)
    yt.data()[i] = 0.25f * static_cast<float>(i);
  RunResult r = ex.run({{"y", yt}});
  for (int i = 0; i < 16; ++i)
    CHECK(r.outputs.at("out").data()[i] == doctest::Approx(111.f * 2.f * yt.data()[i]));
}

TEST_CASE("executor: clear errors for inputs and missing prox providers") {
  ir::Graph g("errors");
  ir::Builder b(g);
  ValueId x = b.input("x", ir::Type::real({1, 1, 2, 2}));
  b.output("y", b.op(Op::Prox, {x, b.scalar(1.f)}, {{"fn", std::string("l1")}}));
  cpu::CpuBackend cpu;
  setDefaultProxProvider(nullptr);
  CHECK_THROWS_WITH(Executor(g, cpu), doctest::Contains("prox 'l1' needs a prox provider"));
  testing::TestProxProvider prox;
  ExecutorOptions options;
  options.prox = &prox;
  Executor ex(g, cpu, nullptr, options);
  CHECK_THROWS_WITH(ex.run({}), doctest::Contains("missing input 'x' (f32[1x1x2x2])"));
  CHECK_THROWS_WITH(ex.run({{"x", Tensor(Shape{1, 1, 2, 3})}}),
                    doctest::Contains("input 'x' must be f32[1x1x2x2], got f32[1x1x2x3]"));
  CHECK_THROWS_WITH(ex.run({{"x", Tensor(Shape{1, 1, 2, 2})}, {"z", Tensor(Shape{1, 1, 1, 1})}}),
                    doctest::Contains("no input named 'z'"));
  ir::Graph unknown("unknown");
  ir::Builder ub(unknown);
  ValueId ux = ub.input("x", ir::Type::real({1, 1, 2, 2}));
  ub.output("y", ub.op(Op::Prox, {ux, ub.scalar(1.f)}, {{"fn", std::string("nope")}}));
  CHECK_THROWS_WITH(Executor(unknown, cpu, nullptr, options),
                    doctest::Contains("prox 'nope': unknown prox 'nope'"));
  // The process default is used when an executor is given none.
  setDefaultProxProvider(&prox);
  Executor viaDefault(g, cpu);
  Tensor xt(Shape{1, 1, 2, 2});
  xt.fill(3.f);
  CHECK(viaDefault.run({{"x", xt}}).outputs.at("y").data()[0] == 2.f);
  setDefaultProxProvider(nullptr);
}
