// Shared by `podm compile` and `podm run`: the --input/--shape options, reading input files
// (runtime/io), and model -> lowered -> optimized graph with lowering errors printed as
// diagnostics (file:line:col: error: ..., source line and caret).
#pragma once

#include "cli/driver.h"
#include "compiler/lower/lower.h"
#include "runtime/io/color.h"
#include "runtime/tensor.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace podm::cli {

struct GraphInputs {
  std::map<std::string, lower::InputShape> shapes; // --shape and the shapes of --input files
  std::map<std::string, Tensor> tensors;           // --input name=FILE (1x1xHxW)
  std::map<std::string, double> scalars;           // --input name=NUMBER
  // RGB --input files are read as their luma Y (runtime/io/color.h); their chroma is kept here in
  // command-line order, so `podm run` can recombine the result with the first one's colour.
  std::vector<std::pair<std::string, io::LumaSplit>> color;
};

// Takes --input NAME=FILE|NUMBER and --shape NAME=HxW (also --opt=VALUE forms) out of `args`,
// reading the files. Returns false after printing `podm VERB: error: ...`; `status` is then the
// exit code (2 usage, 1 unreadable or unsuitable data).
bool takeInputOptions(const std::string& verb, std::vector<std::string>& args, GraphInputs& in,
                      int& status);

// Lowers a checked model. On a lowering error prints the diagnostic and returns nullopt.
std::optional<lower::LowerResult> lowerLoaded(const LoadedModel& m, const GraphInputs& in);

// The pass pipeline with CPU constant folding; `verbose` logs the graph after every pass.
ir::Graph optimizeGraph(const ir::Graph& g, std::ostream* verbose);

} // namespace podm::cli
