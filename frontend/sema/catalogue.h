// What sema knows about names it did not see declared: the language's own built-ins (solvers and
// their settings, monitors, network templates and layers, scalar functions) and the signatures of
// the standard library's prox functions and linear operators. Sema never includes stdlib: the
// driver copies those signatures in from the stdlib registries (plugins included), so the
// registries stay the single source of truth.
#pragma once

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podm::sema {

enum class ArgType { Number, String, Bool, Image, Kernel, List, Any };

struct ParamSpec {
  std::string name;
  ArgType type = ArgType::Number;
  bool required = false;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool integer = false;
  std::optional<double> defaultValue; // where a shape rule needs it
  bool compilerOnly = false; // read by the compiler (e.g. learnable), not passed to the stdlib
  std::vector<std::string> choices; // String: the values allowed (empty: any)
};

struct FunctionSpec {
  std::string name;
  std::string summary;
  std::vector<ParamSpec> params;
  // At most one of these named parameters may be given, and exactly one when `oneOfRequired`.
  std::vector<std::string> oneOf;
  bool oneOfRequired = false;
  // Optional deeper check of arguments known at compile time (the stdlib's own factory, for
  // proxes): returns an error message, or an empty string when the arguments are acceptable.
  std::function<std::string(const std::map<std::string, double>&)> validate;
};

// How a linear operator maps the (channels, height, width) of its input (stdlib/linop declares it
// per operator).
enum class ShapeRule {
  Same,        // conv, dct, haar, mask, identity
  DownByParam, // decimate(s), bicubic_down(s): h/s, w/s
  UpByParam,   // upsample(s), bicubic_up(s): h*s, w*s
  Gradient,    // 2 channels per input channel
  FilterBank,  // size^2 - 1 channels per input channel
  ByKernel,    // pad(k), crop(k): h and w change by the kernel's size, known only when run
};

struct OperatorSpec {
  FunctionSpec signature;
  ShapeRule shape = ShapeRule::Same;
  std::string shapeParam; // the factor or size parameter the rule reads
};

// The stage parameters: the scalar settings of a stages block that the model's expressions may
// name (d(x, a) = mu / 2 * ...) and that may change from stage to stage (a schedule in l). Named
// here once for sema and the lowering.
inline constexpr std::array<std::string_view, 6> kStageParameters = {"gamma", "mu",  "c",
                                                                     "rho",   "tau", "sigma"};
inline bool isStageParameter(std::string_view name) {
  return std::find(kStageParameters.begin(), kStageParameters.end(), name) !=
         kStageParameters.end();
}

// The settings a stages block accepts for a solver, and which are required.
struct SolverSpec {
  std::string name;
  std::string summary;
  std::vector<std::string> settings;
  std::vector<std::string> required;
  bool usesDistance = false; // needs d(x, a) and a network or A
  bool hasCheck = false;     // reports opt_error and branch
  bool residuals = false;    // reports primal_res and dual_res (splitting solvers)
};

struct Catalogue {
  std::map<std::string, FunctionSpec> proxes;
  std::map<std::string, OperatorSpec> operators;
  std::map<std::string, SolverSpec> solvers;
  std::map<std::string, FunctionSpec> netTemplates;    // dilated_cnn, elu_cnn, residual
  std::map<std::string, FunctionSpec> layers;          // conv, relu, elu, ...
  std::map<std::string, FunctionSpec> paramKinds;      // learned, mlp
  std::map<std::string, FunctionSpec> fstepSolvers;    // auto, closed_form, cg, gradient
  std::map<std::string, FunctionSpec> monitors;        // phi, psnr(ref), ...
  std::map<std::string, FunctionSpec> scalarFunctions; // L, min, max, sqrt, ...
  std::vector<std::string> stopQuantities;             // names a stopping rule may compare
  // The language's own built-ins, with empty prox and operator tables (the driver fills them from
  // the stdlib registries).
  static Catalogue language();
  // Every name sema would accept for a call, for "did you mean" suggestions.
  std::vector<std::string> allFunctionNames() const;
};

} // namespace podm::sema
