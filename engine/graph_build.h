// Model -> lowered -> optimized graph, with lowering errors printed as diagnostics
// (file:line:col: error: ..., source line and caret), and the input images the graph is built for.
#pragma once

#include "compiler/lower/lower.h"
#include "engine/model_loader.h"
#include "runtime/io/color.h"
#include "runtime/tensor.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace podm::engine {

struct GraphInputs {
  std::map<std::string, lower::InputShape> shapes; // --shape and the shapes of --input files
  std::map<std::string, Tensor> tensors;           // --input name=FILE (1x1xHxW)
  std::map<std::string, double> scalars;           // --input name=NUMBER
  std::map<std::string, std::string> files;        // --input name=FILE: the file, as given
  // RGB --input files are read as their luma Y (runtime/io/color.h); their chroma is kept here in
  // command-line order, so `podm run` can recombine the result with the first one's colour.
  std::vector<std::pair<std::string, io::LumaSplit>> color;
};

// Lowers a checked model. On a lowering error prints the diagnostic and returns nullopt.
// Reads an input image (or a .txt kernel) as `name`: an RGB image as its luma Y, its chroma kept in
// `in.color`. Returns an error message, empty on success.
std::string readGraphInput(const std::string& name, const std::string& path, GraphInputs& in);

// `failure`: when given, the error is stored there instead of printed (the Python module raises
// it).
std::optional<lower::LowerResult> lowerLoaded(const LoadedModel& m, const GraphInputs& in,
                                              Diagnostic* failure = nullptr);

// Gives the model's `ref` input `ref` unless `inputs` has one (returns true when it did), and
// every scalar input with a literal default its default unless given.
bool completeModelInputs(const ast::Model& model, GraphInputs& inputs, const Tensor* ref);

// The tensors for every graph input, from `inputs` (scalars as 1x1x1x1 tensors; a compiled
// graph's `ref` from `ref`). nullopt with `error` set ("input 'k' (kernel[...]) is not given")
// when an input is not given.
std::optional<std::map<std::string, Tensor>>
bindGraphInputs(const ir::Graph& g, GraphInputs& inputs, const Tensor* ref, std::string& error);

// The model's inputs that are not images (kernels, scalars): never an observation.
std::set<std::string> nonImageInputs(const ast::Model& model);

// The border shave of PSNR/SSIM against a reference (docs/io.md): `requested` when >= 0, else
// the shave of the model's ssim monitor, else the scale s when the result is s times an image
// input (the observation of super-resolution; kernels and `ref` are no observation), else 0.
int qualityShave(const ir::Graph& g, const Shape& result,
                 const std::map<std::string, Tensor>& inputs,
                 const std::set<std::string>& notImages, int requested);

// The pass pipeline with CPU constant folding; `verbose` logs the graph after every pass.
ir::Graph optimizeGraph(const ir::Graph& g, std::ostream* verbose);

} // namespace podm::engine
