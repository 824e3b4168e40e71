// Golden `--emit=ast` dumps: every example model parses, and its AST dump is exactly the one
// committed in golden/. Set PODM_UPDATE_GOLDEN=1 to rewrite them after an intended change.
#include "frontend/parse/parse.h"

#include <algorithm>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

TEST_CASE("every example has the committed AST dump") {
  const fs::path examples = fs::path(PODM_SOURCE_DIR) / "examples";
  const fs::path golden = fs::path(PODM_SOURCE_DIR) / "tests/frontend/parse/golden";
  bool update = std::getenv("PODM_UPDATE_GOLDEN") != nullptr;
  size_t checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(examples)) {
    if (entry.path().extension() != ".podm")
      continue;
    CAPTURE(entry.path().string());
    std::string text, error;
    REQUIRE(podm::readFile(entry.path().string(), text, error));
    podm::SourceFile file(entry.path().filename().string(), text);
    podm::DiagnosticEngine diags(file);
    std::optional<podm::ast::Model> model = podm::parseModel(file, diags);
    REQUIRE(model.has_value());
    CHECK(diags.all().empty());
    std::string dump = podm::ast::dump(*model);
    // examples/paper/sr_ircnn.podm has golden/paper_sr_ircnn.ast.
    std::string name = fs::relative(entry.path(), examples).replace_extension(".ast").string();
    std::replace(name.begin(), name.end(), '/', '_');
    fs::path expected = golden / name;
    if (update) {
      std::ofstream(expected) << dump;
    }
    std::string want;
    REQUIRE_MESSAGE(podm::readFile(expected.string(), want, error),
                    "missing golden file; run with PODM_UPDATE_GOLDEN=1");
    CHECK(dump == want);
    ++checked;
  }
  CHECK(checked >= 5);
}
