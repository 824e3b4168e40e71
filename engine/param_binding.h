// `podm run`'s values for a graph's learnable parameters (`param` nodes,
// compiler/lower/params.cpp): a trained model keeps them next to its network weights, as
// safetensors tensors named `param.<name>.<tensor>` in the net's weight file(s). Params without
// such a tensor run at their initial values, which the caller reports once.
#pragma once

#include "ir/graph.h"
#include "runtime/tensor.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace podm::engine {

struct ParamValues {
  std::map<std::string, Tensor> values; // found in a weight file, by param name
  std::vector<std::string> atInit;      // params with no tensor in any weight file
  std::vector<std::string> files;       // the weight files that were searched
};

// Searches the safetensors weight files of the graph's `network` nodes (relative paths against
// `baseDir`, as the network provider resolves them; files that do not exist are skipped, the
// network itself reports them). Throws std::runtime_error naming the file, the tensor and both
// shapes when a tensor has another shape than its param (leading 1s are not significant).
ParamValues paramValuesFromWeights(const ir::Graph& graph, const std::filesystem::path& baseDir);

// "podm run: note: ..." text for params at their initial values, or "" when there are none.
std::string initialValuesNote(const ParamValues& p);

} // namespace podm::engine
