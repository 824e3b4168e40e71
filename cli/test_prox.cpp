// `podm test-prox PLUGIN NAME [--arg NAME=VALUE ...]`: the generic prox property checks (the same
// ones the test suite runs on every built-in prox) on a prox from a plugin. PLUGIN may be
// `builtin` to check a standard prox. Without NAME it lists what PLUGIN offers, so that a user
// need not read the source to find a prox's name and arguments.
#include "cli/options.h"
#include "cli/verbs.h"
#include "stdlib/prox/property_check.h"
#include "stdlib/prox/prox.h"
#include "stdlib/prox/prox_util.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <set>

namespace podm::cli {
namespace {

std::string traitList(const stdlib::ProxTraits& t) {
  std::string list;
  for (const auto& [on, name] : {std::pair{t.convex, "convex"},
                                 {t.separable, "separable"},
                                 {t.indicator, "indicator"},
                                 {t.iterative, "iterative"}})
    if (on)
      list += (list.empty() ? "" : ", ") + std::string(name);
  return list;
}

// One block per prox: its name and summary, then one line per argument with its default (or
// "required"), its range and what it means.
void listProxes(const std::vector<const stdlib::ProxEntry*>& entries, const std::string& plugin,
                std::ostream& out) {
  using stdlib::detail::formatNumber;
  out << (plugin == "builtin" ? std::string("built-in prox functions")
                              : "prox functions of " + plugin)
      << " (check one with: podm test-prox " << plugin << " NAME [--arg NAME=VALUE]...)\n";
  for (const stdlib::ProxEntry* e : entries) {
    const std::string traits = traitList(e->traits);
    out << "\n  " << e->name << (traits.empty() ? "" : " (" + traits + ")") << "\n";
    if (!e->summary.empty())
      out << "    " << e->summary << "\n";
    if (e->params.empty())
      out << "    no arguments\n";
    for (const stdlib::ProxParam& p : e->params) {
      const std::string value = p.required ? "required"
                                : std::isnan(p.defaultValue)
                                    ? "optional, no default"
                                    : "default " + formatNumber(p.defaultValue);
      const bool bounded = std::isfinite(p.min) || std::isfinite(p.max);
      out << "    " << p.name << ": " << value
          << (bounded ? ", in [" + formatNumber(p.min) + ", " + formatNumber(p.max) + "]" : "")
          << (p.doc.empty() ? "" : "; " + p.doc) << "\n";
    }
  }
}

std::set<std::string> registeredNames() {
  std::set<std::string> names;
  for (const stdlib::ProxEntry* e : stdlib::proxRegistry().all())
    names.insert(e->name);
  return names;
}

} // namespace

int runTestProx(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  stdlib::ProxArgs proxArgs;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--arg" || a.rfind("--arg=", 0) == 0) {
      std::string spec = a == "--arg" ? (i + 1 < args.size() ? args[++i] : "") : a.substr(6);
      size_t eq = spec.find('=');
      char* end = nullptr;
      double value = eq == std::string::npos ? 0 : std::strtod(spec.c_str() + eq + 1, &end);
      if (eq == std::string::npos || eq == 0 || end == spec.c_str() + eq + 1 || *end != '\0')
        return usageError("test-prox", "--arg needs NAME=NUMBER, got '" + spec + "'");
      proxArgs[spec.substr(0, eq)] = value;
    } else if (a.rfind("-", 0) == 0) {
      return usageError("test-prox", "unknown option '" + a + "'");
    } else {
      positional.push_back(a);
    }
  }
  if (positional.empty() || positional.size() > 2)
    return usageError("test-prox", "expected PLUGIN (or 'builtin') and optionally NAME");
  const std::set<std::string> builtin = registeredNames();
  if (positional[0] != "builtin" && !engine::loadPlugins("test-prox", {positional[0]}))
    return kUsageError;
  if (positional.size() == 1) {
    if (!proxArgs.empty())
      return usageError("test-prox", "--arg needs the NAME of the prox it is for");
    std::vector<const stdlib::ProxEntry*> entries = stdlib::proxRegistry().all();
    if (positional[0] != "builtin") // only what the plugin added
      std::erase_if(entries, [&](const stdlib::ProxEntry* e) { return builtin.count(e->name); });
    listProxes(entries, positional[0], std::cout);
    return kOk;
  }
  const stdlib::ProxEntry* entry = stdlib::proxRegistry().find(positional[1]);
  if (!entry) {
    std::string known;
    for (const stdlib::ProxEntry* e : stdlib::proxRegistry().all())
      known += (known.empty() ? "" : ", ") + e->name;
    std::cerr << "podm test-prox: error: no prox named '" << positional[1] << "'; known: " << known
              << "\n";
    return kUsageError;
  }
  std::string problem = stdlib::proxArgumentError(*entry, proxArgs);
  if (!problem.empty()) {
    std::cerr << "podm test-prox: error: " << problem << "\n";
    return kUsageError;
  }
  return stdlib::runProxPropertyTests(*entry, proxArgs, std::cout) == 0 ? kOk : kModelError;
}

} // namespace podm::cli
