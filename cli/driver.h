// Shared by the verbs: read a model file, run the front end and sema, print diagnostics.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/ast/diagnostics.h"
#include "compiler/sema/sema.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace podm::cli {

struct LoadedModel {
  std::unique_ptr<SourceFile> file;
  std::unique_ptr<DiagnosticEngine> diags;
  std::unique_ptr<ast::Model> ast; // on the heap: `checked` points into it
  std::optional<sema::CheckedModel> checked;
};

enum class Stop { AfterParse, AfterSema };

// Loads each prox plugin into the stdlib registry (before the catalogue is first built). Prints
// `podm VERB: error: ...` and returns false when one cannot be loaded.
bool loadPlugins(const std::string& verb, const std::vector<std::string>& paths);

// Takes `--plugin PATH` / `--plugin=PATH` out of `args`; returns false (after a usage message)
// when --plugin has no path.
bool takePluginOptions(const std::string& verb, std::vector<std::string>& args,
                       std::vector<std::string>& plugins);

// `--set NAME=VALUE`: a const of the model given another value on the command line.
struct ConstOverride {
  std::string name, value; // value: a number, as written
};

// Takes `--set NAME=VALUE` / `--set=NAME=VALUE` out of `args`; returns false (after a usage
// message) when one is malformed or VALUE is not a number.
bool takeSetOptions(const std::string& verb, std::vector<std::string>& args,
                    std::vector<ConstOverride>& overrides);

// Returns nullopt when the file cannot be read, or an override names no const of the model
// (message printed; a usage error). Otherwise the diagnostics have been printed to stderr and
// `ast`/`checked` are set when those stages passed. Overrides replace the consts' values before
// sema, so a value is checked where the const is used, as if it were written in the file; when
// sema fails, a note says which consts came from --set.
std::optional<LoadedModel> loadModel(const std::string& path, Stop stop,
                                     const std::vector<ConstOverride>& overrides = {});

// Flag values: the whole string must be a number (an integer within [lo, hi]; a finite double).
bool parseInt(const std::string& s, long long lo, long long hi, long long& out);
bool parseDouble(const std::string& s, double& out);

} // namespace podm::cli
