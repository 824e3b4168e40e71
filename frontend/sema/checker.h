// The checker behind sema::check. Declarations are resolved lazily and in any order (a name may
// be used before the line that defines it); expression typing lives in expr_checker.cpp, the
// declarations, terms and stage structure in decl_checker.cpp.
#pragma once

#include "frontend/sema/sema.h"

#include <map>
#include <set>

namespace podm::sema {

// Where an expression appears; decides which built-ins its calls may name.
enum class Context { General, Prior, Network, Layers, ParamValue, Setting, Monitor, Stop };

class Checker {
public:
  Checker(const ast::Model& model, const Catalogue& catalogue, DiagnosticEngine& diags)
      : model_(model), catalogue_(catalogue), diags_(diags) {}
  std::optional<CheckedModel> run();

private:
  struct Symbol {
    const ast::Decl* decl = nullptr;
    Type type;
    bool resolved = false;
    bool resolving = false;
  };

  // decl_checker.cpp
  void collectDeclarations();
  Type resolve(const std::string& name, SourceLoc use);
  Type checkDecl(const ast::Decl& d);
  Type checkInput(const ast::Decl& d);
  Type checkVar(const ast::Decl& d);
  Type checkNet(const ast::Decl& d);
  Type checkParam(const ast::Decl& d);
  Type checkSchedule(const ast::Decl& d);
  void checkTerms();
  void checkFidelity(const ast::Decl& d);
  void checkPrior(const ast::Decl& d);
  void checkDistance(const ast::Decl& d);
  void checkStages(const ast::Decl& d);
  void checkMonitors(const ast::Decl& d);
  void checkOutput(const ast::Decl& d);
  void checkStop(const ast::Expr& e);
  void checkEstimate(const ast::Setting& s, const ast::Decl& stages);

  // expr_checker.cpp
  Type expr(const ast::Expr& e, Context ctx);
  Type name(const ast::Expr& e, Context ctx);
  Type call(const ast::Expr& e, Context ctx);
  Type binary(const ast::Expr& e, Context ctx);
  // list_checker.cpp: schedules written as formulas, evaluated when compiling.
  Type listArithmetic(const ast::Expr& e, const Type& a, const Type& b);
  bool isListFunction(const ast::Expr& c) const;
  Type listFunction(const ast::Expr& c, Context ctx);
  Type apply(const ast::Expr& e, Context ctx);
  Type index(const ast::Expr& e, Context ctx);
  Type member(const ast::Expr& e, Context ctx);
  Type operatorCall(const ast::Expr& e, const OperatorSpec& spec, Context ctx);
  Type applyOperator(const Type& op, const Type& arg, const ast::Expr& at);
  // Checks a call's arguments against a signature; returns the known numeric arguments.
  std::map<std::string, std::optional<double>>
  checkArgs(const ast::Expr& call, const FunctionSpec& spec, Context ctx, const char* what);
  Dim dimOf(const ast::Expr& e);
  void requireNumber(const Type& t, const ast::Expr& e, const std::string& what);
  void mismatch(const ast::Expr& at, const std::string& what, const ImageShape& a,
                const ImageShape& b);
  std::string suggestion(const std::string& name, const std::vector<std::string>& candidates);
  std::vector<std::string> namesInScope() const;

  bool localDefined(const std::string& name) const;
  Type local(const std::string& name) const;

  const ast::Model& model_;
  const Catalogue& catalogue_;
  DiagnosticEngine& diags_;
  CheckedModel out_;

  std::map<std::string, Symbol> symbols_;
  std::map<std::string, const ast::Decl*> terms_; // f, g, d
  const ast::Decl* stages_ = nullptr;
  const ast::Decl* variable_ = nullptr;
  const ast::Decl* output_ = nullptr;
  std::map<std::string, Type> locals_;  // term parameters, stage index
  std::set<std::string> stageSettings_; // names the stages block sets
  int64_t stageCount_ = -1;
};

} // namespace podm::sema
