// --input/--shape parsing, lowering with diagnostics, and the optimizer call (graph_build.h).
#include "cli/graph_build.h"

#include "cli/cpu_evaluator.h"
#include "cli/verbs.h"
#include "compiler/ir/errors.h"
#include "compiler/passes/passes.h"
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"

#include <charconv>
#include <iostream>

namespace podm::cli {

namespace {

bool parseNumber(const std::string& s, double& out) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end;
}

bool parseShape(const std::string& s, lower::InputShape& out) {
  size_t x = s.find('x');
  if (x == std::string::npos)
    return false;
  double h, w;
  if (!parseNumber(s.substr(0, x), h) || !parseNumber(s.substr(x + 1), w) || h < 1 || w < 1 ||
      h > (1 << 24) || w > (1 << 24) || h != static_cast<int64_t>(h) ||
      w != static_cast<int64_t>(w))
    return false;
  out = {static_cast<int64_t>(h), static_cast<int64_t>(w)};
  return true;
}

} // namespace

bool takeInputOptions(const std::string& verb, std::vector<std::string>& args, GraphInputs& in,
                      int& status) {
  std::vector<std::string> rest;
  auto fail = [&](int code, const std::string& message) {
    status = code;
    if (code == kUsageError)
      usageError(verb, message);
    else
      std::cerr << "podm " << verb << ": error: " << message << "\n";
    return false;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    std::string opt = args[i], value;
    bool isInput = opt == "--input" || opt.rfind("--input=", 0) == 0;
    bool isShape = opt == "--shape" || opt.rfind("--shape=", 0) == 0;
    if (!isInput && !isShape) {
      rest.push_back(opt);
      continue;
    }
    size_t eq = opt.find('=');
    if (eq != std::string::npos) {
      value = opt.substr(eq + 1);
      opt = opt.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return fail(kUsageError, opt + " needs NAME=" + (isInput ? "FILE" : "HxW"));
    }
    size_t sep = value.find('=');
    if (sep == std::string::npos || sep == 0 || sep + 1 == value.size())
      return fail(kUsageError, opt + " " + value + ": expected NAME=" + (isInput ? "FILE" : "HxW"));
    std::string name = value.substr(0, sep), what = value.substr(sep + 1);
    if (isShape) {
      lower::InputShape s;
      if (!parseShape(what, s))
        return fail(kUsageError, "--shape " + value + ": expected NAME=HxW with whole numbers");
      in.shapes[name] = s;
      continue;
    }
    double number;
    if (parseNumber(what, number)) {
      in.scalars[name] = number;
      continue;
    }
    try {
      // Kernels are commonly kept as text (one row per line), as the benchmark sets ship them.
      bool text = what.size() > 4 && what.compare(what.size() - 4, 4, ".txt") == 0;
      Tensor t = text ? io::readKernel(what) : io::readImage(what);
      if (t.shape().c == 3) {
        // Colour images are restored on their luma, as the super-resolution literature does.
        io::LumaSplit split = io::splitLuma(t);
        t = split.y;
        in.color.emplace_back(name, std::move(split));
      } else if (t.shape().c != 1) {
        return fail(kModelError, "--input " + value + ": the image has " +
                                     std::to_string(t.shape().c) +
                                     " channels; models take gray or RGB images (RGB as its Y)");
      }
      in.shapes[name] = {t.shape().h, t.shape().w};
      in.tensors[name] = std::move(t);
    } catch (const std::exception& e) {
      return fail(kModelError, e.what());
    }
  }
  args = std::move(rest);
  return true;
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

} // namespace podm::cli
