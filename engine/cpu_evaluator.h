// The constant-folding evaluator of the pass pipeline, run on the CPU backend: the graph of the
// folded nodes and the constants they read, executed once.
#pragma once

#include "compiler/passes/passes.h"

namespace podm::engine {

passes::Evaluator cpuEvaluator();

} // namespace podm::engine
