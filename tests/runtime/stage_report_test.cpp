// The executor's per-stage report: RunResult::stageSeconds (the `time` monitor) and the onStage
// callback `podm run` draws its progress line with, called once per stage with that stage's
// monitor values.
#include "ir/builder.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

#include <doctest/doctest.h>

using namespace podm;
using ir::Op;

TEST_CASE("executor: stage wall times and one onStage call per stage with its monitor values") {
  // x <- 0.5 x, monitored as ||x||^2, stopping once it is below 1e-3 (before the 40 stages).
  ir::Graph g("halve");
  ir::Builder b(g);
  ir::ValueId x0 = b.input("x0", ir::Type::real({1, 1, 64, 64}));
  b.beginLoop(40);
  ir::ValueId x = b.loopState(x0, "x");
  ir::ValueId next = b.op(Op::Scale, {x}, {{"alpha", 0.5}});
  ir::ValueId n = b.monitor("norm", b.op(Op::Norm2Sq, {next}));
  b.stopWhen(b.op(Op::Lt, {n, b.scalar(1e-3f)}));
  b.carry(x, next);
  b.endLoop();
  b.output("x", b.loopResult(x));

  Tensor start(Shape{1, 1, 64, 64});
  for (int64_t i = 0; i < start.numel(); ++i)
    start.data()[i] = 1.f;
  std::vector<int64_t> stages;
  std::vector<float> norms;
  std::vector<double> seconds;
  ExecutorOptions options;
  options.onStage = [&](const StageReport& s) {
    stages.push_back(s.stage);
    REQUIRE(s.names.size() == 1);
    CHECK(s.names[0] == "norm");
    CHECK(s.stages == 40);
    norms.push_back(s.values[0]);
    seconds.push_back(s.seconds);
  };
  cpu::CpuBackend cpu;
  Executor ex(g, cpu, nullptr, options);
  RunResult r = ex.run({{"x0", start}});
  REQUIRE(r.stages < 40); // the stop rule fired
  REQUIRE(stages.size() == size_t(r.stages));
  REQUIRE(r.stageSeconds.size() == size_t(r.stages));
  const std::vector<float>& log = *r.monitors.find("norm");
  for (size_t l = 0; l < stages.size(); ++l) {
    CHECK(stages[l] == int64_t(l));
    CHECK(norms[l] == log[l]);
    CHECK(seconds[l] == r.stageSeconds[l]);
    CHECK(r.stageSeconds[l] > 0);
  }
  // Without a callback the times are still measured.
  Executor plain(g, cpu);
  RunResult p = plain.run({{"x0", start}});
  CHECK(p.stageSeconds.size() == size_t(p.stages));
}
