// Dead-node removal: keep what the graph's live roots (outputs, carried values, the stop
// predicate, monitors) reach, plus every input and loop state (the run interface and the loop's
// shape stay as they are).
#include "compiler/passes/passes.h"
#include "compiler/passes/rebuild.h"

namespace podm::passes {

ir::Graph removeDeadNodes(const ir::Graph& g) {
  Rewrite rw(g);
  std::vector<bool> live(g.size(), false);
  std::vector<ir::ValueId> work = ir::liveRoots(g);
  for (uint32_t i = 0; i < g.size(); ++i) {
    ir::Op op = g.nodes()[i].op;
    if (op == ir::Op::Input || op == ir::Op::LoopState)
      work.push_back(ir::ValueId{i});
  }
  while (!work.empty()) {
    ir::ValueId v = work.back();
    work.pop_back();
    if (live[v.index])
      continue;
    live[v.index] = true;
    for (ir::ValueId o : g.node(v).operands)
      work.push_back(o);
  }
  rw.keep = live;
  return rw.changes(g) ? rebuild(g, rw) : g;
}

} // namespace podm::passes
