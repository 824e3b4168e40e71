// `podm check FILE...`: parse and check model files; print a one-paragraph summary of each.
#include <iostream>

#include "cli/driver.h"
#include "cli/verbs.h"

namespace podm::cli {

int runCheck(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  for (const std::string& a : args) {
    if (a.rfind("-", 0) == 0)
      return usageError("check", "unknown option '" + a + "'");
    files.push_back(a);
  }
  if (files.empty())
    return usageError("check", "no model file given");
  int status = kOk;
  for (const std::string& path : files) {
    std::optional<LoadedModel> m = loadModel(path, Stop::AfterSema);
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
