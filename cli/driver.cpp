// Loading a model through the front end and sema (see driver.h).
#include "cli/driver.h"

#include "cli/catalogue.h"
#include "cli/verbs.h"
#include "compiler/frontend/parse.h"
#include "stdlib/prox/plugin.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>

namespace podm::cli {

int usageError(const std::string& verb, const std::string& message) {
  std::cerr << "podm" << (verb.empty() ? "" : " " + verb) << ": error: " << message << "\n"
            << "try 'podm " << (verb.empty() ? "" : verb + " ") << "--help'\n";
  return kUsageError;
}

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

bool takePluginOptions(const std::string& verb, std::vector<std::string>& args,
                       std::vector<std::string>& plugins) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--plugin") {
      if (i + 1 >= args.size()) {
        std::cerr << "podm " << verb << ": error: --plugin needs the path of a shared library\n";
        return false;
      }
      plugins.push_back(args[++i]);
    } else if (args[i].rfind("--plugin=", 0) == 0) {
      plugins.push_back(args[i].substr(9));
    } else {
      rest.push_back(args[i]);
    }
  }
  args = std::move(rest);
  return true;
}

bool takeSetOptions(const std::string& verb, std::vector<std::string>& args,
                    std::vector<ConstOverride>& overrides) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string spec;
    if (args[i] == "--set") {
      if (i + 1 >= args.size()) {
        usageError(verb, "--set needs NAME=VALUE");
        return false;
      }
      spec = args[++i];
    } else if (args[i].rfind("--set=", 0) == 0) {
      spec = args[i].substr(6);
    } else {
      rest.push_back(args[i]);
      continue;
    }
    const size_t eq = spec.find('=');
    double number = 0;
    if (eq == std::string::npos || eq == 0 || !parseDouble(spec.substr(eq + 1), number)) {
      usageError(verb, "--set " + spec + ": expected NAME=NUMBER (a const of the model)");
      return false;
    }
    overrides.push_back({spec.substr(0, eq), spec.substr(eq + 1)});
  }
  args = std::move(rest);
  return true;
}

namespace {

// Replaces the values of the overridden consts; false (message printed) when one names no const.
bool applyOverrides(ast::Model& model, const std::string& path,
                    const std::vector<ConstOverride>& overrides) {
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
      usageError("", "--set " + o.name + "=" + o.value + ": " + path + " has no const '" + o.name +
                         "'" + (consts.empty() ? "" : " (its consts: " + consts + ")"));
      return false;
    }
    // The new value stands where the old one was written, so diagnostics point at the const.
    auto value = std::make_unique<ast::Expr>(ast::ExprKind::Number, target->value->loc);
    parseDouble(o.value, value->number);
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
  LoadedModel m;
  m.file = std::make_unique<SourceFile>(path, std::move(text));
  m.diags = std::make_unique<DiagnosticEngine>(*m.file);
  if (std::optional<ast::Model> parsed = parseModel(*m.file, *m.diags))
    m.ast = std::make_unique<ast::Model>(std::move(*parsed));
  if (m.ast && !applyOverrides(*m.ast, path, overrides)) {
    m.diags->print(std::cerr);
    return std::nullopt;
  }
  if (m.ast && stop == Stop::AfterSema)
    m.checked = sema::check(*m.ast, languageCatalogue(), *m.diags);
  m.diags->print(std::cerr);
  if (m.ast && !m.checked && stop == Stop::AfterSema)
    for (const ConstOverride& o : overrides)
      std::cerr << path << ": note: const '" << o.name << "' is " << o.value << " from --set "
                << o.name << "=" << o.value << "\n";
  return m;
}

bool parseInt(const std::string& s, long long lo, long long hi, long long& out) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || errno || end != s.c_str() + s.size() || v < lo || v > hi)
    return false;
  out = v;
  return true;
}

bool parseDouble(const std::string& s, double& out) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
    return false;
  out = v;
  return true;
}

} // namespace podm::cli
