// Tracing: every node is counted once per execution (body nodes once per stage run) and the table
// lists them.
#include "ir/builder.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

#include <doctest/doctest.h>
#include <sstream>

using namespace podm;
using ir::Op;
using ir::ValueId;

TEST_CASE("trace: call counts per node and a printable table") {
  ir::Graph g("traced");
  ir::Builder b(g);
  ValueId y = b.input("y", ir::Type::real({1, 1, 16, 16}));
  ValueId pre = b.op(Op::Scale, {y}, {{"alpha", 2.0}}, "pre");
  b.beginLoop(7);
  ValueId x = b.loopState(pre, "x");
  ValueId body = b.op(Op::Sqrt, {b.op(Op::Abs, {x})}, {}, "body");
  b.monitor("n", b.op(Op::Norm2Sq, {body}));
  b.carry(x, body);
  b.stopWhen(b.op(Op::Lt, {b.schedule("s", {0, 0, 0, 0, 1, 0, 0}), b.scalar(0.5f)}));
  b.endLoop();
  b.output("x", b.op(Op::Neg, {b.loopResult(x)}, {}, "post"));

  cpu::CpuBackend cpu;
  ExecutorOptions options;
  options.trace = true;
  Executor ex(g, cpu, nullptr, options);
  Tensor yt(Shape{1, 1, 16, 16});
  yt.fill(1.f);
  RunResult r = ex.run({{"y", yt}});
  // The stop predicate (s < 0.5) is true at stage 0: the loop runs once.
  CHECK(r.stages == 1);
  ex.trace().reset();
  ir::Graph g2 = g;
  g2.mutableLoop()->stop = ValueId{};
  Executor ex2(g2, cpu, nullptr, options);
  ex2.run({{"y", yt}});
  ex2.run({{"y", yt}});
  auto calls = [&](std::string_view label) {
    for (const TraceRow& row : ex2.trace().rows())
      if (row.what.find(label) != std::string::npos)
        return row.calls;
    return int64_t{-1};
  };
  CHECK(calls("\"pre\"") == 2);
  CHECK(calls("\"body\"") == 14);
  CHECK(calls("norm2sq") == 14);
  CHECK(calls("monitor") == 14);
  CHECK(calls("\"post\"") == 2);
  CHECK(calls("stage end") == 14);
  CHECK(ex2.trace().totalSeconds() > 0);
  std::ostringstream table;
  ex2.trace().print(table);
  CHECK(table.str().find("%4 sqrt \"body\"") != std::string::npos);
  CHECK(table.str().find("total") != std::string::npos);
  std::ostringstream byOp;
  ex2.trace().printByOp(byOp);
  CHECK(byOp.str().find("sqrt") != std::string::npos);
  MESSAGE(table.str());
  ex2.trace().reset();
  CHECK(ex2.trace().totalSeconds() == 0);
}

TEST_CASE("trace: off by default, rows exist but stay at zero") {
  ir::Graph g("quiet");
  ir::Builder b(g);
  ValueId y = b.input("y", ir::Type::real({1, 1, 4, 4}));
  b.output("z", b.op(Op::Neg, {y}));
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  Tensor yt(Shape{1, 1, 4, 4});
  ex.run({{"y", yt}});
  CHECK(ex.trace().rows().size() >= 1);
  CHECK(ex.trace().totalSeconds() == 0);
}
