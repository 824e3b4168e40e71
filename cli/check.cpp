// `podm check FILE...`: parse and check model files; print a one-paragraph summary of each.
#include "cli/options.h"
#include "cli/verbs.h"

#include <iostream>

namespace podm::cli {

int runCheck(const std::vector<std::string>& given) {
  std::vector<std::string> args = given, plugins, files;
  if (!takePluginOptions("check", args, plugins))
    return kUsageError;
  for (const std::string& a : args) {
    if (a.rfind("-", 0) == 0)
      return usageError("check", "unknown option '" + a + "'");
    files.push_back(a);
  }
  if (files.empty())
    return usageError("check", "no model file given");
  if (!engine::loadPlugins("check", plugins))
    return kUsageError;
  int status = kOk;
  for (const std::string& path : files) {
    std::optional<engine::LoadedModel> m = engine::loadModel(path, engine::Stop::AfterSema);
    if (!m)
      return kUsageError;
    if (!m->checked) {
      status = kModelError;
      continue;
    }
    std::cout << path << ": ok\n" << sema::summary(*m->checked);
  }
  return status;
}

} // namespace podm::cli
