// The graph verifier: re-checks every invariant the builder establishes (types, regions,
// visibility, attributes, loop structure, outputs) on a finished graph, so that a pass that edits
// nodes in place cannot hand a broken graph to the next stage unnoticed.
#pragma once

#include "ir/graph.h"

#include <string>
#include <vector>

namespace podm::ir {

// All problems found (empty when the graph is valid), one line each.
std::vector<std::string> verificationErrors(const Graph& g);

// Throws IrError listing the problems (at most 20) when there are any.
void verify(const Graph& g);

// verify() in debug builds, nothing in release builds: call it after every compiler stage.
inline void debugVerify([[maybe_unused]] const Graph& g) {
#ifndef NDEBUG
  verify(g);
#endif
}

} // namespace podm::ir
