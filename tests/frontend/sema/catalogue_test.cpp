// Sema's operator signatures are language syntax, the stdlib linop registry is the
// implementation: they must name the same operators with the same parameters. Prox signatures
// are copied from the prox registry, so they cannot drift; this checks the copy is complete.
#include "engine/catalogue.h"
#include "stdlib/linop/registry.h"
#include "stdlib/prox/prox.h"

#include <doctest/doctest.h>
#include <set>

TEST_CASE("sema knows exactly the stdlib's linear operators, with the same parameters") {
  const auto& operators = podm::engine::languageCatalogue().operators;
  std::set<std::string> stdlibNames;
  for (const podm::stdlib::LinopEntry* entry : podm::stdlib::linopRegistry().all()) {
    CAPTURE(entry->name);
    stdlibNames.insert(entry->name);
    auto it = operators.find(entry->name);
    REQUIRE_MESSAGE(it != operators.end(), "stdlib operator missing from sema's catalogue");
    std::vector<std::string> semaParams, stdlibParams;
    for (const auto& p : it->second.signature.params)
      if (!p.compilerOnly)
        semaParams.push_back(p.name);
    for (const auto& p : entry->params)
      stdlibParams.push_back(p.name);
    CHECK(semaParams == stdlibParams);
  }
  for (const auto& [name, spec] : operators) {
    CAPTURE(name);
    CHECK_MESSAGE(stdlibNames.count(name), "sema operator without a stdlib implementation");
  }
}

TEST_CASE("every registered prox is in the catalogue with its parameters") {
  const auto& proxes = podm::engine::languageCatalogue().proxes;
  for (const podm::stdlib::ProxEntry* entry : podm::stdlib::proxRegistry().all()) {
    CAPTURE(entry->name);
    auto it = proxes.find(entry->name);
    REQUIRE(it != proxes.end());
    REQUIRE(it->second.params.size() == entry->params.size());
    for (size_t i = 0; i < entry->params.size(); ++i)
      CHECK(it->second.params[i].name == entry->params[i].name);
  }
}
