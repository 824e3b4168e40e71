// The backend-consistency table (docs/architecture.md): every op of the op table runs on every
// backend present and must match the CPU result. The CPU must have a kernel for every op unless its
// kernel table lists the op as pending with a reason; other backends may fall back to the CPU
// (the table says which ran natively). CUDA rows skip when no GPU is visible.
#include "op_cases.h"
#include "prox_test_util.h"
#include "runtime/backend_factory.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "sim_backend.h"

#include <cmath>
#include <cstdio>
#include <doctest/doctest.h>
#include <sstream>

using namespace podm;
using ir::Op;

namespace {

// The ops a typical device backend implements first: the simulated device claims these.
std::set<Op> deviceOps() {
  std::set<Op> ops;
  for (const ir::OpInfo& info : ir::allOps())
    if (info.has(ir::trait::Elementwise) || info.has(ir::trait::Reduction) ||
        info.op == Op::Schedule || info.op == Op::Monitor)
      ops.insert(info.op);
  ops.erase(Op::Mask);
  return ops;
}

// |got - want| <= 1e-5 * (1 + |want|) elementwise, or relative to the largest value for spectra.
std::string compare(const Tensor& got, const Tensor& want) {
  if (!(got.shape() == want.shape()) || got.dtype() != want.dtype())
    return "shape or dtype differs";
  const int64_t floats = want.numel() * (want.dtype() == DType::C64 ? 2 : 1);
  float scale = 0;
  for (int64_t i = 0; i < floats; ++i)
    scale = std::max(scale, std::fabs(want.data()[i]));
  for (int64_t i = 0; i < floats; ++i) {
    float g = got.data()[i], w = want.data()[i];
    if (!(std::fabs(g - w) <= 1e-5f * (1.f + std::fabs(w) + 0.01f * scale))) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "element %lld: %.9g vs %.9g", static_cast<long long>(i), g, w);
      return buf;
    }
  }
  return "";
}

} // namespace

TEST_CASE("backend consistency: every op on every backend against the CPU") {
  testing::TestProxProvider prox;
  testing::TestNetworkProvider network;
  ExecutorOptions options;
  options.prox = &prox;
  options.network = &network;
  const PrepareContext context{&prox, &network}; // what the executors below prepare with
  cpu::CpuBackend cpu;

  std::vector<std::pair<std::string, std::unique_ptr<Backend>>> backends;
  backends.emplace_back("sim", std::make_unique<testing::SimBackend>(deviceOps()));
  std::string whyNoCuda;
  if (auto cuda = makeCudaBackend(&whyNoCuda))
    backends.emplace_back("cuda", std::move(cuda));

  std::ostringstream table;
  char line[160];
  std::snprintf(line, sizeof line, "%-24s %-10s", "op", "cpu");
  table << line;
  for (const auto& [name, b] : backends)
    table << " " << name << (name.size() < 10 ? std::string(10 - name.size(), ' ') : "");
  if (whyNoCuda.size())
    table << " cuda";
  table << "\n";

  const auto& cases = testing::opCases();
  int checked = 0;
  for (const ir::OpInfo& info : ir::allOps()) {
    if (info.has(ir::trait::NoKernel))
      continue; // bound by the executor itself, exercised by every case
    INFO("op ", info.name);
    std::snprintf(line, sizeof line, "%-24s ", std::string(info.name).c_str());
    table << line;
    auto it = cases.find(info.op);
    if (it == cases.end()) {
      FAIL_CHECK("op '", info.name, "' has no row in the consistency table (op_cases.cpp)");
      table << "NO CASE\n";
      continue;
    }
    if (!cpu.table().find(info.op)) {
      const std::string& reason = cpu.table().pendingReason(info.op);
      CHECK_MESSAGE(!reason.empty(), "the CPU has no kernel for '" << info.name
                                                                   << "' and does not list it as "
                                                                   << "pending with a reason");
      table << "pending kernel: " << reason << "\n";
      continue;
    }
    testing::OpCase c = it->second();
    Executor reference(c.graph, cpu, nullptr, options);
    RunResult want = reference.run(c.inputs);
    std::snprintf(line, sizeof line, "%-10s", "ok");
    table << line;
    for (auto& [name, backend] : backends) {
      Executor ex(c.graph, *backend, &cpu, options);
      RunResult got = ex.run(c.inputs);
      bool native = true;
      for (const ir::Node& n : c.graph.nodes())
        if (n.op == info.op)
          native = native &&
                   backend->supports(
                       c.graph, ir::ValueId{static_cast<uint32_t>(&n - c.graph.nodes().data())},
                       context);
      for (const auto& [out, tensor] : want.outputs) {
        std::string diff = compare(got.outputs.at(out), tensor);
        CHECK_MESSAGE(diff.empty(), name << " output " << out << ": " << diff);
      }
      CHECK(got.monitors.values == want.monitors.values);
      std::snprintf(line, sizeof line, " %-10s", native ? "ok" : "ok (cpu)");
      table << line;
    }
    if (whyNoCuda.size())
      table << " skip";
    table << "\n";
    ++checked;
  }
  if (!whyNoCuda.empty())
    table << "cuda rows skipped: " << whyNoCuda << "\n";
  MESSAGE("\n" << table.str());
  size_t kernelOps = 0;
  for (const ir::OpInfo& info : ir::allOps())
    kernelOps += !info.has(ir::trait::NoKernel);
  CHECK(checked + cpu.table().pendingOps().size() == kernelOps);
  CHECK(cpu.table().missing().empty());
}
