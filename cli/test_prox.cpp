// `podm test-prox PLUGIN NAME [--arg NAME=VALUE ...]`: the generic prox property checks (the same
// ones the test suite runs on every built-in prox) on a prox from a plugin. PLUGIN may be
// `builtin` to check a standard prox.
#include "cli/driver.h"
#include "cli/verbs.h"
#include "stdlib/prox/property_check.h"
#include "stdlib/prox/prox.h"

#include <cstdlib>
#include <iostream>

namespace podm::cli {

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
  if (positional.size() != 2)
    return usageError("test-prox", "expected PLUGIN and NAME");
  if (positional[0] != "builtin" && !loadPlugins("test-prox", {positional[0]}))
    return kUsageError;
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
