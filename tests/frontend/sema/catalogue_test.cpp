// Sema's operator and prox signatures are copied from the stdlib registries (each operator's one
// declaration), so they cannot drift; this checks the copies are complete and keep the checks the
// declarations make (integer ranges, string choices, kernel or image inputs).
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

TEST_CASE("operator parameters keep their declared checks in sema") {
  const auto& operators = podm::engine::languageCatalogue().operators;
  const auto& conv = operators.at("conv").signature.params;
  CHECK(conv[0].type == podm::sema::ArgType::Kernel);
  CHECK(conv[1].choices == std::vector<std::string>{"periodic", "symmetric", "zero"});
  const auto& levels = operators.at("haar").signature.params[0];
  CHECK(levels.integer);
  CHECK(levels.min == 1);
  CHECK(levels.max == 16);
  CHECK(levels.defaultValue == 1.0);
  CHECK(operators.at("mask").signature.params[0].type == podm::sema::ArgType::Image);
  CHECK(operators.at("dct_filters").signature.params[2].compilerOnly);
  CHECK(operators.at("decimate").shape == podm::sema::ShapeRule::DownByParam);
  CHECK(operators.at("decimate").shapeParam == "s");
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
