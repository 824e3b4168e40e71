// Constant folding: a node whose operands are all constants (and that is no source, control,
// effect, stage-varying or prox node) is evaluated once at compile time and becomes a constant.
// Evaluation is delegated (the passes do not depend on the runtime): the CLI and the tests pass an
// evaluator that runs the node on the CPU backend.
//
// Folded chains can be long and image-sized (L(f) is 40 power-iteration steps on 512² planes), so
// a value is kept only while a folded node still has to read it, and only values that an unfolded
// node (or an output) reads become constants; the rest of the chain is dropped as it goes.
#include "compiler/passes/passes.h"
#include "compiler/passes/rebuild.h"

namespace podm::passes {

namespace {

bool foldable(const ir::Node& n) {
  constexpr uint32_t kNoFold = ir::trait::Source | ir::trait::Control | ir::trait::Effect |
                               ir::trait::StageVarying | ir::trait::NoKernel;
  return (n.info().traits & kNoFold) == 0 && n.op != ir::Op::Prox && !n.operands.empty() &&
         n.type.numel() <= (int64_t{1} << 22);
}

} // namespace

ir::Graph foldConstants(const ir::Graph& g, const Evaluator& evaluate) {
  if (!evaluate)
    return g;
  // Which nodes fold: structurally, before anything is evaluated (operands precede users).
  std::vector<bool> folds(g.size(), false), isConstant(g.size(), false);
  for (uint32_t i = 0; i < g.size(); ++i) {
    const ir::Node& n = g.nodes()[i];
    isConstant[i] = n.op == ir::Op::Constant;
    if (isConstant[i] || !foldable(n))
      continue;
    bool all = true;
    for (ir::ValueId o : n.operands)
      all = all && (isConstant[o.index] || folds[o.index]);
    folds[i] = all;
  }
  // How many folded nodes read each value, and whether anything else does (then it must stay).
  std::vector<uint32_t> foldedReaders(g.size(), 0);
  std::vector<bool> readOutside(g.size(), false);
  for (uint32_t i = 0; i < g.size(); ++i)
    for (ir::ValueId o : g.nodes()[i].operands) {
      if (folds[i])
        ++foldedReaders[o.index];
      else
        readOutside[o.index] = true;
    }
  for (const auto& out : g.outputs())
    readOutside[out.value.index] = true;

  Rewrite rw(g);
  std::vector<std::optional<ir::TensorData>> value(g.size());
  for (uint32_t i = 0; i < g.size(); ++i) {
    if (!folds[i])
      continue;
    const ir::Node& n = g.nodes()[i];
    std::vector<std::span<const float>> operands;
    std::vector<ir::Type> types;
    for (ir::ValueId o : n.operands) {
      if (!value[o.index]) // a constant of the graph: read in place
        value[o.index] = g.nodes()[o.index].attrs.getData("value");
      operands.emplace_back(value[o.index]->values());
      types.push_back(g.type(o));
    }
    value[i] = ir::TensorData(evaluate(n, types, operands));
    if (readOutside[i])
      rw.constants.emplace(i, *value[i]); // shares the storage
    for (ir::ValueId o : n.operands)
      if (--foldedReaders[o.index] == 0)
        value[o.index].reset(); // no folded node reads it any more
  }
  if (rw.constants.empty())
    return g;
  // Operands only folded nodes read are dead now; removeDeadNodes drops them.
  return rebuild(g, rw);
}

} // namespace podm::passes
