// Elementwise fusion: chains become one fused_elementwise node, values used twice or read by the
// executor stay materialized, programs survive .pgraph and read in dumps, bad programs are
// rejected with a message, and fused graphs compute exactly what the unfused ones compute.
#include "../lower/lower_helpers.h"
#include "compiler/passes/passes.h"
#include "engine/cpu_evaluator.h"
#include "ir/builder.h"
#include "ir/errors.h"
#include "ir/fused_program.h"
#include "ir/printer.h"
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

// x <- clamp(0.5 * (x + 0.1 kept - s * shared), -1, 1) with monitors. `shared` = a + x is read by
// two chains and is one op on values no chain absorbs: each chain recomputes it. `kept` =
// sqrt(|x|) is read twice but is itself a chain (abs, sqrt): it stays a node the readers read.
ir::Graph chains() {
  ir::Graph g("chains");
  ir::Builder b(g);
  ir::Type t = ir::Type::real({1, 1, 23, 31});
  ir::ValueId a = b.input("a", t);
  ir::ValueId s = b.input("s", ir::Type::scalar());
  b.beginLoop(4);
  ir::ValueId x = b.loopState(a, "x");
  ir::ValueId shared = b.op(Op::Add, {a, x}, {}, "shared");
  ir::ValueId kept = b.op(Op::Sqrt, {b.op(Op::Abs, {x})}, {}, "kept");
  ir::ValueId v = b.op(Op::Sub, {b.op(Op::Add, {x, b.op(Op::Scale, {kept}, {{"alpha", 0.1}})}),
                                 b.op(Op::Mul, {s, shared})});
  ir::ValueId next = b.op(Op::Clamp, {b.op(Op::Scale, {v}, {{"alpha", 0.5}})},
                          {{"lo", -1.0}, {"hi", 1.0}}, "next");
  b.monitor("step", b.op(Op::Norm2Sq, {b.op(Op::Sub, {next, x})}));
  b.monitor("shared", b.op(Op::Sum, {b.op(Op::Abs, {shared})}));
  b.monitor("kept", b.op(Op::Sum, {kept}));
  b.carry(x, next);
  b.endLoop();
  b.output("x", b.loopResult(x));
  return g;
}

std::map<std::string, Tensor> chainInputs() {
  std::mt19937 rng(3);
  Tensor s(Shape{1, 1, 1, 1});
  s.data()[0] = 0.3f;
  return {{"a", randomImage(23, 31, rng, -2, 2)}, {"s", s}};
}

} // namespace

TEST_CASE("fusion makes one node per chain, recomputes one-op shared values, keeps the others") {
  ir::Graph g = chains();
  ir::Graph out = passes::fuseElementwise(g);
  ir::verify(out);
  // Four chains: next (shared, scale, add, mul, sub, scale, clamp), the step norm (sub, norm2sq),
  // |shared| (shared, abs, sum), kept (abs, sqrt); sum(kept) stays a plain reduction.
  CHECK(countOp(out, Op::FusedElementwise) == 4);
  CHECK(countOp(out, Op::Add) == 0); // `shared` recomputed by both readers, then dropped
  CHECK(countOp(out, Op::Sqrt) == 0);
  CHECK(countOp(out, Op::Sum) == 1);
  CHECK(countOp(out, Op::Sub) == 0);
  CHECK(countOp(out, Op::Clamp) == 0);
  bool keptRead = false;
  for (const ir::Node& n : out.nodes())
    keptRead = keptRead || (n.label == "kept" && n.op == Op::FusedElementwise);
  CHECK(keptRead);
  CHECK(passes::fuseElementwise(out) == out);
  for (const ir::Node& n : out.nodes())
    if (n.op == Op::FusedElementwise) {
      ir::FusedProgram p = ir::parseFusedProgram(n.attrs.getString("program"), n.operands.size());
      CHECK(ir::printFusedProgram(p) == n.attrs.getString("program"));
    }
  // The carried value keeps its label and is still what the loop carries.
  CHECK(out.node(out.loop()->carries[0].next).op == Op::FusedElementwise);
  CHECK(out.node(out.loop()->carries[0].next).label == "next");

  RunResult want = runGraph(g, chainInputs()), got = runGraph(out, chainInputs());
  CHECK(relativeError(got.outputs.at("x"), toImage(want.outputs.at("x"))) == 0);
  CHECK(want.monitors.values == got.monitors.values); // reductions too: same lanes, same order
}

TEST_CASE("a value every reader of which is in one chain is computed once inside it") {
  // x <- max(sign(v) max(|v| - t, 0), 0) with v = x - 0.2 (x - a): soft thresholding reads v
  // twice (abs and sign), both in the chain, so v and its producers join it: one fused node.
  ir::Graph g("soft");
  ir::Builder b(g);
  ir::Type t = ir::Type::real({1, 1, 23, 31});
  ir::ValueId a = b.input("a", t);
  ir::ValueId s = b.input("s", ir::Type::scalar());
  b.beginLoop(3);
  ir::ValueId x = b.loopState(a, "x");
  ir::ValueId v = b.op(Op::Sub, {x, b.op(Op::Scale, {b.op(Op::Sub, {x, a})}, {{"alpha", 0.2}})});
  ir::ValueId zero = b.scalar(0.f);
  ir::ValueId shrunk = b.op(Op::Max, {b.op(Op::Sub, {b.op(Op::Abs, {v}), s}), zero});
  ir::ValueId next =
      b.op(Op::Max, {b.op(Op::Mul, {b.op(Op::Sign, {v}), shrunk}), zero}, {}, "next");
  b.carry(x, next);
  b.endLoop();
  b.output("x", b.loopResult(x));
  ir::Graph out = passes::fuseElementwise(g);
  ir::verify(out);
  CHECK(countOp(out, Op::FusedElementwise) == 1);
  CHECK(countOp(out, Op::Sub) == 0);
  CHECK(countOp(out, Op::Abs) == 0);
  RunResult want = runGraph(g, chainInputs()), got = runGraph(out, chainInputs());
  CHECK(relativeError(got.outputs.at("x"), toImage(want.outputs.at("x"))) == 0);
}

TEST_CASE("fused programs survive .pgraph and read in the dump") {
  ir::Graph out = passes::fuseElementwise(chains());
  std::string text = ir::dump(out);
  CHECK(text.find("fused_elementwise") != std::string::npos);
  CHECK(text.find("clamp(t5, -1, 1)") != std::string::npos);
  CHECK(text.find("norm2sq(t0)") != std::string::npos);
  ir::Graph back = ir::deserialize(ir::serialize(out));
  CHECK(back == out);
}

TEST_CASE("bad fused programs are rejected with the problem named") {
  ir::Graph g("bad");
  ir::Builder b(g);
  ir::Type t = ir::Type::real({1, 1, 4, 4});
  ir::ValueId a = b.input("a", t), c = b.input("c", t);
  ir::ValueId m = b.input("m", ir::Type::real({1, 1, 2, 2}));
  auto fused = [&](std::initializer_list<ir::ValueId> in, const char* program) {
    return b.op(Op::FusedElementwise, in, {{"program", std::string(program)}});
  };
  auto rejects = [&](std::initializer_list<ir::ValueId> in, const char* program,
                     const char* phrase) {
    CAPTURE(program);
    try {
      fused(in, program);
      FAIL("accepted");
    } catch (const ir::IrError& e) {
      CHECK_MESSAGE(std::string(e.what()).find(phrase) != std::string::npos, e.what());
    }
  };
  rejects({a, c}, "t0 = frob(in0, in1); neg(t0)", "unknown operation 'frob'");
  rejects({a, c}, "add(in0, in2)", "in2 but the node has 2 operands");
  rejects({a, c}, "t0 = add(in0, t1); neg(t0)", "t1 is used before it is computed");
  rejects({a, c}, "t0 = norm2sq(in0); add(in1, in0)", "a reduction must be the last");
  rejects({a, c}, "add(in0)", "add takes 2 arguments, got 1");
  rejects({a, c}, "neg(in0)", "every operand must be used");
  rejects({a, m}, "add(in0, in1)", "only scalars broadcast");
  rejects({a}, "t1 = neg(in0)", "must be named t0");
  rejects({a}, "neg(in0) junk", "unexpected text");
  CHECK(g.type(fused({a, c}, "t0 = sub(in0, in1); norm2sq(t0)")).isScalar());
  CHECK(g.type(fused({a, c}, "t0 = sub(in0, in1); mul(0.25, t0)")) == t);
}

TEST_CASE("the pipeline fuses a PODM stage and keeps its results") {
  std::mt19937 rng(7);
  Tensor o = randomImage(24, 24, rng), k = randomKernel(5, rng);
  std::string text =
      "model t\ninput o : image\ninput k : kernel\nop K = conv(k, boundary = \"periodic\")\n"
      "var x : image = o\nf(x) = 0.5 * || K x - o ||^2\n"
      "g(x) = 0.002 * l1(x) + box(x, lo = 0, hi = 1)\nd(x, a) = mu / 2 * || x - a ||^2\n"
      "stages 15 podm { gamma = 0.9 / L(f); mu = 0.5; c = 0.2; A = identity }\n"
      "monitor phi, rel_change, opt_error, check_bound, branch\n";
  ir::Graph g = lowerText(text, {{"o", {24, 24}}, {"k", {5, 5}}}).graph;
  std::ostringstream log;
  passes::PipelineOptions fused{engine::cpuEvaluator(), &log};
  passes::PipelineOptions plain{engine::cpuEvaluator(), nullptr};
  plain.fuse = false;
  ir::Graph a = passes::optimize(g, plain), b = passes::optimize(g, fused);
  CHECK(log.str().find("// after fuse-elementwise") != std::string::npos);
  CHECK(countOp(b, Op::FusedElementwise) >= 4);
  // The F-step solve and the three gradients: the spectrum product is inside the inverse FFT.
  CHECK(countOp(b, Op::Irfft2Product) == 4);
  CHECK(countOp(b, Op::Irfft2) == 0);
  CHECK(b.size() < a.size());
  RunResult ra = runGraph(a, {{"o", o}, {"k", k}}), rb = runGraph(b, {{"o", o}, {"k", k}});
  CHECK(relativeError(rb.outputs.at("x"), toImage(ra.outputs.at("x"))) < 1e-6);
  CHECK(*ra.monitors.find("branch") == *rb.monitors.find("branch"));
  for (const char* m : {"phi", "rel_change", "opt_error", "check_bound"}) {
    CAPTURE(m);
    const std::vector<float>&va = *ra.monitors.find(m), &vb = *rb.monitors.find(m);
    REQUIRE(va.size() == vb.size());
    for (size_t i = 0; i < va.size(); ++i)
      CHECK(std::fabs(va[i] - vb[i]) <= 1e-6 * std::fabs(va[i]));
  }
}
