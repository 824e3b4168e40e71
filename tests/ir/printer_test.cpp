// The text dump is stable: a golden text for a small graph, identical dumps for identical graphs.
#include "ir/printer.h"
#include "sample_graph.h"

#include <doctest/doctest.h>

using namespace podm::ir;

TEST_CASE("printer: golden dump of a small stage loop") {
  Graph g("golden");
  Builder b(g);
  ValueId y = b.input("y", Type::real({1, 1, 2, 2}));
  ValueId x0 = b.constant(Type::real({1, 1, 2, 2}), {0.f, 0.1f, -2.5f, 1e-8f}, "x0");
  b.beginLoop(2);
  ValueId x = b.loopState(x0, "x");
  ValueId gamma = b.schedule("gamma", {0.5, 0.1});
  ValueId r = b.op(Op::Sub, {x, y}, {}, "r");
  ValueId v = b.op(Op::Axpby, {b.scalar(1.f), x, gamma, r});
  ValueId p = b.op(Op::Prox, {v, gamma},
                   {{"fn", std::string("l1")}, {"args", NamedFloats{{"lambda", 0.25}}}});
  b.monitor("change", b.op(Op::Norm2Sq, {b.op(Op::Sub, {p, x})}));
  b.carry(x, p);
  b.endLoop();
  b.output("x", b.loopResult(x));

  const char* expected = R"(graph "golden" {
  %0 = input {name="y"} : f32[1x1x2x2]
  %1 "x0" = constant {value=[0, 0.1, -2.5, 1e-08]} : f32[1x1x2x2]
  loop stages=2 {
    %2 = loop_state(%1) {name="x"} : f32[1x1x2x2]
    %3 = schedule {name="gamma", values=[0.5, 0.1]} : f32
    %4 "r" = sub(%2, %0) : f32[1x1x2x2]
    %5 = constant {value=[1]} : f32
    %6 = axpby(%5, %2, %3, %4) : f32[1x1x2x2]
    %7 = prox(%6, %3) {args={lambda=0.25}, fn="l1", operand_args=""} : f32[1x1x2x2]
    %8 = sub(%7, %2) : f32[1x1x2x2]
    %9 = norm2sq(%8) : f32
    %10 = monitor(%9) {name="change"} : f32
    carry %2 <- %7
  }
  %11 = loop_result(%2) : f32[1x1x2x2]
  output "x" = %11
}
)";
  CHECK(dump(g) == expected);
}

TEST_CASE("printer: identical graphs dump identically; large constants print a hash") {
  std::string a = dump(testing::sampleGraph());
  std::string b = dump(testing::sampleGraph());
  CHECK(a == b);
  CHECK(a.find("%2 \"x0\" = constant {value=<64 floats, fnv1a ") != std::string::npos);
  CHECK(a.find("stop when %") != std::string::npos);
  CHECK(a.find("{boundary=\"periodic\", orientation=\"convolution\"}") != std::string::npos);
}

TEST_CASE("printer: floats print in shortest round-trip form") {
  CHECK(formatFloat(0.1f) == "0.1");
  CHECK(formatFloat(1.f / 3) == "0.33333334");
  CHECK(formatDouble(1e-3) == "0.001");
  CHECK(formatDouble(-0.0) == "-0");
}
