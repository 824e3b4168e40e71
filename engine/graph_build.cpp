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
    in.files[name] = path;
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::optional<lower::LowerResult> lowerLoaded(const LoadedModel& m, const GraphInputs& in,
                                              Diagnostic* failure) {
  lower::LowerOptions options;
  options.shapes = in.shapes;
  Diagnostic d{Severity::Error, {}, ""};
  try {
    return lower::lowerModel(*m.ast, *m.checked, options);
  } catch (const lower::LowerError& e) {
    d.loc = e.loc();
    d.message = e.what();
  } catch (const ir::IrError& e) {
    // The graph builder refused a node: the model does not fit these input sizes (a kernel larger
    // than the image, sizes an operator cannot take).
    d.message = std::string("the model does not fit the input shapes given: ") + e.what();
  }
  if (failure)
    *failure = d;
  else
    std::cerr << m.diags->render(d);
  return std::nullopt;
}

bool completeModelInputs(const ast::Model& model, GraphInputs& inputs, const Tensor* ref) {
  bool refBound = false;
  for (const ast::Decl& d : model.decls) {
    if (d.kind != ast::DeclKind::Input)
      continue;
    if (ref && d.name == "ref" && !inputs.tensors.count("ref")) {
      inputs.tensors["ref"] = *ref;
      inputs.shapes["ref"] = {ref->shape().h, ref->shape().w};
      refBound = true;
    }
    if (d.type.name == "scalar" && d.value && d.value->kind == ast::ExprKind::Number &&
        !inputs.scalars.count(d.name))
      inputs.scalars[d.name] = d.value->number;
  }
  return refBound;
}

std::optional<std::map<std::string, Tensor>>
bindGraphInputs(const ir::Graph& g, GraphInputs& inputs, const Tensor* ref, std::string& error) {
  std::map<std::string, Tensor> bound;
  for (ir::ValueId v : g.inputs()) {
    const std::string& name = g.node(v).attrs.getString("name");
    if (name == "ref" && ref && !inputs.tensors.count(name))
      inputs.tensors[name] = *ref; // a compiled graph's `ref` input
    if (auto t = inputs.tensors.find(name); t != inputs.tensors.end()) {
      bound[name] = t->second;
    } else if (auto s = inputs.scalars.find(name); s != inputs.scalars.end()) {
      Tensor t1(Shape{1, 1, 1, 1});
      t1.data()[0] = static_cast<float>(s->second);
      bound[name] = t1;
    } else {
      error = "input '" + name + "' (" + g.type(v).str() + ") is not given";
      return std::nullopt;
    }
  }
  return bound;
}

std::set<std::string> nonImageInputs(const ast::Model& model) {
  std::set<std::string> names;
  for (const ast::Decl& d : model.decls)
    if (d.kind == ast::DeclKind::Input && d.type.name != "image")
      names.insert(d.name);
  return names;
}

int qualityShave(const ir::Graph& g, const Shape& result,
                 const std::map<std::string, Tensor>& inputs,
                 const std::set<std::string>& notImages, int requested) {
  if (requested >= 0)
    return requested;
  for (const ir::Node& n : g.nodes())
    if (n.op == ir::Op::Ssim)
      return static_cast<int>(n.attrs.getInt("shave"));
  for (const auto& [name, t] : inputs) {
    const Shape& o = t.shape();
    if (name == "ref" || notImages.count(name) || o.h < 1 || o.w < 1 || result.h % o.h != 0)
      continue;
    const int64_t s = result.h / o.h;
    if (s > 1 && s * o.w == result.w)
      return static_cast<int>(s);
  }
  return 0;
}

ir::Graph optimizeGraph(const ir::Graph& g, std::ostream* verbose) {
  return passes::optimize(g, {cpuEvaluator(), verbose});
}

} // namespace podm::engine
