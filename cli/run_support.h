// What `podm run` and `podm eval` share, so that a dataset score and a single run of the same
// model on the same image agree to the bit (with the input binding and the border shave of
// engine/graph_build.h, which the Python module shares too): the kinds of the inputs given, the
// weight files, the precision flag, and the summary figures of a run.
#pragma once

#include "cli/options.h"
#include "ir/graph.h"
#include "runtime/executor.h"
#include "runtime/tensor.h"

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace podm::cli {

// What was given for each input against what the model declares, before anything is lowered: a
// number for an image or kernel, a file for a scalar, and a kernel larger than an image input (the
// two files swapped on the command line) are errors naming the flag. nullopt when all is well.
std::optional<std::string> checkInputKinds(const ast::Model& model,
                                           const engine::GraphInputs& inputs);

// Every weight file the graph's network nodes name exists (relative paths against `baseDir`).
// A missing one is a diagnostic at the model's `net` declaration (rendered with its source line
// and caret when `model` is given) that says where it was looked for and suggests --weights-dir.
std::optional<std::string> checkWeightFiles(const ir::Graph& g, const engine::LoadedModel* model,
                                            const std::filesystem::path& baseDir);

// `--precision fp32|bf16`: false when VALUE is neither.
bool parsePrecision(const std::string& value, bool& bf16);
// Whether the networks run in bf16: `requested`, unless this CPU lacks native bf16, which a note
// on stderr then says (the run stays fp32, as `--precision bf16` documents).
bool useBf16(const std::string& verb, bool requested, bool quiet);

// Stages the optimality check accepted x_G (the `branch` monitor), -1 when it is not monitored.
int64_t acceptedStages(const RunResult& r);

} // namespace podm::cli
