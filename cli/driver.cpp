// Loading a model through the front end and sema (see driver.h).
#include "cli/driver.h"

#include <iostream>

#include "cli/catalogue.h"
#include "compiler/frontend/parse.h"

namespace podm::cli {

std::optional<LoadedModel> loadModel(const std::string& path, Stop stop) {
  std::string text, error;
  if (!readFile(path, text, error)) {
    std::cerr << "podm: error: " << error << "\n";
    return std::nullopt;
  }
  LoadedModel m;
  m.file = std::make_unique<SourceFile>(path, std::move(text));
  m.diags = std::make_unique<DiagnosticEngine>(*m.file);
  if (std::optional<ast::Model> parsed = parseModel(*m.file, *m.diags))
    m.ast = std::make_unique<ast::Model>(std::move(*parsed));
  if (m.ast && stop == Stop::AfterSema)
    m.checked = sema::check(*m.ast, languageCatalogue(), *m.diags);
  m.diags->print(std::cerr);
  return m;
}

} // namespace podm::cli
