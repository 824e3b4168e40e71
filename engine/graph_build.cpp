// Reading inputs, lowering with diagnostics, and the optimizer call (graph_build.h).
#include "engine/graph_build.h"

#include "compiler/passes/passes.h"
#include "engine/cpu_evaluator.h"
#include "ir/errors.h"
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"

#include <iostream>

namespace podm::engine {

std::string readGraphInput(const std::string& name, const std::string& path, GraphInputs& in) {
  try {
    // Kernels are commonly kept as text (one row per line), as the benchmark sets ship them.
    bool text = path.size() > 4 && path.compare(path.size() - 4, 4, ".txt") == 0;
    Tensor t = text ? io::readKernel(path) : io::readImage(path);
    if (t.shape().c == 3) {
      // Colour images are restored on their luma, as the super-resolution literature does.
      io::LumaSplit split = io::splitLuma(t);
      t = split.y;
      in.color.emplace_back(name, std::move(split));
    } else if (t.shape().c != 1) {
      return "--input " + name + "=" + path + ": the image has " + std::to_string(t.shape().c) +
             " channels; models take gray or RGB images (RGB as its Y)";
    }
    in.shapes[name] = {t.shape().h, t.shape().w};
    in.tensors[name] = std::move(t);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::optional<lower::LowerResult> lowerLoaded(const LoadedModel& m, const GraphInputs& in) {
  lower::LowerOptions options;
  options.shapes = in.shapes;
  try {
    return lower::lowerModel(*m.ast, *m.checked, options);
  } catch (const lower::LowerError& e) {
    std::cerr << m.diags->render(Diagnostic{Severity::Error, e.loc(), e.what()});
    return std::nullopt;
  } catch (const ir::IrError& e) {
    // The graph builder refused a node: the model does not fit these input sizes (a kernel larger
    // than the image, sizes an operator cannot take).
    std::cerr << m.diags->render(Diagnostic{Severity::Error,
                                            {},
                                            std::string("the model does not fit the input "
                                                        "shapes given: ") +
                                                e.what()});
    return std::nullopt;
  }
}

ir::Graph optimizeGraph(const ir::Graph& g, std::ostream* verbose) {
  return passes::optimize(g, {cpuEvaluator(), verbose});
}

} // namespace podm::engine
