// The pieces `podm run` and `podm eval` share (run_support.h).
#include "cli/run_support.h"

#include "compiler/ast/ast.h"

#include <algorithm>

namespace podm::cli {

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

std::set<std::string> nonImageInputs(const ast::Model& model) {
  std::set<std::string> names;
  for (const ast::Decl& d : model.decls)
    if (d.kind == ast::DeclKind::Input && d.type.name != "image")
      names.insert(d.name);
  return names;
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
      error = "input '" + name + "' (" + g.type(v).str() + ") is not given; add --input " + name +
              "=FILE";
      return std::nullopt;
    }
  }
  return bound;
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

int64_t acceptedStages(const RunResult& r) {
  const std::vector<float>* branch = r.monitors.find("branch");
  return branch ? std::count(branch->begin(), branch->end(), 1.f) : -1;
}

} // namespace podm::cli
