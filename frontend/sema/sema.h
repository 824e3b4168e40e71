// Semantic checking: names, kinds, arities and shapes as far as the model file determines them.
// Reports every error it can (continuing past the first) and, for a valid model, returns what the
// later stages need to know about it.
#pragma once

#include "frontend/ast/ast.h"
#include "frontend/ast/diagnostics.h"
#include "frontend/sema/catalogue.h"
#include "frontend/sema/types.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace podm::sema {

struct CheckedModel {
  const ast::Model* model = nullptr;
  std::string variable;
  ImageShape variableShape;
  std::string solver;
  int64_t stages = 0;
  std::vector<std::string> inputs;   // "o: image", "k: kernel", ...
  std::vector<std::string> fidelity; // one line per least-squares term
  std::vector<std::string> prior;    // one line per prox term
  std::string distance;              // empty without d
  std::vector<std::string> networks; // one line per network
  std::vector<std::string> monitors;
  std::string output; // `output` as written; empty: the variable
  // The entries of every schedule and list const known when compiling (formulas evaluated).
  std::map<std::string, std::vector<double>> lists;
  std::map<std::string, std::string> settings; // stages block, as written
};

std::optional<CheckedModel> check(const ast::Model& model, const Catalogue& catalogue,
                                  DiagnosticEngine& diags);

// The few lines `podm check` prints for a valid model.
std::string summary(const CheckedModel& model);

} // namespace podm::sema
