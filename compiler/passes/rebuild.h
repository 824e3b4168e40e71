// Shared by the passes: rebuild a graph through the validating Builder with some nodes dropped,
// moved to another region or replaced by constants. Node order within a region is kept, so a
// rebuild is topological whenever every kept node's operands are kept and end up in the same or
// an earlier region.
#pragma once

#include "ir/graph.h"

#include <map>
#include <vector>

namespace podm::passes {

struct Rewrite {
  std::vector<bool> keep;                       // per node
  std::vector<ir::Region> region;               // per node: where it goes
  std::map<uint32_t, ir::TensorData> constants; // node -> its value (becomes a constant)
  std::map<uint32_t, uint32_t> aliases; // node -> an earlier node with the same value (dropped)
  // node -> a different node computing the same value in its place (operands are old ids, all
  // earlier than the node; the label is kept)
  struct Replacement {
    ir::Op op{};
    std::vector<ir::ValueId> operands;
    ir::Attrs attrs;
  };
  std::map<uint32_t, Replacement> replacements;
  // Starts as the identity rewrite of g.
  explicit Rewrite(const ir::Graph& g);
  bool changes(const ir::Graph& g) const;
};

ir::Graph rebuild(const ir::Graph& g, const Rewrite& rw);

} // namespace podm::passes
