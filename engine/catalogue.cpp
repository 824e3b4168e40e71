// Builds sema's catalogue from the stdlib registries of prox functions and linear operators (see
// catalogue.h): their entries are the one declaration of each, sema reads a copy.
#include "engine/catalogue.h"

#include "stdlib/linop/registry.h"
#include "stdlib/prox/prox.h"

#include <cmath>
#include <mutex>
#include <stdexcept>

namespace podm::engine {
namespace {

sema::FunctionSpec proxSignature(const stdlib::ProxEntry& entry) {
  sema::FunctionSpec spec;
  spec.name = entry.name;
  spec.summary = entry.summary;
  for (const stdlib::ProxParam& p : entry.params) {
    sema::ParamSpec param;
    param.name = p.name;
    param.type = sema::ArgType::Number;
    param.required = p.required;
    param.min = p.min;
    param.max = p.max;
    spec.params.push_back(param);
  }
  // Arguments known at compile time are checked by the stdlib factory itself, so a rule such as
  // "count or threshold, not both" is written once, in the prox.
  spec.validate = [&entry](const std::map<std::string, double>& args) -> std::string {
    try {
      stdlib::makeProx(entry, args);
      return "";
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
  };
  return spec;
}

sema::ParamSpec operatorParam(const stdlib::LinopParam& p) {
  sema::ParamSpec param;
  param.name = p.name;
  param.required = p.required;
  switch (p.kind) {
  case stdlib::LinopParamKind::Number:
    param.type = sema::ArgType::Number;
    param.integer = p.integer;
    param.min = p.min;
    param.max = p.max;
    if (!p.required)
      param.defaultValue = p.defaultValue;
    break;
  case stdlib::LinopParamKind::String:
    param.type = sema::ArgType::String;
    param.choices = p.choices;
    break;
  case stdlib::LinopParamKind::Tensor:
    param.type =
        p.role == stdlib::TensorRole::Kernel ? sema::ArgType::Kernel : sema::ArgType::Image;
    break;
  case stdlib::LinopParamKind::Flag:
    param.type = sema::ArgType::Bool;
    param.compilerOnly = true;
    break;
  }
  return param;
}

sema::ShapeRule shapeRule(stdlib::LinopShape shape) {
  switch (shape) {
  case stdlib::LinopShape::Same:
    return sema::ShapeRule::Same;
  case stdlib::LinopShape::DownByParam:
    return sema::ShapeRule::DownByParam;
  case stdlib::LinopShape::UpByParam:
    return sema::ShapeRule::UpByParam;
  case stdlib::LinopShape::Gradient:
    return sema::ShapeRule::Gradient;
  case stdlib::LinopShape::FilterBank:
    return sema::ShapeRule::FilterBank;
  case stdlib::LinopShape::ByKernel:
    return sema::ShapeRule::ByKernel;
  }
  return sema::ShapeRule::Same;
}

sema::OperatorSpec operatorSignature(const stdlib::LinopEntry& entry) {
  sema::OperatorSpec spec;
  spec.signature.name = entry.name;
  spec.signature.summary = entry.summary;
  for (const stdlib::LinopParam& p : entry.params)
    spec.signature.params.push_back(operatorParam(p));
  spec.shape = shapeRule(entry.shape);
  spec.shapeParam = entry.shapeParam;
  return spec;
}

} // namespace

const sema::Catalogue& languageCatalogue() {
  static std::mutex mutex;
  static sema::Catalogue catalogue = [] {
    sema::Catalogue c = sema::Catalogue::language();
    for (const stdlib::LinopEntry* entry : stdlib::linopRegistry().all())
      c.operators.emplace(entry->name, operatorSignature(*entry));
    return c;
  }();
  // Proxes of plugins loaded since the last call join in (the Python module loads plugins at any
  // time); entries are only ever added, so what a checked model refers to stays where it is.
  std::lock_guard<std::mutex> lock(mutex);
  for (const stdlib::ProxEntry* entry : stdlib::proxRegistry().all())
    if (!catalogue.proxes.count(entry->name))
      catalogue.proxes.emplace(entry->name, proxSignature(*entry));
  return catalogue;
}

} // namespace podm::engine
