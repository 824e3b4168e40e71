// Builds sema's catalogue from the stdlib prox registry (see catalogue.h).
#include "engine/catalogue.h"

#include "stdlib/prox/prox.h"

#include <cmath>
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

} // namespace

const sema::Catalogue& languageCatalogue() {
  static const sema::Catalogue catalogue = [] {
    sema::Catalogue c = sema::Catalogue::language();
    for (const stdlib::ProxEntry* entry : stdlib::proxRegistry().all())
      c.proxes.emplace(entry->name, proxSignature(*entry));
    return c;
  }();
  return catalogue;
}

} // namespace podm::engine
