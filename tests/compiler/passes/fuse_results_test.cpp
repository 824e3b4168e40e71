// Multi-result fusion (fuse_results.cpp) and the spectrum_energy fusion: which nodes join a
// program, what stays a fused_output, the round trip through .pgraph, and a FISTA run whose
// outputs and monitors match the unfused graph's (issue 18: to 1e-6 relative).
#include "../lower/lower_helpers.h"
#include "compiler/passes/passes.h"
#include "engine/cpu_evaluator.h"
#include "ir/builder.h"
#include "ir/errors.h"
#include "ir/fused_program.h"
#include "ir/serialize.h"
#include "ir/verifier.h"

#include <doctest/doctest.h>

using namespace podm;
using namespace podm::testing;
using ir::Op;

namespace {

size_t countOp(const ir::Graph& g, Op op) {
  size_t n = 0;
  for (const ir::Node& node : g.nodes())
    n += node.op == op;
  return n;
}

// A momentum step: p = max(y - s, 0) (fused), z = p + b (p - x) carried, ||p - x||^2 and ||x||^2
// monitored, and sum(p * sqrt(||y||^2)), which reads a scalar computed after p: it cannot join.
ir::Graph momentum() {
  ir::Graph g("momentum");
  ir::Builder b(g);
  ir::Type t = ir::Type::real({1, 1, 19, 27});
  ir::ValueId a = b.input("a", t);
  ir::ValueId s = b.input("s", ir::Type::scalar());
  b.beginLoop(3);
  ir::ValueId x = b.loopState(a, "x");
  ir::ValueId y = b.loopState(a, "y");
  ir::ValueId beta = b.schedule("beta", {0.1, 0.2, 0.3});
  ir::ValueId p = b.op(Op::Max, {b.op(Op::Sub, {y, s}), b.scalar(0.f)});
  ir::ValueId d = b.op(Op::Sub, {p, x});
  ir::ValueId z = b.op(Op::Fma, {beta, d, p});
  b.monitor("change", b.op(Op::Norm2Sq, {d}));
  b.monitor("prev", b.op(Op::Norm2Sq, {x}));
  ir::ValueId norm = b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {y})});
  b.monitor("late", b.op(Op::Sum, {b.op(Op::Mul, {p, norm})}, {}, "late"));
  b.carry(x, p);
  b.carry(y, z);
  b.endLoop();
  b.output("x", b.loopResult(x));
  return g;
}

} // namespace

TEST_CASE("readers of a fused program join it as results; later values do not") {
  ir::Graph g = momentum();
  ir::Graph once = passes::fuseElementwise(g);
  ir::Graph out = passes::fuseResults(once);
  ir::verify(out);
  // p, z, ||p - x||^2, ||x||^2 and ||y||^2 are one program; d is only read inside: no result.
  CHECK(countOp(out, Op::FusedOutput) == 4);
  const ir::Node& next = out.node(out.loop()->carries[1].next);
  REQUIRE(next.op == Op::FusedOutput);
  const ir::Node& program = out.node(next.operands[0]);
  CHECK(program.attrs.getString("program").find("return") != std::string::npos);
  CHECK(out.loop()->carries[0].next == next.operands[0]); // p is the program's own value
  bool lateStays = false;
  for (const ir::Node& n : out.nodes())
    lateStays = lateStays || (n.label == "late" && n.op == Op::FusedElementwise);
  CHECK(lateStays);
  CHECK(passes::fuseResults(out) == out);
  CHECK(ir::deserialize(ir::serialize(out)) == out);

  std::mt19937 rng(3);
  Tensor a = randomImage(19, 27, rng, -1, 1);
  Tensor s(Shape{1, 1, 1, 1});
  s.data()[0] = 0.25f;
  RunResult plain = runGraph(g, {{"a", a}, {"s", s}}), fused = runGraph(out, {{"a", a}, {"s", s}});
  const Tensor &u = plain.outputs.at("x"), &v = fused.outputs.at("x");
  CHECK(std::equal(u.data(), u.data() + u.numel(), v.data()));
  for (const char* m : {"change", "prev", "late"})
    CHECK(*plain.monitors.find(m) == *fused.monitors.find(m)); // one thread: bit for bit
}

TEST_CASE("a fused_output must name a result of its program") {
  ir::Graph g = passes::fuseResults(passes::fuseElementwise(momentum()));
  for (uint32_t i = 0; i < g.size(); ++i)
    if (g.nodes()[i].op == Op::FusedOutput && g.nodes()[i].attrs.getInt("reduction") == 1) {
      g.mutableNode(ir::ValueId{i}).attrs.set("index", int64_t{9});
      break;
    }
  CHECK_THROWS_WITH_AS(ir::verify(g), doctest::Contains("result 9 of a program with 5"),
                       ir::IrError);
}

TEST_CASE("a FISTA run fused into multi-result programs and a spectrum pass matches the plain "
          "graph") {
  std::mt19937 rng(11);
  Tensor o = randomImage(32, 32, rng), k = randomKernel(5, rng);
  std::string text =
      "model t\ninput o : image\ninput k : kernel\nop K = conv(k, boundary = \"periodic\")\n"
      "var x : image = o\nf(x) = 0.5 * || K x - o ||^2\n"
      "g(x) = 0.001 * l1(x) + nonneg(x)\nstages 12 fista { gamma = 1 / L(f) }\n"
      "monitor phi, rel_change\n";
  ir::Graph g = lowerText(text, {{"o", {32, 32}}, {"k", {5, 5}}}).graph;
  passes::PipelineOptions plainOptions{engine::cpuEvaluator(), nullptr};
  plainOptions.fuse = false;
  ir::Graph plain = passes::optimize(g, plainOptions);
  ir::Graph fused = passes::optimize(g, {engine::cpuEvaluator(), nullptr});
  // phi's fidelity by Parseval: no convolution in the stage, one spectrum pass.
  CHECK(countOp(plain, Op::Conv2d) == 1); // K applied to the impulse, in Pre
  CHECK(countOp(fused, Op::SpectrumEnergy) == 1);
  CHECK(countOp(fused, Op::FusedOutput) >= 3); // y+, and the sums of rel_change and ||x+||_1
  size_t bodyPasses = 0;
  for (const ir::Node& n : fused.nodes())
    bodyPasses += n.region == ir::Region::Body && n.op == Op::FusedElementwise;
  CHECK(bodyPasses == 1); // the gradient step, prox, momentum and the monitors' sums
  RunResult a = runGraph(plain, {{"o", o}, {"k", k}}), b = runGraph(fused, {{"o", o}, {"k", k}});
  // The CPU kernel runs the l1 prox's five instructions as one soft-thresholding loop
  // (fused_kernel.cpp) in the same float operations: x is bitwise the unfused graph's.
  const Tensor &xa = a.outputs.at("x"), &xb = b.outputs.at("x");
  CHECK(std::equal(xa.data(), xa.data() + xa.numel(), xb.data()));
  for (const char* m : {"phi", "rel_change"}) {
    CAPTURE(m);
    const std::vector<float>&va = *a.monitors.find(m), &vb = *b.monitors.find(m);
    REQUIRE(va.size() == vb.size());
    for (size_t i = 0; i < va.size(); ++i)
      CHECK(std::fabs(va[i] - vb[i]) <= 1e-6 * std::fabs(va[i]));
  }
}
