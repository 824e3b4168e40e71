// Constant folding: a node whose operands are all constants (and that is no source, control,
// effect, stage-varying or prox node) is evaluated once at compile time and becomes a constant.
// Evaluation is delegated (the passes do not depend on the runtime): the CLI and the tests pass an
// evaluator that runs the node on the CPU backend.
#include "compiler/passes/passes.h"
#include "compiler/passes/rebuild.h"

namespace podm::passes {

ir::Graph foldConstants(const ir::Graph& g, const Evaluator& evaluate) {
  if (!evaluate)
    return g;
  Rewrite rw(g);
  std::vector<std::optional<std::vector<float>>> value(g.size());
  constexpr uint32_t kNoFold = ir::trait::Source | ir::trait::Control | ir::trait::Effect |
                               ir::trait::StageVarying | ir::trait::NoKernel;
  for (uint32_t i = 0; i < g.size(); ++i) {
    const ir::Node& n = g.nodes()[i];
    if (n.op == ir::Op::Constant) {
      auto data = n.attrs.getData("value").values();
      value[i] = std::vector<float>(data.begin(), data.end());
      continue;
    }
    if ((n.info().traits & kNoFold) != 0 || n.op == ir::Op::Prox || n.operands.empty() ||
        n.type.numel() > (int64_t{1} << 22))
      continue;
    std::vector<std::span<const float>> operands;
    std::vector<ir::Type> types;
    bool allConstant = true;
    for (ir::ValueId o : n.operands) {
      if (!value[o.index]) {
        allConstant = false;
        break;
      }
      operands.emplace_back(*value[o.index]);
      types.push_back(g.type(o));
    }
    if (!allConstant)
      continue;
    value[i] = evaluate(n, types, operands);
    rw.constants[i] = *value[i];
  }
  if (rw.constants.empty())
    return g;
  // Operands only folded nodes read are dead now; removeDeadNodes drops them.
  return rebuild(g, rw);
}

} // namespace podm::passes
