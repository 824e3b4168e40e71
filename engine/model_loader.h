// Loading a model: read the file, apply --set overrides, run the front end and sema, print the
// diagnostics. Shared by the CLI verbs, bench and the Python module.
#pragma once

#include "frontend/ast/ast.h"
#include "frontend/ast/diagnostics.h"
#include "frontend/sema/sema.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace podm::engine {

struct LoadedModel {
  std::unique_ptr<SourceFile> file;
  std::unique_ptr<DiagnosticEngine> diags;
  std::unique_ptr<ast::Model> ast; // on the heap: `checked` points into it
  std::optional<sema::CheckedModel> checked;
};

enum class Stop { AfterParse, AfterSema };

// Loads each prox plugin into the stdlib registry. Prints
// `podm VERB: error: ...` and returns false when one cannot be loaded.
bool loadPlugins(const std::string& verb, const std::vector<std::string>& paths);

// `--set NAME=VALUE`: a const of the model given another value on the command line.
struct ConstOverride {
  std::string name, value; // value: a number, as written
};

// Returns nullopt when the file cannot be read, or an override names no const of the model
// (message printed; a usage error). Otherwise the diagnostics have been printed to stderr and
// `ast`/`checked` are set when those stages passed. Overrides replace the consts' values before
// sema, so a value is checked where the const is used, as if it were written in the file; when
// sema fails, a note says which consts came from --set.
std::optional<LoadedModel> loadModel(const std::string& path, Stop stop,
                                     const std::vector<ConstOverride>& overrides = {});

// The same for model text held in memory (the Python module's `podm.compile(source=...)`);
// `name` stands for the file in diagnostics. Diagnostics and messages go to `out`; the structured
// diagnostics stay in the result's `diags`.
std::optional<LoadedModel> loadModelText(const std::string& name, std::string text, Stop stop,
                                         const std::vector<ConstOverride>& overrides,
                                         std::ostream& out);

} // namespace podm::engine
