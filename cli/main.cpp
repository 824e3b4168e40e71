// The podm command: a table of verbs, global --help and --version.
#include <iostream>
#include <string>
#include <vector>

#include "cli/verbs.h"

#ifndef PODM_VERSION
#define PODM_VERSION "unknown"
#endif

namespace podm::cli {

const std::vector<Verb>& verbs() {
  static const std::vector<Verb> table = {
      {"check", "parse and check model files",
       "usage: podm check [--plugin LIB.so]... FILE...\n\n"
       "Parses and checks each model file and prints a summary of the model it defines.\n"
       "Errors are printed as file:line:col: error: message, with the source line and a caret.\n\n"
       "  --plugin LIB  load user prox functions from a shared library first\n\n"
       "exit status: 0 all files are valid, 1 a file has errors, 2 usage error\n",
       runCheck},
      {"compile", "compile a model file and print a stage of the pipeline",
       "usage: podm compile [--plugin LIB.so]... FILE --emit=ast\n\n"
       "  --emit=ast    print the abstract syntax tree, with source locations\n"
       "  --plugin LIB  load user prox functions from a shared library first\n\n"
       "exit status: 0 success, 1 the model has errors, 2 usage error\n",
       runCompile},
      {"test-prox", "run the prox property tests on a (plugin) prox function",
       "usage: podm test-prox PLUGIN NAME [--arg NAME=VALUE]...\n\n"
       "Loads the shared library PLUGIN (or 'builtin' for the standard library) and runs the\n"
       "generic property checks on the prox NAME: prox optimality, agreement with a brute-force\n"
       "1-D minimisation for separable ones, firm non-expansiveness for convex ones.\n\n"
       "  --arg NAME=VALUE  a parameter of the prox (required ones must be given)\n\n"
       "exit status: 0 all checks pass, 1 a check fails, 2 usage error or unloadable plugin\n",
       runTestProx},
  };
  return table;
}

int usageError(const std::string& verb, const std::string& message) {
  std::cerr << "podm" << (verb.empty() ? "" : " " + verb) << ": error: " << message << "\n"
            << "try 'podm " << (verb.empty() ? "" : verb + " ") << "--help'\n";
  return kUsageError;
}

namespace {

void printUsage(std::ostream& out) {
  out << "usage: podm VERB [options] [args]\n\n"
         "podm compiles optimization-derived deep models (PODM) written in the podm model\n"
         "language and runs them.\n\nverbs:\n";
  for (const Verb& v : verbs())
    out << "  " << v.name << std::string(10 - std::string(v.name).size(), ' ') << v.summary
        << "\n";
  out << "\noptions:\n  --help       show this help, or a verb's help with 'podm VERB --help'\n"
         "  --version    print the version\n";
}

} // namespace
} // namespace podm::cli

int main(int argc, char** argv) {
  using namespace podm::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    printUsage(std::cerr);
    return kUsageError;
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    printUsage(std::cout);
    return kOk;
  }
  if (first == "--version") {
    std::cout << "podm " << PODM_VERSION << "\n";
    return kOk;
  }
  for (const Verb& v : verbs()) {
    if (first != v.name)
      continue;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    for (const std::string& a : rest) {
      if (a == "--help" || a == "-h") {
        std::cout << v.help;
        return kOk;
      }
    }
    try {
      return v.run(rest);
    } catch (const std::exception& e) {
      std::cerr << "podm " << v.name << ": internal error: " << e.what() << "\n";
      return 3;
    }
  }
  return usageError("", "unknown verb '" + first + "'");
}
