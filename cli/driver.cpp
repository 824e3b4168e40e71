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
