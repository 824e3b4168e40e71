// The podm command's verbs, listed once in a table (main.cpp) with their help text. Each verb is
// one file exposing one function. Exit codes: 0 success, 1 errors in a model, 2 usage errors.
#pragma once

#include <string>
#include <vector>

namespace podm::cli {

enum ExitCode { kOk = 0, kModelError = 1, kUsageError = 2 };

struct Verb {
  const char* name;
  const char* summary;
  const char* help; // full text for `podm VERB --help`
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<Verb>& verbs();

int runCheck(const std::vector<std::string>& args);
int runCompile(const std::vector<std::string>& args);
int runDegrade(const std::vector<std::string>& args); // cli/degrade.cpp
int runEval(const std::vector<std::string>& args);    // cli/eval.cpp
int runPlot(const std::vector<std::string>& args);    // cli/plot.cpp
int runRun(const std::vector<std::string>& args);     // cli/run.cpp
int runTestProx(const std::vector<std::string>& args);
int runTrain(const std::vector<std::string>& args);   // cli/train.cpp
int runWeights(const std::vector<std::string>& args); // cli/weights.cpp

// `podm: error: ...` on stderr, returning kUsageError.
int usageError(const std::string& verb, const std::string& message);

} // namespace podm::cli
