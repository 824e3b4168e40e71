// Loading a model through the front end and sema (see model_loader.h).
#include "engine/model_loader.h"

#include "engine/catalogue.h"
#include "frontend/parse/parse.h"
#include "stdlib/prox/plugin.h"

#include <cstdlib>
#include <iostream>

namespace podm::engine {

bool loadPlugins(const std::string& verb, const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    std::string error;
    if (!stdlib::loadProxPlugin(path, stdlib::proxRegistry(), error)) {
      std::cerr << "podm " << verb << ": error: " << error << "\n";
      return false;
    }
  }
  return true;
}

namespace {

// Replaces the values of the overridden consts; false (message printed) when one names no const.
bool applyOverrides(ast::Model& model, const std::string& path,
                    const std::vector<ConstOverride>& overrides, std::ostream& out) {
  for (const ConstOverride& o : overrides) {
    ast::Decl* target = nullptr;
    std::string consts;
    for (ast::Decl& d : model.decls)
      if (d.kind == ast::DeclKind::Const) {
        consts += (consts.empty() ? "" : ", ") + d.name;
        if (d.name == o.name)
          target = &d;
      }
    if (!target) {
      // A usage error of the command line that asked for the override.
      out << "podm: error: --set " << o.name << "=" << o.value << ": " << path << " has no const '"
          << o.name << "'" << (consts.empty() ? "" : " (its consts: " + consts + ")") << "\n"
          << "try 'podm --help'\n";
      return false;
    }
    // The new value stands where the old one was written, so diagnostics point at the const.
    auto value = std::make_unique<ast::Expr>(ast::ExprKind::Number, target->value->loc);
    value->number = std::strtod(o.value.c_str(), nullptr); // checked when --set was taken
    value->text = o.value;
    target->value = std::move(value);
  }
  return true;
}

} // namespace

std::optional<LoadedModel> loadModel(const std::string& path, Stop stop,
                                     const std::vector<ConstOverride>& overrides) {
  std::string text, error;
  if (!readFile(path, text, error)) {
    std::cerr << "podm: error: " << error << "\n";
    return std::nullopt;
  }
  return loadModelText(path, std::move(text), stop, overrides, std::cerr);
}

std::optional<LoadedModel> loadModelText(const std::string& name, std::string text, Stop stop,
                                         const std::vector<ConstOverride>& overrides,
                                         std::ostream& out) {
  LoadedModel m;
  m.file = std::make_unique<SourceFile>(name, std::move(text));
  m.diags = std::make_unique<DiagnosticEngine>(*m.file);
  if (std::optional<ast::Model> parsed = parseModel(*m.file, *m.diags))
    m.ast = std::make_unique<ast::Model>(std::move(*parsed));
  if (m.ast && !applyOverrides(*m.ast, name, overrides, out)) {
    m.diags->print(out);
    return std::nullopt;
  }
  if (m.ast && stop == Stop::AfterSema)
    m.checked = sema::check(*m.ast, languageCatalogue(), *m.diags);
  m.diags->print(out);
  if (m.ast && !m.checked && stop == Stop::AfterSema)
    for (const ConstOverride& o : overrides)
      out << name << ": note: const '" << o.name << "' is " << o.value << " from --set " << o.name
          << "=" << o.value << "\n";
  return m;
}

} // namespace podm::engine
