// The language's built-in vocabulary (see catalogue.h): one table per category, as data.
#include "frontend/sema/catalogue.h"

namespace podm::sema {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

ParamSpec number(std::string name, bool required = false, double min = -kInf, double max = kInf) {
  return {std::move(name), ArgType::Number, required, min, max, false, std::nullopt, false, {}};
}
ParamSpec integer(std::string name, bool required = false, double min = 1, double max = kInf) {
  return {std::move(name), ArgType::Number, required, min, max, true, std::nullopt, false, {}};
}
ParamSpec typed(std::string name, ArgType type, bool required = false) {
  return {std::move(name), type, required, -kInf, kInf, false, std::nullopt, false, {}};
}
FunctionSpec fn(std::string name, std::string summary, std::vector<ParamSpec> params) {
  FunctionSpec spec;
  spec.name = std::move(name);
  spec.summary = std::move(summary);
  spec.params = std::move(params);
  return spec;
}

template <typename T>
void add(std::map<std::string, T>& table, T spec) {
  std::string name = spec.name;
  table.emplace(name, std::move(spec));
}

} // namespace

Catalogue Catalogue::language() {
  Catalogue c;

  // Solvers: PODM with its check, relaxed PODM, and the baselines of the paper's Fig. 2.
  add(c.solvers, {"podm",
                  "PODM with the optimality check (Eqs. 3-7)",
                  {"gamma", "mu", "c", "fstep", "A", "stop"},
                  {"c"},
                  true,
                  true});
  add(c.solvers, {"relaxed",
                  "relaxed PODM x = G(F(A(x))), learnable F (Sec. 4.2)",
                  {"gamma", "mu", "fstep", "A", "stop"},
                  {},
                  true,
                  false});
  add(c.solvers, {"naive",
                  "the naive network iteration G(F(A(x))) without the check",
                  {"gamma", "mu", "fstep", "A", "stop"},
                  {},
                  true,
                  false});
  add(c.solvers, {"proxgrad",
                  "proximal gradient x = prox(x - gamma grad f(x))",
                  {"gamma", "stop"},
                  {},
                  false,
                  false});
  add(c.solvers, {"fista", "FISTA (Beck & Teboulle)", {"gamma", "stop"}, {}, false, false});
  // Splitting solvers: every term lambda * h(K x) of g is split as z = K x (docs/language.md).
  add(c.solvers, {"admm",
                  "ADMM, scaled form: x-update by a quadratic solve, z = prox, u += K x - z",
                  {"rho", "fstep", "denoiser", "stop"},
                  {"rho"},
                  false,
                  false,
                  true});
  add(c.solvers, {"hqs",
                  "half-quadratic splitting: z = prox(K x), x = argmin f + mu/2 ||K x - z||^2",
                  {"mu", "fstep", "denoiser", "estimate", "stop"},
                  {"mu"},
                  false,
                  false,
                  true});
  add(c.solvers, {"pdhg",
                  "primal-dual hybrid gradient (Chambolle-Pock) with f and g as dual terms",
                  {"tau", "sigma", "stop"},
                  {},
                  false,
                  false,
                  true});

  add(c.netTemplates, fn("dilated_cnn", "IRCNN-style dilated CNN (3x3 convs, ReLU between)",
                         {integer("depth", false, 2, 64), integer("channels", false, 1, 4096),
                          typed("dilations", ArgType::List), integer("in", false, 1, 64)}));
  add(c.netTemplates, fn("elu_cnn", "CNN with ELU activations after all but the last layer",
                         {integer("depth", false, 2, 64), integer("channels", false, 1, 4096),
                          integer("in", false, 1, 64)}));
  add(c.netTemplates, fn("residual", "x - net(x): the net predicts the residual",
                         {typed("net", ArgType::Any, true)}));

  add(c.layers, fn("conv", "2-D convolution",
                   {integer("in", true), integer("out", true), integer("k", false, 1, 31),
                    integer("dilation", false, 1, 64), integer("stride", false, 1, 16),
                    typed("padding", ArgType::String), typed("bias", ArgType::Bool)}));
  add(c.layers, fn("relu", "ReLU", {}));
  add(c.layers, fn("elu", "ELU", {number("alpha", false, 0)}));
  add(c.layers, fn("leaky_relu", "leaky ReLU", {number("slope", false, 0)}));
  add(c.layers, fn("batchnorm", "batch normalisation (folded into the convolution at load)",
                   {integer("channels", true), number("eps", false, 0)}));
  add(c.layers, fn("upsample", "nearest upsampling", {integer("factor", true, 1, 16)}));

  add(c.paramKinds, fn("learned", "a learnable scalar", {number("init", true)}));
  add(c.paramKinds, fn("mlp", "a small MLP mapping its inputs to a positive scalar",
                       {typed("input", ArgType::Any, true), typed("hidden", ArgType::List),
                        number("init", true)}));

  add(c.fstepSolvers, fn("auto", "chosen from operator structure", {}));
  add(c.fstepSolvers, fn("closed_form", "exact solve (elementwise, FFT or orthogonal)", {}));
  add(c.fstepSolvers, fn("cg", "conjugate gradients", {integer("iters", false, 1, 10000)}));
  add(c.fstepSolvers, fn("pcg", "CG preconditioned by the FFT solve with periodic boundaries",
                         {integer("iters", false, 1, 10000)}));
  add(c.fstepSolvers, fn("gradient", "gradient steps on f + d",
                         {integer("steps", false, 1, 10000), number("step", false, 0)}));

  add(c.monitors, fn("phi", "objective f + g", {}));
  add(c.monitors, fn("rel_change", "||x^l - x^{l-1}|| / ||x^{l-1}||", {}));
  add(c.monitors, fn("opt_error", "||psi||, the optimality error of Eq. (5)", {}));
  add(c.monitors, fn("check_bound", "c_l ||x_G - x^{l-1}||", {}));
  add(c.monitors, fn("branch", "accept (x_G) or feedback (Eq. 6)", {}));
  add(c.monitors, fn("primal_res", "splitting solvers: ||K x - z|| (pdhg: Goldstein et al.)", {}));
  add(c.monitors,
      fn("dual_res", "splitting solvers: rho ||K'(z - z_prev)|| (pdhg: Goldstein)", {}));
  add(c.monitors, fn("time", "seconds spent in the stage", {}));
  // shave: border pixels left out (default: the super-resolution scale, docs/io.md).
  add(c.monitors, fn("psnr", "PSNR against a reference",
                     {typed("ref", ArgType::Image, true), integer("shave", false, 0, 1024)}));
  add(c.monitors, fn("ssim", "SSIM against a reference",
                     {typed("ref", ArgType::Image, true), integer("shave", false, 0, 1024)}));
  add(c.monitors, fn("recon_error", "||x - ref|| / ||ref||", {typed("ref", ArgType::Image, true)}));
  c.stopQuantities = {"rel_change", "phi", "opt_error", "primal_res", "dual_res"};

  add(c.scalarFunctions, fn("L", "Lipschitz constant of grad f", {typed("f", ArgType::Any, true)}));
  add(c.scalarFunctions, fn("min", "smallest pixel value", {typed("image", ArgType::Image, true)}));
  add(c.scalarFunctions, fn("max", "largest pixel value", {typed("image", ArgType::Image, true)}));
  add(c.scalarFunctions, fn("numel", "number of pixels", {typed("image", ArgType::Image, true)}));
  add(c.scalarFunctions, fn("sqrt", "square root", {number("x", true, 0)}));
  add(c.scalarFunctions, fn("exp", "exponential", {number("x", true)}));
  add(c.scalarFunctions, fn("log", "natural logarithm", {number("x", true)}));
  // Known when compiling, of a number or of each entry of a list (list_checker.cpp).
  add(c.scalarFunctions, fn("ceil", "rounds up", {typed("x", ArgType::Any, true)}));
  add(c.scalarFunctions, fn("floor", "rounds down", {typed("x", ArgType::Any, true)}));
  add(c.scalarFunctions, fn("round", "rounds to the nearest whole number (halves away from 0)",
                            {typed("x", ArgType::Any, true)}));
  add(c.scalarFunctions,
      fn("clamp", "min(max(x, lo), hi)",
         {typed("x", ArgType::Any, true), number("lo", true), number("hi", true)}));
  add(c.scalarFunctions, fn("geomspace", "count numbers from first to last, geometrically spaced",
                            {number("first", true), number("last", true), number("count", true)}));
  add(c.scalarFunctions, fn("linspace", "count numbers from first to last, evenly spaced",
                            {number("first", true), number("last", true), number("count", true)}));

  return c;
}

} // namespace podm::sema
