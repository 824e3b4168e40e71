// cpuEvaluator: runs a graph of constants and the nodes that fold over them on the CPU backend,
// in one executor, and hands back its outputs' values.
#include "engine/cpu_evaluator.h"

#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

#include <cstring>

namespace podm::engine {

passes::Evaluator cpuEvaluator() {
  return [](const ir::Graph& g) {
    cpu::CpuBackend cpu;
    Executor ex(g, cpu);
    RunResult r = ex.run({});
    std::vector<std::vector<float>> values;
    for (const ir::Output& out : g.outputs()) {
      const Tensor& t = r.outputs.at(out.name);
      std::vector<float> v(t.bytes() / sizeof(float));
      std::memcpy(v.data(), t.data(), t.bytes());
      values.push_back(std::move(v));
    }
    return values;
  };
}

} // namespace podm::engine
