// Finite-difference checks of every backward rule, driven by one table (rule_rows.h): each row runs
// one op on random operands through the CPU backend, takes a random cotangent w, and compares the
// rule's operand cotangent g_i with central differences of t -> <w, op(x + t d_i)> along a random
// direction d_i, accumulated in double (the kernels themselves are f32). Tolerance: |fd - <g, d>|
// <= tol * (|<g, d>| + 0.01 ||g|| ||d|| / sqrt(n)), tol = 5e-3 unless a row says otherwise. A rule
// that gives a wanted operand no cotangent (comparisons, sign, the select condition) must see a
// zero finite difference. The coverage test fails when the rule table and the gradient-check
// table (rule_rows.h, shared with cuda_rules_test.cpp) disagree.
#include "gradcheck.h"
#include "ir/builder.h"
#include "rule_rows.h"
#include "runtime/autodiff/rule.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/prox_provider.h"

#include <doctest/doctest.h>
#include <functional>
#include <set>
#include <sstream>

using namespace podm;
using namespace podm::testing;
using autodiff::BackwardRule;
using autodiff::OpRunner;
using autodiff::Value;
using ir::Op;
using ir::Type;

namespace {

struct Fixture {
  cpu::CpuBackend cpu;
  FakeNetworkProvider networks{{0.7f}};
  PrepareContext context() {
    PrepareContext c;
    c.prox = &engine::installStdlibProxProvider();
    c.network = &networks;
    return c;
  }
};

// <w, op(operands)> in double.
double probe(OpRunner& ops, const Row& row, const std::vector<Value>& operands, const Value& w,
             int64_t stage) {
  return innerD(w, ops.run(row.op, operands, row.attrs, stage));
}

void checkRow(const Row& row, std::mt19937& rng) {
  INFO(rowName(row));
  Fixture f;
  OpRunner ops(f.cpu, f.context());
  const int64_t stage = stageOf(row);
  const std::vector<Value> x = drawOperands(row, rng);
  const Value y = ops.run(row.op, x, row.attrs, stage);
  const Value w = randomValue(y.type, rng);
  const std::vector<uint8_t> wants = wantsOf(row);
  REQUIRE(static_cast<bool>(autodiff::ruleTable().find(row.op)));
  const std::vector<Value> d = applyRule(row, ops, f.context(), x, y, w, wants);

  for (size_t i = 0; i < x.size(); ++i) {
    if (!wants[i])
      continue;
    INFO("operand " << i);
    const Value dir = randomValue(x[i].type, rng);
    std::vector<Value> plus = x, minus = x;
    plus[i] = shifted(x[i], dir, row.step);
    minus[i] = shifted(x[i], dir, -row.step);
    const double fd =
        (probe(ops, row, plus, w, stage) - probe(ops, row, minus, w, stage)) / (2 * row.step);
    if (d[i].tensor.empty()) { // the rule says: no gradient
      CHECK(std::fabs(fd) <= 1e-6);
      continue;
    }
    REQUIRE(d[i].tensor.shape() == x[i].tensor.shape());
    REQUIRE(d[i].tensor.dtype() == x[i].tensor.dtype());
    const Value g{d[i].tensor, x[i].type};
    const double an = innerD(g, dir);
    const double scale = std::fabs(an) + 0.01 * normD(g) * normD(dir) /
                                             std::sqrt(static_cast<double>(floatCount(dir)));
    CHECK_MESSAGE(std::fabs(fd - an) <= row.tol * scale,
                  "finite difference " << fd << " vs rule " << an);
  }
}

} // namespace

TEST_CASE("every backward rule agrees with central finite differences") {
  std::mt19937 rng(20181203);
  for (const Row& row : gradientCheckRows())
    checkRow(row, rng);
}

TEST_CASE("the gradient-check table covers exactly the ops of the rule table") {
  std::set<Op> tested, ruled;
  for (const Row& r : gradientCheckRows())
    tested.insert(r.op);
  for (Op op : autodiff::ruleTable().ops())
    ruled.insert(op);
  for (Op op : ruled)
    CHECK_MESSAGE(tested.count(op), "rule without a gradient-check row: " << ir::opName(op));
  for (Op op : tested)
    CHECK_MESSAGE(ruled.count(op),
                  "gradient-check row for an op without a rule: " << ir::opName(op));
}

// The half-spectrum adjoints on spectra that are not Hermitian, for even and odd widths: the
// pairing <rfft2 x, G> = <x, rfft2^T G> and <irfft2 Y, g> = <Y, irfft2^T g> to f32 accuracy.
TEST_CASE("rfft2 and irfft2 rules are their real-linear adjoints (dot-product test)") {
  std::mt19937 rng(5);
  Fixture f;
  OpRunner ops(f.cpu, f.context());
  for (int64_t width : {8, 7}) {
    INFO("width " << width);
    const Type real = R(2, 6, width), spec = C(2, 6, width / 2 + 1);
    const Value x = randomValue(real, rng), G = randomValue(spec, rng);
    const Value X = ops.run(Op::Rfft2, {x});
    std::vector<uint8_t> wants{1};
    ir::Graph g;
    std::vector<Value> d(1);
    autodiff::ruleTable().find(Op::Rfft2)(
        autodiff::RuleContext{g, ir::ValueId{}, std::span(&x, 1), X, G, -1, ops, wants}, d);
    const double lhs = innerD(X, G), rhs = innerD(x, d[0]);
    CHECK(std::fabs(lhs - rhs) <= 1e-5 * (std::fabs(lhs) + normD(X) * normD(G) * 1e-2));

    const Value Y = randomValue(spec, rng), gy = randomValue(real, rng);
    const ir::Attrs attrs{{"width", width}};
    const Value y = ops.run(Op::Irfft2, {Y}, attrs);
    std::vector<Value> dy(1);
    autodiff::ruleTable().find(Op::Irfft2)(
        autodiff::RuleContext{g, ir::ValueId{}, std::span(&Y, 1), y, gy, -1, ops, wants}, dy);
    const double lhs2 = innerD(y, gy), rhs2 = innerD(Y, dy[0]);
    CHECK(std::fabs(lhs2 - rhs2) <= 1e-5 * (std::fabs(lhs2) + normD(y) * normD(gy) * 1e-2));
  }
}

TEST_CASE("rules that cannot differentiate a wanted operand say which and why") {
  std::mt19937 rng(9);
  Fixture f;
  OpRunner ops(f.cpu, f.context());
  const Value x = randomValue(R(1, 6, 6), rng), k = randomValue(R(1, 3, 3), rng);
  const std::vector<Value> operands{x, k};
  const Value y = ops.run(Op::Conv2d, operands, {{"boundary", std::string("zero")}});
  std::vector<uint8_t> wants{1, 1};
  ir::Graph g;
  ir::Builder b(g);
  ir::ValueId xi = b.input("x", x.type), ki = b.input("k", k.type);
  ir::ValueId conv = b.op(Op::Conv2d, {xi, ki}, {}, "blurred");
  std::vector<Value> d(2);
  CHECK_THROWS_WITH(autodiff::ruleTable().find(Op::Conv2d)(
                        autodiff::RuleContext{g, conv, operands, y, y, -1, ops, wants}, d),
                    doctest::Contains("conv2d \"blurred\": no gradient with respect to the "
                                      "convolution kernel"));
}

// tv has no derivative rule: the CLI provider reports it with the prox's name.
TEST_CASE("a prox without a derivative rule is named when a gradient reaches it") {
  const ProxProvider& provider = engine::installStdlibProxProvider();
  auto tv = provider.make("tv_iso", {});
  Tensor v = Tensor::image(4, 4), dOut = Tensor::image(4, 4), dV;
  CHECK_THROWS_WITH(tv->vjp(v, 0.1f, dOut, dV),
                    doctest::Contains("prox 'tv_iso': no derivative rule"));
  auto l1 = provider.make("l1", {});
  CHECK_THROWS_WITH(l1->vjp(v, 0.1f, Tensor::image(3, 4), dV),
                    doctest::Contains("does not match input"));
}
