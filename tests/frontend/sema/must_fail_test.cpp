// The must-fail corpus: each must_fail/NAME.podm is rejected with exactly the errors listed in
// NAME.expected (`line:col: error: message`, in order), through the same path `podm check` takes.
#include "engine/catalogue.h"
#include "frontend/parse/parse.h"
#include "frontend/sema/sema.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace {

// The errors of one file, each as `line:col: error: message`.
std::vector<std::string> errorsOf(const fs::path& path) {
  std::string text, error;
  REQUIRE(podm::readFile(path.string(), text, error));
  podm::SourceFile file(path.filename().string(), text);
  podm::DiagnosticEngine diags(file);
  if (std::optional<podm::ast::Model> model = podm::parseModel(file, diags))
    CHECK_FALSE(podm::sema::check(*model, podm::engine::languageCatalogue(), diags).has_value());
  std::vector<std::string> lines;
  for (const podm::Diagnostic& d : diags.all()) {
    if (d.severity != podm::Severity::Error)
      continue;
    std::string rendered = diags.render(d);
    std::string header = rendered.substr(0, rendered.find('\n'));
    lines.push_back(header.substr(file.path().size() + 1));
  }
  return lines;
}

} // namespace

TEST_CASE("every must-fail model gives exactly its expected diagnostics") {
  const fs::path dir = fs::path(PODM_SOURCE_DIR) / "tests/frontend/sema/must_fail";
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".podm")
      continue;
    CAPTURE(entry.path().filename().string());
    fs::path expectedPath = entry.path();
    expectedPath.replace_extension(".expected");
    std::string expectedText, error;
    REQUIRE(podm::readFile(expectedPath.string(), expectedText, error));
    std::vector<std::string> expected;
    std::istringstream in(expectedText);
    for (std::string line; std::getline(in, line);)
      if (!line.empty())
        expected.push_back(line);
    REQUIRE_FALSE(expected.empty());
    CHECK(errorsOf(entry.path()) == expected);
    ++count;
  }
  CHECK(count >= 40);
}

TEST_CASE("the examples pass sema") {
  const fs::path dir = fs::path(PODM_SOURCE_DIR) / "examples";
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".podm")
      continue;
    CAPTURE(entry.path().filename().string());
    std::string text, error;
    REQUIRE(podm::readFile(entry.path().string(), text, error));
    podm::SourceFile file(entry.path().filename().string(), text);
    podm::DiagnosticEngine diags(file);
    std::optional<podm::ast::Model> model = podm::parseModel(file, diags);
    REQUIRE(model.has_value());
    CHECK(podm::sema::check(*model, podm::engine::languageCatalogue(), diags).has_value());
    CHECK(diags.errorCount() == 0);
  }
}
