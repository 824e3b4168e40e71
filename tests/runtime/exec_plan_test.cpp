// Lazy select arms (runtime/exec_plan.h): the nodes only one arm of a select on a scalar needs are
// scheduled after the condition and skipped when the other arm is taken; the results equal a
// plain loop, memory planning stays correct, and the trace counts every skip.
#include "ir/builder.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

#include <algorithm>
#include <doctest/doctest.h>
#include <sstream>
#include <vector>

using namespace podm;
using ir::Op;
using ir::ValueId;

namespace {

constexpr int64_t kN = 40;
const std::vector<double> kCond = {1, 0, 0, 1, 0, 1, 1, 0};

// x <- cond_l ? 0.5 (x + y) : -(x * y) + m, where m = sum(x) * 0.01 is read by both arms (so it
// is not lazy) and `seen` (an arm-b value) is also monitored (so it is not lazy either).
ir::Graph graph() {
  ir::Graph g("lazy");
  ir::Builder b(g);
  ir::Type t = ir::Type::real({1, 1, 1, kN});
  ValueId y = b.input("y", t);
  b.beginLoop(static_cast<int64_t>(kCond.size()));
  ValueId x = b.loopState(y, "x");
  ValueId cond = b.schedule("cond", kCond);
  ValueId m = b.op(Op::Scale, {b.op(Op::Sum, {x})}, {{"alpha", 0.01}}, "shared");
  ValueId armA =
      b.op(Op::Add, {b.op(Op::Scale, {b.op(Op::Add, {x, y})}, {{"alpha", 0.5}}), m}, {}, "arm a");
  ValueId seen = b.op(Op::Mul, {x, y}, {}, "seen");
  ValueId armB = b.op(Op::Add, {b.op(Op::Neg, {seen}, {}, "neg"), m}, {}, "arm b");
  ValueId next = b.op(Op::Select, {cond, armA, armB}, {}, "next");
  b.monitor("seen", b.op(Op::Sum, {seen}));
  b.carry(x, next);
  b.endLoop();
  b.output("x", b.loopResult(x));
  return g;
}

std::vector<float> reference(const std::vector<float>& y) {
  std::vector<float> x = y;
  for (double c : kCond) {
    double s = 0;
    for (float v : x)
      s += v;
    float m = 0.01f * static_cast<float>(s);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = c != 0 ? 0.5f * (x[i] + y[i]) + m : -(x[i] * y[i]) + m;
  }
  return x;
}

Tensor input() {
  Tensor t(Shape{1, 1, 1, kN});
  for (int64_t i = 0; i < kN; ++i)
    t.data()[i] = 0.2f + 0.03f * static_cast<float>(i % 7) - 0.01f * static_cast<float>(i % 3);
  return t;
}

} // namespace

TEST_CASE("the arms of a select on a scalar run only when taken") {
  ir::Graph g = graph();
  cpu::CpuBackend cpu;
  ExecutorOptions traced;
  traced.trace = true;
  Executor ex(g, cpu, nullptr, traced);
  const ExecPlan& plan = ex.plan();
  REQUIRE(plan.guards.size() == 2);
  for (const Guard& gd : plan.guards) {
    CHECK(g.node(gd.select).label == "next");
    // arm a: scale(add), add(.., m) -- 3 nodes; arm b: neg, add -- 2 nodes (`seen` is monitored).
    CHECK(gd.nodes == (gd.whenTrue ? 3u : 2u));
  }
  // Every guarded step comes after the condition's step and right before the select.
  int32_t condPos = -1, selectPos = -1, lastGuarded = -1;
  for (const Step& s : plan.body) {
    if (s.value == g.node(plan.guards[0].select).operands[0])
      condPos = s.position;
    if (s.value == plan.guards[0].select)
      selectPos = s.position;
    if (s.guard >= 0) {
      CHECK(condPos >= 0);
      lastGuarded = s.position;
    }
  }
  CHECK(lastGuarded == selectPos - 1);

  Tensor y = input();
  RunResult r = ex.run({{"y", y}});
  std::vector<float> want = reference({y.data(), y.data() + kN});
  const Tensor& got = r.outputs.at("x");
  for (int64_t i = 0; i < kN; ++i)
    CHECK(got.data()[i] == doctest::Approx(want[static_cast<size_t>(i)]).epsilon(1e-6));

  // The trace: an arm's nodes ran on the stages that took it and were skipped on the others.
  const int64_t taken = static_cast<int64_t>(std::count(kCond.begin(), kCond.end(), 1.0));
  const int64_t stages = static_cast<int64_t>(kCond.size());
  for (const TraceRow& row : ex.trace().rows()) {
    CAPTURE(row.what);
    if (row.what.find("\"arm a\"") != std::string::npos) {
      CHECK(row.calls == taken);
      CHECK(row.skipped == stages - taken);
    }
    if (row.what.find("\"neg\"") != std::string::npos) {
      CHECK(row.calls == stages - taken);
      CHECK(row.skipped == taken);
    }
    if (row.what.find("\"shared\"") != std::string::npos ||
        row.what.find("\"seen\"") != std::string::npos) {
      CHECK(row.calls == stages);
      CHECK(row.skipped == 0);
    }
  }
  std::ostringstream table;
  ex.trace().print(table);
  CHECK(table.str().find("skipped") != std::string::npos);

  // Without memory reuse the result is the same: skipped slots are never read.
  ExecutorOptions naive;
  naive.planMemory = false;
  Executor unplanned(g, cpu, nullptr, naive);
  RunResult u = unplanned.run({{"y", y}});
  for (int64_t i = 0; i < kN; ++i)
    CHECK(u.outputs.at("x").data()[i] == got.data()[i]);
}

TEST_CASE("a select whose arms are one value has no lazy arm") {
  ir::Graph g("eager");
  ir::Builder b(g);
  ir::Type t = ir::Type::real({1, 1, 1, 8});
  ValueId y = b.input("y", t);
  ValueId twice = b.op(Op::Scale, {y}, {{"alpha", 2.0}});
  // Both arms are the same value: nothing is exclusive to one of them.
  b.output("a", b.op(Op::Select, {b.scalar(1.f), twice, twice}));
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  CHECK(ex.plan().guards.empty());
}

TEST_CASE("selects on one condition share their arms' guards") {
  // x <- cond ? x + y : x * y, and a second select on the same condition reads the arms' inner
  // values (as cancel-inverse-transforms writes for a prior's coefficients): the inner values of
  // each arm stay lazy, scheduled before the first select, and both selects see their arm.
  ir::Graph g("group");
  ir::Builder b(g);
  ir::Type t = ir::Type::real({1, 1, 1, kN});
  ValueId y = b.input("y", t);
  b.beginLoop(static_cast<int64_t>(kCond.size()));
  ValueId x = b.loopState(y, "x");
  ValueId cond = b.schedule("cond", kCond);
  ValueId innerA = b.op(Op::Add, {x, y}, {}, "inner a");
  ValueId innerB = b.op(Op::Mul, {x, y}, {}, "inner b");
  ValueId armA = b.op(Op::Scale, {innerA}, {{"alpha", 0.5}}, "arm a");
  ValueId armB = b.op(Op::Neg, {innerB}, {}, "arm b");
  ValueId next = b.op(Op::Select, {cond, armA, armB}, {}, "next");
  ValueId inner = b.op(Op::Select, {cond, innerA, innerB}, {}, "inner");
  b.monitor("inner", b.op(Op::Sum, {inner}));
  b.carry(x, next);
  b.endLoop();
  b.output("x", b.loopResult(x));

  cpu::CpuBackend cpu;
  ExecutorOptions traced;
  traced.trace = true;
  Executor ex(g, cpu, nullptr, traced);
  const ExecPlan& plan = ex.plan();
  REQUIRE(plan.guards.size() == 2);
  for (const Guard& gd : plan.guards) {
    CHECK(g.node(gd.select).label == "next");
    CHECK(gd.nodes == 2u); // the inner value and the arm
  }
  int32_t selectPos = -1, lastGuarded = -1;
  for (const Step& s : plan.body) {
    if (s.value == plan.guards[0].select)
      selectPos = s.position;
    if (s.guard >= 0)
      lastGuarded = s.position;
  }
  CHECK(lastGuarded == selectPos - 1);

  Tensor in = input();
  RunResult r = ex.run({{"y", in}});
  std::vector<float> want(in.data(), in.data() + kN);
  const std::vector<float> yv = want;
  std::vector<double> innerSums;
  for (double c : kCond) {
    double sum = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      const float v = c != 0 ? want[i] + yv[i] : want[i] * yv[i];
      sum += v;
      want[i] = c != 0 ? 0.5f * v : -v;
    }
    innerSums.push_back(sum);
  }
  for (int64_t i = 0; i < kN; ++i)
    CHECK(r.outputs.at("x").data()[i] ==
          doctest::Approx(want[static_cast<size_t>(i)]).epsilon(1e-6));
  const std::vector<float>* logged = r.monitors.find("inner");
  REQUIRE(logged != nullptr);
  REQUIRE(logged->size() == innerSums.size());
  for (size_t l = 0; l < innerSums.size(); ++l)
    CHECK((*logged)[l] == doctest::Approx(innerSums[l]).epsilon(1e-5));
  const int64_t taken = static_cast<int64_t>(std::count(kCond.begin(), kCond.end(), 1.0));
  for (const TraceRow& row : ex.trace().rows())
    if (row.what.find("\"inner a\"") != std::string::npos) {
      CHECK(row.calls == taken);
      CHECK(row.skipped == static_cast<int64_t>(kCond.size()) - taken);
    }
}
