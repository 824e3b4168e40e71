// The pass pipeline, as one readable function (docs/architecture.md).
#include "compiler/passes/passes.h"
#include "ir/printer.h"
#include "ir/verifier.h"

#include <ostream>

namespace podm::passes {

ir::Graph optimize(const ir::Graph& input, const PipelineOptions& options) {
  ir::Graph g = input;
  auto step = [&](const char* name, auto&& pass) {
    ir::Graph next = pass(g);
    ir::debugVerify(next);
    if (options.verbose)
      *options.verbose << "// after " << name << (next == g ? " (no change)" : "") << "\n"
                       << ir::dump(next);
    g = std::move(next);
  };
  step("hoist-invariants", [](const ir::Graph& x) { return hoistInvariants(x); });
  step("fold-constants", [&](const ir::Graph& x) { return foldConstants(x, options.evaluate); });
  step("eliminate-common-subexpressions",
       [](const ir::Graph& x) { return eliminateCommonSubexpressions(x); });
  step("cancel-inverse-transforms", [](const ir::Graph& x) { return cancelInverseTransforms(x); });
  step("remove-dead-nodes", [](const ir::Graph& x) { return removeDeadNodes(x); });
  if (options.fuse) {
    step("fuse-elementwise", [](const ir::Graph& x) { return fuseElementwise(x); });
    step("fuse-results", [](const ir::Graph& x) { return fuseResults(x); });
  }
  return g;
}

} // namespace podm::passes
