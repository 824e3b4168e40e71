// The graph passes: each changes what it should, returns its input when it has nothing to do, and
// the optimized graph of a lowered PODM model computes what the lowered graph computes.
#include "../lower/lower_helpers.h"
#include "compiler/passes/passes.h"
#include "engine/cpu_evaluator.h"
#include "ir/builder.h"
#include "ir/printer.h"
#include "ir/verifier.h"

#include <doctest/doctest.h>
#include <sstream>

using namespace podm;
using namespace podm::testing;
using ir::Op;

namespace {

size_t countIn(const ir::Graph& g, ir::Region r) {
  auto [b, e] = g.regionRange(r);
  return e - b;
}

// y input; a Body loop x <- x * (y + 2) with a dead node and an invariant add.
ir::Graph sample() {
  ir::Graph g("sample");
  ir::Builder b(g);
  ir::Type t = ir::Type::real({1, 1, 2, 2});
  ir::ValueId y = b.input("y", t);
  ir::ValueId two = b.scalar(2.f);
  ir::ValueId three = b.scalar(3.f);
  b.beginLoop(3);
  ir::ValueId x = b.loopState(y, "x");
  ir::ValueId inv = b.op(Op::Add, {y, b.op(Op::Mul, {two, three})}, {}, "invariant");
  b.op(Op::Neg, {x}, {}, "dead");
  ir::ValueId next = b.op(Op::Mul, {x, inv});
  b.monitor("n", b.op(Op::Norm2Sq, {next}));
  b.carry(x, next);
  b.endLoop();
  b.output("x", b.loopResult(x));
  return g;
}

} // namespace

TEST_CASE("dead-node removal drops what no root reaches and nothing else") {
  ir::Graph g = sample();
  ir::Graph out = passes::removeDeadNodes(g);
  ir::verify(out);
  CHECK(out.size() == g.size() - 1);
  CHECK(ir::dump(out).find("\"dead\"") == std::string::npos);
  CHECK(passes::removeDeadNodes(out) == out);
}

TEST_CASE("hoisting moves loop-invariant Body nodes to Pre") {
  ir::Graph g = sample();
  ir::Graph out = passes::hoistInvariants(g);
  ir::verify(out);
  CHECK(countIn(out, ir::Region::Pre) == countIn(g, ir::Region::Pre) + 2); // mul(2,3), add
  CHECK(passes::hoistInvariants(out) == out);
  Tensor y = Tensor::image(2, 2);
  for (int i = 0; i < 4; ++i)
    y.data()[i] = 0.5f * i;
  CHECK(relativeError(runGraph(out, {{"y", y}}).outputs.at("x"),
                      toImage(runGraph(g, {{"y", y}}).outputs.at("x"))) < 1e-7);
}

TEST_CASE("constant folding evaluates constant subgraphs on the CPU") {
  ir::Graph g = passes::hoistInvariants(sample());
  ir::Graph out = passes::removeDeadNodes(passes::foldConstants(g, engine::cpuEvaluator()));
  ir::verify(out);
  std::string text = ir::dump(out);
  CHECK(text.find("value=[6]") != std::string::npos); // 2 * 3
  CHECK(text.find("mul(%1, %2)") == std::string::npos);
  CHECK(passes::foldConstants(out, engine::cpuEvaluator()) == out);
  CHECK(passes::foldConstants(g, {}) == g);
}

TEST_CASE("the pipeline keeps a lowered PODM model's results and hoists its F-step constants") {
  std::mt19937 rng(1);
  Tensor o = randomImage(16, 16, rng), k = randomKernel(3, rng);
  std::string text =
      "model t\ninput o : image\ninput k : kernel\nop K = conv(k)\nvar x : image = o\n"
      "f(x) = 0.5 * || K x - o ||^2\ng(x) = 0.01 * l1(x) + box(x, lo = 0, hi = 1)\n"
      "d(x, a) = mu / 2 * || x - a ||^2\n"
      "stages 12 podm { gamma = 0.9 / L(f); mu = 0.5; c = 0.2; A = identity }\n"
      "monitor phi, rel_change, opt_error, branch\n";
  ir::Graph g = lowerText(text, {{"o", {16, 16}}, {"k", {3, 3}}}).graph;
  std::ostringstream log;
  ir::Graph opt = passes::optimize(g, {engine::cpuEvaluator(), &log});
  ir::verify(opt);
  CHECK(log.str().find("// after hoist-invariants") != std::string::npos);
  CHECK(log.str().find("// after remove-dead-nodes") != std::string::npos);
  CHECK(countIn(opt, ir::Region::Body) < countIn(g, ir::Region::Body));
  RunResult a = runGraph(g, {{"o", o}, {"k", k}}), b = runGraph(opt, {{"o", o}, {"k", k}});
  CHECK(relativeError(b.outputs.at("x"), toImage(a.outputs.at("x"))) < 1e-6);
  CHECK(*a.monitors.find("branch") == *b.monitors.find("branch"));
}

TEST_CASE("the pipeline keeps the results of every solver") {
  std::mt19937 rng(4);
  Tensor o = randomImage(12, 12, rng), k = randomKernel(3, rng);
  for (std::string solver : {"proxgrad", "fista", "relaxed", "naive", "podm"}) {
    CAPTURE(solver);
    bool withF = solver != "proxgrad" && solver != "fista";
    std::string text =
        "model t\ninput o : image\ninput k : kernel\nop K = conv(k, boundary = \"zero\")\n"
        "op W = haar(levels = 2)\nvar x : image = o\n"
        "f(x) = 0.5 * || K x - o ||^2\ng(x) = 0.01 * lp(W x, p = 0.5)\n" +
        std::string(withF ? "d(x, a) = mu / 2 * || x - a ||^2\n" : "") + "stages 8 " + solver +
        " { gamma = 0.9 / L(f)" + (withF ? "; mu = 0.3; A = 2 * identity" : "") +
        (solver == "podm" ? "; c = 0.1" : "") + " }\nmonitor phi, rel_change\n";
    ir::Graph g = lowerText(text, {{"o", {12, 12}}, {"k", {3, 3}}}).graph;
    ir::Graph opt = passes::optimize(g, {engine::cpuEvaluator(), nullptr});
    RunResult a = runGraph(g, {{"o", o}, {"k", k}}), b = runGraph(opt, {{"o", o}, {"k", k}});
    CHECK(relativeError(b.outputs.at("x"), toImage(a.outputs.at("x"))) < 1e-6);
    // phi reads the prox's coefficients instead of haar(haar_inv(them)) after
    // cancel-inverse-transforms: the same number but for the pair's rounding, which the lp value
    // (p = 0.5) magnifies on the coefficients the prox set to exactly zero (about 1e-5 here).
    const std::vector<float>&pa = *a.monitors.find("phi"), &pb = *b.monitors.find("phi");
    REQUIRE(pa.size() == pb.size());
    for (size_t l = 0; l < pa.size(); ++l)
      CHECK(pb[l] == doctest::Approx(pa[l]).epsilon(3e-5));
  }
}

TEST_CASE("common subexpressions are computed once") {
  ir::Graph g("cse");
  ir::Builder b(g);
  ir::Type t = ir::Type::real({1, 1, 2, 2});
  ir::ValueId y = b.input("y", t);
  ir::ValueId a1 = b.op(Op::Scale, {y}, {{"alpha", 2.0}});
  ir::ValueId a2 = b.op(Op::Scale, {y}, {{"alpha", 2.0}});
  ir::ValueId a3 = b.op(Op::Scale, {y}, {{"alpha", 3.0}}); // differs: kept
  ir::ValueId s1 = b.op(Op::Add, {a1, a3}), s2 = b.op(Op::Add, {a2, a3});
  b.output("z", b.op(Op::Mul, {s1, s2}));
  ir::Graph out = passes::removeDeadNodes(passes::eliminateCommonSubexpressions(g));
  ir::verify(out);
  CHECK(out.size() == g.size() - 2); // a2 and s2
  CHECK(passes::eliminateCommonSubexpressions(out) == out);
  Tensor in = Tensor::image(2, 2);
  for (int i = 0; i < 4; ++i)
    in.data()[i] = float(i) - 1.5f;
  CHECK(relativeError(runGraph(out, {{"y", in}}).outputs.at("z"),
                      toImage(runGraph(g, {{"y", in}}).outputs.at("z"))) == 0);
}

TEST_CASE("an orthonormal transform of its inverse is its operand, through a select too") {
  ir::Graph g("cancel");
  ir::Builder b(g);
  ir::Type t = ir::Type::real({1, 1, 8, 8});
  ir::ValueId u = b.input("u", t), v = b.input("v", t), c = b.input("c", ir::Type::scalar());
  // dct2(idct2(u)): u itself.
  b.output("direct", b.op(Op::Dct2, {b.op(Op::Idct2, {u})}));
  // haar(select(c, haar_inv(u), haar_inv(v))) at equal levels: select(c, u, v).
  ir::ValueId pick = b.op(Op::Select, {c, b.op(Op::HaarInv, {u}, {{"levels", int64_t{2}}}),
                                       b.op(Op::HaarInv, {v}, {{"levels", int64_t{2}}})});
  b.output("through", b.op(Op::Haar, {pick}, {{"levels", int64_t{2}}}));
  // Kept: other levels, one arm not an inverse, an adjoint that is not an inverse.
  b.output("levels", b.op(Op::Haar, {b.op(Op::HaarInv, {u}, {{"levels", int64_t{1}}})},
                          {{"levels", int64_t{2}}}));
  b.output("mixed", b.op(Op::Dct2, {b.op(Op::Select, {c, b.op(Op::Idct2, {u}), v})}));
  b.output(
      "adjoint",
      b.op(
          Op::ResizeBicubic,
          {b.op(Op::ResizeBicubicAdjoint, {b.input("small", ir::Type::real({1, 1, 4, 4}))},
                {{"h", int64_t{8}}, {"w", int64_t{8}}, {"scale", 0.5}, {"antialias", int64_t{1}}})},
          {{"h", int64_t{4}}, {"w", int64_t{4}}, {"scale", 0.5}, {"antialias", int64_t{1}}}));
  ir::Graph out = passes::removeDeadNodes(passes::cancelInverseTransforms(g));
  ir::verify(out);
  auto producer = [&](const std::string& name) {
    for (const ir::Output& o : out.outputs())
      if (o.name == name)
        return out.node(o.value);
    FAIL("no output " << name);
    return out.node(out.outputs().front().value);
  };
  CHECK(producer("direct").op == Op::Input);
  CHECK(producer("through").op == Op::Select);
  CHECK(out.node(producer("through").operands[1]).op == Op::Input);
  CHECK(out.node(producer("through").operands[2]).op == Op::Input);
  CHECK(producer("levels").op == Op::Haar);
  CHECK(producer("mixed").op == Op::Dct2);
  CHECK(producer("adjoint").op == Op::ResizeBicubic);
  CHECK(passes::cancelInverseTransforms(out) == out);
}
