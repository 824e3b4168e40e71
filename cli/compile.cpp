// `podm compile FILE --emit=STAGE`: run the pipeline up to STAGE and print it.
#include "cli/driver.h"
#include "cli/verbs.h"

#include <iostream>

namespace podm::cli {

int runCompile(const std::vector<std::string>& given) {
  std::vector<std::string> args = given, plugins;
  if (!takePluginOptions("compile", args, plugins))
    return kUsageError;
  std::string file, emit;
  for (const std::string& a : args) {
    if (a.rfind("--emit=", 0) == 0)
      emit = a.substr(7);
    else if (a.rfind("-", 0) == 0)
      return usageError("compile", "unknown option '" + a + "'");
    else if (file.empty())
      file = a;
    else
      return usageError("compile", "more than one model file given");
  }
  if (file.empty())
    return usageError("compile", "no model file given");
  if (emit.empty())
    return usageError("compile", "say which stage to emit with --emit=ast");
  if (emit != "ast")
    return usageError("compile", "--emit=" + emit +
                                     " is not available: this build emits 'ast' only (the graph "
                                     "stages arrive with the lowering)");
  if (!loadPlugins("compile", plugins))
    return kUsageError;
  std::optional<LoadedModel> m = loadModel(file, Stop::AfterSema);
  if (!m)
    return kUsageError;
  if (!m->checked)
    return kModelError;
  std::cout << ast::dump(*m->ast);
  return kOk;
}

} // namespace podm::cli
