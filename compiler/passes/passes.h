// The graph passes (docs/architecture.md): one pass per file, each `Graph pass(const Graph&)`
// returning its input unchanged when it changes nothing, and the pipeline that runs them in order
// with a verification after each (pipeline.cpp).
#pragma once

#include "ir/graph.h"

#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

namespace podm::passes {

// Evaluates a graph whose sources are constants (no inputs, no loop) and returns the values of its
// outputs, in order, laid out as constants store them (numel floats for f32, 2*numel for c64).
// Constant folding calls it once with every node it folds, so kernels and memory are set up once
// for a whole folded chain. The CLI runs it on the CPU backend.
using Evaluator = std::function<std::vector<std::vector<float>>(const ir::Graph& g)>;

ir::Graph hoistInvariants(const ir::Graph& g);
ir::Graph foldConstants(const ir::Graph& g, const Evaluator& evaluate);
ir::Graph eliminateCommonSubexpressions(const ir::Graph& g);
ir::Graph cancelInverseTransforms(const ir::Graph& g);
ir::Graph removeDeadNodes(const ir::Graph& g);
ir::Graph fuseElementwise(const ir::Graph& g);
ir::Graph fuseResults(const ir::Graph& g);

struct PipelineOptions {
  Evaluator evaluate;              // empty: constant folding is skipped (and says so in verbose)
  std::ostream* verbose = nullptr; // the graph after every pass
  bool fuse = true; // elementwise fusion (off for graphs whose primary backend lacks the kernel)
};

// hoist invariants -> fold constants -> common subexpressions -> cancel inverse transforms ->
// remove dead nodes -> fuse
// elementwise chains -> fuse readers into multi-result programs, with ir::debugVerify after each.
ir::Graph optimize(const ir::Graph& g, const PipelineOptions& options = {});

} // namespace podm::passes
