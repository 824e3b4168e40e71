// The constant-folding evaluator of the pass pipeline, run on the CPU backend: one node on
// constant operands becomes a one-node graph executed once.
#pragma once

#include "compiler/passes/passes.h"

namespace podm::engine {

passes::Evaluator cpuEvaluator();

} // namespace podm::engine
