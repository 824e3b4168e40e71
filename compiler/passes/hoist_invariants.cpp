// Loop-invariant hoisting: a Body node that reads nothing stage-varying (only Pre values, after
// hoisting its operands) computes the same value every stage, so it moves to Pre and runs once --
// the kernel spectra and F-step denominators of a model whose weights are constant.
#include "compiler/passes/passes.h"
#include "compiler/passes/rebuild.h"

namespace podm::passes {

ir::Graph hoistInvariants(const ir::Graph& g) {
  Rewrite rw(g);
  for (uint32_t i = 0; i < g.size(); ++i) {
    const ir::Node& n = g.nodes()[i];
    // The stop predicate must stay in the Body (the builder requires it).
    if (n.region != ir::Region::Body || (g.loop() && g.loop()->stop.index == i))
      continue;
    const ir::OpInfo& info = n.info();
    if ((info.traits & (ir::trait::Control | ir::trait::Effect | ir::trait::StageVarying)) != 0)
      continue;
    bool invariant = true;
    for (ir::ValueId o : n.operands)
      invariant = invariant && rw.region[o.index] == ir::Region::Pre;
    if (invariant)
      rw.region[i] = ir::Region::Pre;
  }
  return rw.changes(g) ? rebuild(g, rw) : g;
}

} // namespace podm::passes
