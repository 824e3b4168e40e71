// The text form of a graph (`podm compile --emit=graph`): one line per node, the stage loop as a
// block with its carries and stop predicate. The output is stable: it depends only on the graph
// (floats print in shortest round-trip form, attributes sorted by name), so it can be diffed and
// used in golden tests.
#pragma once

#include "ir/graph.h"

#include <iosfwd>
#include <string>

namespace podm::ir {

std::string dump(const Graph& g);
void dump(const Graph& g, std::ostream& out);

// One node as it appears in the dump, without indentation: `%5 "x_A" = conv2d(%3, %1) {...} : t`.
std::string formatNode(const Graph& g, ValueId v);
// Shortest text that reads back to the same float/double.
std::string formatFloat(float f);
std::string formatDouble(double d);

} // namespace podm::ir
