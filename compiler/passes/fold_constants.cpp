// Constant folding: a node whose operands are all constants (and that is no source, control,
// effect, stage-varying or prox node) is evaluated once at compile time and becomes a constant.
// Evaluation is delegated (the passes do not depend on the runtime): the CLI and the tests pass an
// evaluator that runs the node on the CPU backend.
//
// Folded chains can be long and image-sized (L(f) is 40 power-iteration steps on 512² planes):
// they are evaluated as one graph (one executor, whose memory plan keeps a value only while a
// folded node still reads it), and only values that an unfolded node (or an output) reads become
// constants. One evaluation per pass, not one per node: an executor per node rebuilt its kernels'
// tables and memory hundreds of times (`sr_lp`'s set-up).
#include "compiler/passes/passes.h"
#include "compiler/passes/rebuild.h"
#include "ir/builder.h"

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
  // Whether anything but a folded node reads each value (then it must stay).
  std::vector<bool> readOutside(g.size(), false);
  for (uint32_t i = 0; i < g.size(); ++i)
    for (ir::ValueId o : g.nodes()[i].operands)
      if (!folds[i])
        readOutside[o.index] = true;
  for (const auto& out : g.outputs())
    readOutside[out.value.index] = true;
  // Folded nodes whose values reach one read from outside; the others are not evaluated.
  std::vector<bool> needed(readOutside);
  for (uint32_t i = g.size(); i-- > 0;)
    if (folds[i] && needed[i])
      for (ir::ValueId o : g.nodes()[i].operands)
        needed[o.index] = true;

  // The folded nodes with the constants they read, as one graph evaluated at once; the values
  // that unfolded nodes or outputs read are its results. The evaluator keeps only what a folded
  // node still has to read (the executor's memory plan), so long chains stay small.
  ir::Graph chain("fold");
  ir::Builder b(chain);
  std::vector<ir::ValueId> inChain(g.size());
  std::vector<ir::ValueId> wanted;
  std::vector<uint32_t> wantedNode;
  for (uint32_t i = 0; i < g.size(); ++i) {
    if (!folds[i] || !needed[i])
      continue;
    const ir::Node& n = g.nodes()[i];
    std::vector<ir::ValueId> operands;
    for (ir::ValueId o : n.operands) {
      if (!inChain[o.index]) { // a constant of the graph (its storage is shared, not copied)
        const ir::Node& c = g.nodes()[o.index];
        inChain[o.index] = b.create(ir::Op::Constant, {}, c.attrs, c.type);
      }
      operands.push_back(inChain[o.index]);
    }
    inChain[i] = b.create(n.op, operands, n.attrs, std::nullopt, n.label);
    if (readOutside[i]) {
      wanted.push_back(inChain[i]);
      wantedNode.push_back(i);
    }
  }
  if (wanted.empty())
    return g;
  for (size_t k = 0; k < wanted.size(); ++k)
    b.output("v" + std::to_string(k), wanted[k]);
  std::vector<std::vector<float>> values = evaluate(chain);
  Rewrite rw(g);
  for (size_t k = 0; k < wanted.size(); ++k)
    rw.constants.emplace(wantedNode[k], ir::TensorData(std::move(values[k])));
  // Operands only folded nodes read are dead now; removeDeadNodes drops them.
  return rebuild(g, rw);
}

} // namespace podm::passes
