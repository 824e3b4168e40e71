// cpuEvaluator: wraps the node in a graph (constants in, one output) and runs it on the CPU.
#include "engine/cpu_evaluator.h"

#include "ir/builder.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

#include <cstring>

namespace podm::engine {

passes::Evaluator cpuEvaluator() {
  return [](const ir::Node& node, std::span<const ir::Type> types,
            std::span<const std::span<const float>> operands) {
    ir::Graph g("fold");
    ir::Builder b(g);
    std::vector<ir::ValueId> ops;
    for (size_t i = 0; i < operands.size(); ++i)
      ops.push_back(b.create(ir::Op::Constant, {},
                             ir::Attrs{{"value", ir::TensorData(std::vector<float>(
                                                     operands[i].begin(), operands[i].end()))}},
                             types[i]));
    b.output("y", b.create(node.op, ops, node.attrs));
    cpu::CpuBackend cpu;
    Executor ex(std::move(g), cpu);
    RunResult r = ex.run({});
    const Tensor& t = r.outputs.at("y");
    std::vector<float> out(t.bytes() / sizeof(float));
    std::memcpy(out.data(), t.data(), t.bytes());
    return out;
  };
}

} // namespace podm::engine
