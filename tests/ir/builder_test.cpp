// The builder accepts well-typed graphs, infers result types from the op table, and rejects bad
// nodes with a message that names the node and the problem.
#include "ir/builder.h"
#include "ir/errors.h"
#include "sample_graph.h"

#include <doctest/doctest.h>

using namespace podm::ir;

namespace {
const Dims kImage{1, 1, 8, 8};
}

TEST_CASE("builder: the sample PODM graph builds with inferred types") {
  Graph g = testing::sampleGraph();
  REQUIRE(g.loop());
  CHECK(g.loop()->stages == 3);
  CHECK(g.loop()->carries.size() == 1);
  CHECK(g.loop()->stop.valid());
  CHECK(g.outputs().size() == 2);
  CHECK(g.type(*g.findOutput("spectrum")) == Type::complex({1, 1, 8, 5}));
  CHECK(g.inputs().size() == 1);
  auto [b0, b1] = g.regionRange(Region::Body);
  CHECK(b0 > 0);
  CHECK(b1 > b0);
  CHECK(g.node(ValueId{b0}).op == Op::LoopState);
}

TEST_CASE("builder: result-type rules") {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", Type::real(kImage));
  ValueId s = b.scalar(2.f);
  CHECK(g.type(b.op(Op::Add, {x, s})) == Type::real(kImage));
  CHECK(g.type(b.op(Op::Add, {s, s})) == Type::scalar());
  ValueId X = b.op(Op::Rfft2, {x});
  CHECK(g.type(X) == Type::complex({1, 1, 8, 5}));
  CHECK(g.type(b.op(Op::Irfft2, {X}, {{"width", int64_t{8}}})) == Type::real(kImage));
  CHECK_THROWS_WITH_AS(b.op(Op::Irfft2, {X}, {{"width", int64_t{10}}}),
                       doctest::Contains("cannot come from planes of width 10"), IrError);
  ValueId mag = b.op(Op::Abs2, {X});
  CHECK(g.type(mag) == Type::real({1, 1, 8, 5}));
  CHECK(g.type(b.op(Op::Div, {X, mag})) == Type::complex({1, 1, 8, 5}));
  CHECK(g.type(b.op(Op::FdGrad, {x})) == Type::real({1, 2, 8, 8}));
  CHECK(g.type(b.op(Op::Decimate, {x}, {{"factor", int64_t{4}}})) == Type::real({1, 1, 2, 2}));
  CHECK(g.type(b.op(Op::UpsampleZero, {x}, {{"factor", int64_t{2}}})) ==
        Type::real({1, 1, 16, 16}));
  CHECK(g.type(b.op(Op::DctFilters, {x}, {{"size", int64_t{3}}})) == Type::real({1, 8, 8, 8}));
  CHECK(g.type(b.op(Op::ResizeBicubic, {x},
                    {{"scale", 4.0}, {"h", int64_t{32}}, {"w", int64_t{32}}})) ==
        Type::real({1, 1, 32, 32}));
  CHECK(g.type(b.op(Op::Dot, {x, x})) == Type::scalar());
  CHECK(g.node(b.op(Op::ResizeBicubic, {x}, {{"scale", 0.5}, {"h", int64_t{4}}, {"w", int64_t{4}}}))
            .attrs.getInt("antialias") == 1);
  CHECK_THROWS_WITH_AS(b.op(Op::Mask, {x, b.input("m", Type::real({1, 2, 8, 8}))}),
                       doctest::Contains("the mask must be one 1x1x8x8 plane, got 1x2x8x8"),
                       IrError);
}

TEST_CASE("builder: wrong arity, operand classes and shapes") {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", Type::real(kImage));
  ValueId small = b.input("small", Type::real({1, 1, 4, 4}));
  ValueId X = b.op(Op::Rfft2, {x});
  ValueId s = b.scalar(1.f);
  CHECK_THROWS_WITH_AS(b.op(Op::Add, {x}), doctest::Contains("add: takes 2 operands, got 1"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Add, {x, small}),
                       doctest::Contains("has shape 1x1x4x4 but operand 0 has shape 1x1x8x8"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Add, {X, b.op(Op::Abs2, {X})}),
                       doctest::Contains("both must have one element type"), IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Conv2d, {X, x}),
                       doctest::Contains("operand 0 (%2) must be an f32 tensor, got c64[1x1x8x5]"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Conv2d, {x, b.op(Op::FdGrad, {small})}),
                       doctest::Contains("the kernel must be 1x1xkhxkw"), IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Le, {x, s}), doctest::Contains("must be an f32 scalar"), IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Max, {X, X}), doctest::Contains("an f32 tensor or scalar"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Decimate, {x}, {{"factor", int64_t{3}}}),
                       doctest::Contains("not divisible by the factor 3"), IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Haar, {x}, {{"levels", int64_t{4}}}),
                       doctest::Contains("divisible by 16"), IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Clamp, {x}, {{"lo", 1.0}, {"hi", 0.0}}),
                       doctest::Contains("lo <= hi"), IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Select, {s, x, small}), doctest::Contains("select needs one type"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Add, {x, ValueId{99}}),
                       doctest::Contains("operand 1 (%99) is not defined before this node"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.op("frobnicate", {x}), doctest::Contains("unknown op 'frobnicate'"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Prox, {x, s}), doctest::Contains("missing attribute 'fn'"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.constant(Type::real({1, 1, 2, 2}), {1.f, 2.f}),
                       doctest::Contains("needs 4 floats, value holds 2"), IrError);
  CHECK_THROWS_WITH_AS(b.input("huge", Type::real({1, 1, 1 << 20, 1 << 20})),
                       doctest::Contains("more than 2^32 elements"), IrError);
  CHECK_THROWS_WITH_AS(b.input("x", Type::real(kImage)),
                       doctest::Contains("another input is already named 'x'"), IrError);
  // A failed call adds no node (the six are x, small, X, s and the two made for operands).
  CHECK(g.size() == 6);
}

TEST_CASE("builder: prox takes one scalar operand per run-time argument it names") {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", Type::real(kImage));
  ValueId gamma = b.scalar(0.5f), lo = b.op(Op::MinVal, {x}), hi = b.op(Op::MaxVal, {x});
  CHECK(g.type(lo) == Type::scalar());
  ValueId p = b.op(Op::Prox, {x, gamma, lo, hi},
                   {{"fn", std::string("box")}, {"operand_args", std::string("lo,hi")}});
  CHECK(g.type(p) == Type::real(kImage));
  CHECK(g.node(b.op(Op::Prox, {x, gamma}, {{"fn", std::string("l1")}}))
            .attrs.getString("operand_args")
            .empty());
  Attrs box{{"fn", std::string("box")}, {"operand_args", std::string("lo")}};
  CHECK_THROWS_WITH_AS(b.op(Op::Prox, {x}, box),
                       doctest::Contains("takes at least 2 operands, got 1"), IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Prox, {x, gamma, lo, hi}, box),
                       doctest::Contains("operand_args names 1 run-time argument but the node "
                                         "has 2 after v and gamma"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Prox, {x, gamma, x}, box),
                       doctest::Contains("operand 2 (%0) must be an f32 scalar"), IrError);
  CHECK_THROWS_WITH_AS(
      b.op(Op::Prox, {x, gamma, lo},
           {{"fn", std::string("box")},
            {"operand_args", std::string("lo")},
            {"args", NamedFloats{{"lo", 0.0}}}}),
      doctest::Contains("prox argument 'lo' is given twice (constant and run-time)"), IrError);
  CHECK_THROWS_WITH_AS(b.op(Op::Prox, {x, gamma, lo, hi},
                            {{"fn", std::string("box")}, {"operand_args", std::string("lo,lo")}}),
                       doctest::Contains("prox argument 'lo' is given twice"), IrError);
}

TEST_CASE("builder: regions and the stage loop") {
  Graph g;
  Builder b(g);
  ValueId x0 = b.input("x0", Type::real(kImage));
  CHECK_THROWS_WITH_AS(b.schedule("gamma", {1.0}), doctest::Contains("needs a stage loop"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.monitor("m", b.scalar(1.f)),
                       doctest::Contains("may only appear in the stage loop body"), IrError);
  CHECK_THROWS_WITH_AS(b.beginLoop(-1), doctest::Contains("0 to 1000000 stages"), IrError);
  b.beginLoop(2);
  ValueId x = b.loopState(x0, "x");
  CHECK_THROWS_WITH_AS(b.loopState(x, "y"), doctest::Contains("must come from before the loop"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.schedule("gamma", {1.0}),
                       doctest::Contains("has 1 values for a loop of 2 stages"), IrError);
  ValueId gamma = b.schedule("gamma", {1.0, 0.5});
  ValueId y = b.op(Op::Mul, {x, gamma});
  CHECK_THROWS_WITH_AS(b.output("y", y), doctest::Contains("output its loop_result instead"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.carry(x, gamma), doctest::Contains("but the next value"), IrError);
  CHECK_THROWS_WITH_AS(b.carry(y, x), doctest::Contains("not a loop_state"), IrError);
  CHECK_THROWS_WITH_AS(b.stopWhen(y), doctest::Contains("must be a scalar"), IrError);
  CHECK_THROWS_WITH_AS(b.endLoop(), doctest::Contains("loop state 'x' (%2) has no carry"), IrError);
  b.carry(x, y);
  CHECK_THROWS_WITH_AS(b.carry(x, y), doctest::Contains("already has a next value"), IrError);
  b.endLoop();
  CHECK_THROWS_WITH_AS(b.op(Op::Neg, {y}), doctest::Contains("read final states with loop_result"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.loopResult(x0), doctest::Contains("loop_result reads a loop_state"),
                       IrError);
  CHECK_THROWS_WITH_AS(b.input("late", Type::scalar()),
                       doctest::Contains("may only appear before the stage loop"), IrError);
  CHECK_THROWS_WITH_AS(b.beginLoop(3), doctest::Contains("already has a stage loop"), IrError);
  ValueId r = b.loopResult(x);
  b.output("x", r);
  CHECK_THROWS_WITH_AS(b.output("x", r), doctest::Contains("defined twice"), IrError);
  CHECK(g.loop()->carries.size() == 1);
}

TEST_CASE("builder: needs an empty graph") {
  Graph g = testing::sampleGraph();
  CHECK_THROWS_AS(Builder{g}, IrError);
}
