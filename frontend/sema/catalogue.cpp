// The Catalogue's own queries over its tables (catalogue.h); the tables themselves are filled by
// Catalogue::language() (language.cpp) and by the driver from the stdlib registries.
#include "frontend/sema/catalogue.h"

namespace podm::sema {

std::vector<std::string> Catalogue::allFunctionNames() const {
  std::vector<std::string> names;
  auto collect = [&](const auto& table) {
    for (const auto& [name, spec] : table)
      names.push_back(name);
  };
  collect(proxes);
  collect(operators);
  collect(netTemplates);
  collect(layers);
  collect(paramKinds);
  collect(fstepSolvers);
  collect(monitors);
  collect(scalarFunctions);
  return names;
}

} // namespace podm::sema
