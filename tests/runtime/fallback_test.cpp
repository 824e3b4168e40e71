// Fallback: nodes the primary backend cannot run go to the CPU backend, with a note saying so,
// explicit transfers between the two memories, and the same results as a CPU-only run. The
// primary here is SimBackend, whose addresses fault if the executor ever dereferences them.
#include "ir/builder.h"
#include "prox_test_util.h"
#include "runtime/executor.h"
#include "sim_backend.h"

#include <cstring>
#include <doctest/doctest.h>
#include <sstream>

using namespace podm;
using ir::Op;
using ir::ValueId;

namespace {

// A small PODM-like loop: conv (fallback), elementwise (sim), prox (fallback), check, select.
ir::Graph stageGraph() {
  ir::Graph g("fallback");
  ir::Builder b(g);
  const ir::Dims d{1, 1, 16, 16};
  ValueId y = b.input("y", ir::Type::real(d));
  ValueId k = b.input("k", ir::Type::real({1, 1, 3, 3}));
  b.beginLoop(6);
  ValueId x = b.loopState(y, "x");
  ValueId gamma = b.schedule("gamma", {0.5, 0.4, 0.3, 0.3, 0.2, 0.1});
  ValueId r = b.op(Op::Sub, {b.op(Op::Conv2d, {x, k}, {{"boundary", std::string("periodic")}}), y});
  ValueId grad = b.op(Op::Conv2dAdjoint, {r, k}, {{"boundary", std::string("periodic")}});
  ValueId v = b.op(Op::Sub, {x, b.op(Op::Mul, {grad, gamma})});
  ValueId xg = b.op(Op::Prox, {v, gamma},
                    {{"fn", std::string("l1")}, {"args", ir::NamedFloats{{"lambda", 0.1}}}});
  ValueId change = b.op(Op::Norm2Sq, {b.op(Op::Sub, {xg, x})});
  ValueId ok = b.op(Op::Le, {change, b.scalar(0.5f)});
  b.monitor("change", change);
  b.carry(x, b.op(Op::Select, {ok, xg, v}));
  b.endLoop();
  ValueId result = b.loopResult(x);
  b.output("x", result);
  b.output("norm", b.op(Op::Norm2Sq, {result}));
  return g;
}

std::map<std::string, Tensor> stageInputs() {
  Tensor y(Shape{1, 1, 16, 16}), k(Shape{1, 1, 3, 3});
  for (int64_t i = 0; i < y.numel(); ++i)
    y.data()[i] = std::cos(0.37f * static_cast<float>(i));
  for (int64_t i = 0; i < 9; ++i)
    k.data()[i] = 0.05f + 0.01f * static_cast<float>(i);
  return {{"y", y}, {"k", k}};
}

const std::set<Op> kSimOps = {Op::Add,     Op::Sub,     Op::Mul,      Op::Le,    Op::Select,
                              Op::Norm2Sq, Op::Monitor, Op::Schedule, Op::Scale, Op::Neg};

} // namespace

TEST_CASE("fallback: unsupported nodes run on the CPU, say so, and agree with a CPU run") {
  testing::TestProxProvider prox;
  ExecutorOptions options;
  options.prox = &prox;
  options.trace = true;
  std::ostringstream log;
  options.log = &log;
  cpu::CpuBackend cpu;
  testing::SimBackend sim(kSimOps);
  Executor mixed(stageGraph(), sim, &cpu, options);
  // conv2d, conv2d_adjoint and prox are not sim ops.
  REQUIRE(mixed.notes().size() == 3);
  CHECK(mixed.notes()[0].find("conv2d runs on cpu: sim has no kernel for conv2d") !=
        std::string::npos);
  CHECK(log.str().find("note: %") != std::string::npos);
  CHECK(mixed.backendOf(ValueId{4}) != "");

  Executor reference(stageGraph(), cpu, nullptr, options);
  auto inputs = stageInputs();
  RunResult a = mixed.run(inputs);
  RunResult b = reference.run(inputs);
  const Tensor& xa = a.outputs.at("x");
  const Tensor& xb = b.outputs.at("x");
  CHECK(std::memcmp(xa.data(), xb.data(), xa.bytes()) == 0);
  CHECK(*a.monitors.find("change") == *b.monitors.find("change"));
  CHECK(a.outputs.at("norm").data()[0] == b.outputs.at("norm").data()[0]);
  CHECK(sim.executed > 0);

  // Fallback kernels and transfers appear in the trace.
  int fallbackRows = 0, transferRows = 0;
  size_t moved = 0;
  for (const TraceRow& row : mixed.trace().rows()) {
    fallbackRows += row.fallback && row.calls == 6;
    transferRows += row.op == "transfer" && row.calls > 0;
    if (row.op == "transfer") // every transfer here is one 1x1x16x16 f32 plane or a kernel
      CHECK((row.bytes == 16 * 16 * 4 || row.bytes == 3 * 3 * 4 || row.bytes == 4));
    moved += row.bytes * static_cast<size_t>(row.calls);
  }
  CHECK(fallbackRows == 3);
  CHECK(transferRows > 0);
  // What `podm run --profile` reports under the table.
  CHECK(mixed.trace().bytesMoved() == moved);
  CHECK(moved > 0);
  CHECK(mixed.trace().table().find("moved between backends: ") != std::string::npos);
  CHECK(mixed.memory().backends.size() == 2);
}

TEST_CASE("fallback: without a fallback backend an unsupported node is an error") {
  testing::SimBackend sim({Op::Add});
  ir::Graph g("nofallback");
  ir::Builder b(g);
  ValueId x = b.input("x", ir::Type::real({1, 1, 4, 4}));
  b.output("y", b.op(Op::Haar, {x}, {{"levels", int64_t{1}}}));
  CHECK_THROWS_WITH(Executor(g, sim),
                    doctest::Contains("%1 haar: no backend can run this node (sim: has no "
                                      "kernel for haar)"));
}

TEST_CASE("fallback: a graph entirely on the simulated device touches it only through hooks") {
  testing::SimBackend sim({Op::Add, Op::Mul, Op::Norm2Sq, Op::Schedule, Op::Monitor});
  ir::Graph g("device");
  ir::Builder b(g);
  ValueId x0 = b.input("x", ir::Type::real({1, 2, 8, 8}));
  b.beginLoop(4);
  ValueId x = b.loopState(x0, "x");
  ValueId s = b.schedule("s", {1, 2, 3, 4});
  ValueId next = b.op(Op::Add, {b.op(Op::Mul, {x, s}), x0});
  b.monitor("n", b.op(Op::Norm2Sq, {next}));
  b.carry(x, next);
  b.endLoop();
  b.output("x", b.loopResult(x));
  Executor ex(g, sim);
  CHECK(ex.notes().empty());
  Tensor xt(Shape{1, 2, 8, 8});
  xt.fill(1.f);
  RunResult r = ex.run({{"x", xt}});
  // x1 = 1*1+1 = 2, x2 = 2*2+1 = 5, x3 = 5*3+1 = 16, x4 = 16*4+1 = 65.
  CHECK(r.outputs.at("x").data()[0] == 65.f);
  CHECK(*r.monitors.find("n") == std::vector<float>{4 * 128, 25 * 128, 256 * 128, 4225 * 128});
  CHECK(sim.uploads >= 1);
  CHECK(sim.downloads >= 2);
}
