// The monitors of a model as `monitor` graph nodes (docs/lowering.md): the quantities a reader of
// the paper checks per stage (phi, rel_change, opt_error, check_bound, branch, psnr, ssim,
// recon_error). Kept apart from the stage loop (solvers.cpp) so that reporting can grow without
// touching the solver lowering. `time` is no node: the executor measures every stage's wall time.
//
// PSNR and SSIM follow the super-resolution convention (docs/io.md): `shave` pixels are removed
// on every side first, by default the scale when the variable is s times larger than the
// observation of f (x4 SR shaves 4), else 0; `psnr(ref, shave = N)` says it explicitly.
#include "compiler/lower/context.h"

#include <cmath>

namespace podm::lower {

using ast::Expr;
using ast::ExprKind;
using ir::Op;

namespace {

// The reference of psnr(ref), ssim(ref), recon_error(ref): the positional or `ref =` argument.
const Expr* refArgument(const Expr& item) {
  for (const ast::Arg& a : item.args)
    if (a.name.empty() || a.name == "ref")
      return a.value.get();
  return nullptr;
}

const ast::Arg* namedArgument(const Expr& item, const std::string& name) {
  for (const ast::Arg& a : item.args)
    if (a.name == name)
      return &a;
  return nullptr;
}

} // namespace

void Context::planOutput(ir::ValueId x0) {
  outputType = varType;
  if (!outputDecl)
    return;
  const Expr& e = *outputDecl->value;
  if (e.kind == ExprKind::Name && e.text == var)
    return;
  const Expr* arg = nullptr;
  if (!splitApply(e, outputOp, arg) || arg->kind != ExprKind::Name || arg->text != var)
    fail(e.loc,
         "output is lowered in the form `K " + var + "`: an operator applied to the variable");
  where = e.loc;
  outputStart = apply(outputOp, x0);
  outputType = graph.type(outputStart);
  where = {};
  notes.push_back("output: " + ast::unparse(e) + " (" + outputType.str() + ")");
}

ir::ValueId Context::outputImage(ir::ValueId x) {
  return outputDecl ? apply(outputOp, x) : x;
}

int64_t Context::defaultShave() const {
  const int64_t h = outputType.dims.h, w = outputType.dims.w;
  for (const LsqTerm& t : f) {
    if (!t.offset)
      continue;
    const ir::Dims& o = graph.type(*t.offset).dims;
    if (o.h > 0 && o.w > 0 && h % o.h == 0 && h / o.h > 1 && h / o.h * o.w == w)
      return h / o.h;
  }
  return 0;
}

int64_t Context::monitorShave(const Expr& item) {
  const ast::Arg* a = namedArgument(item, "shave");
  if (!a)
    return defaultShave();
  Scalar s = number(*a->value);
  if (!s.value || *s.value < 0 || *s.value != std::floor(*s.value))
    fail(a->value->loc, "shave must be a whole number of pixels (0 or more) known when the model "
                        "is compiled");
  const int64_t shave = static_cast<int64_t>(*s.value);
  if (2 * shave >= outputType.dims.h || 2 * shave >= outputType.dims.w)
    fail(a->value->loc, "shave " + std::to_string(shave) + " leaves nothing of the " +
                            outputType.str() + " output");
  return shave;
}

void Context::monitorInputs() {
  for (const ast::Decl& md : model.decls) {
    if (md.kind != ast::DeclKind::Monitor)
      continue;
    for (const ast::ExprPtr& item : md.items) {
      const Expr* ref = item->kind == ExprKind::Call ? refArgument(*item) : nullptr;
      if (!ref)
        continue;
      const Expr& arg = *ref;
      auto d = arg.kind == ExprKind::Name ? decls.find(arg.text) : decls.end();
      if (d != decls.end() && d->second->optional && !options.shapes.count(arg.text)) {
        notes.push_back("monitor " + ast::unparse(*item) + " skipped: optional input '" + arg.text +
                        "' was not given");
        continue;
      }
      ir::ValueId r = image(arg);
      if (graph.type(r) != outputType)
        fail(arg.loc, "the reference '" + arg.text + "' has shape " + graph.type(r).str() +
                          " but the " + (outputDecl ? "output" : "variable") + " is " +
                          outputType.str());
      monitorRefs[item.get()] = r;
    }
  }
}

void Context::admissibility(ir::ValueId gamma, const std::optional<Scalar>& mu) {
  // Only worth its three scalar nodes when the run can report on Proposition 1 (phi and branch).
  bool phi = false, branch = false;
  for (const ast::Decl& md : model.decls)
    if (md.kind == ast::DeclKind::Monitor)
      for (const ast::ExprPtr& item : md.items)
        phi |= item->text == "phi", branch |= item->text == "branch";
  if (!phi || !branch)
    return;
  ir::ValueId lf = lipschitzConstant(stages->loc);
  b.monitor(kProp1GammaLf, b.op(Op::Mul, {gamma, lf}, {}, "gamma L_f (Prop. 1: < 1)"));
  if (mu)
    b.monitor(kProp1COverHalfMu,
              b.op(Op::Div, {node(settings.at("c")), node(mul(*mu, Scalar::constant(0.5)))}, {},
                   "c / (mu/2) (Prop. 1: <= 1)"));
  const bool exact = fs.kind == FStepState::Elementwise || fs.kind == FStepState::Fft ||
                     fs.kind == FStepState::Orthogonal;
  b.monitor(kProp1ExactFStep, b.scalar(exact ? 1.f : 0.f));
}

void Context::buildMonitors(ir::ValueId shown, const std::map<std::string, ir::ValueId>& q,
                            const std::function<ir::ValueId(SourceLoc)>& phi) {
  const std::string& solver = checked.solver;
  auto norm = [&](ir::ValueId v) { return b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {v})}); };
  for (const ast::Decl& md : model.decls) {
    if (md.kind != ast::DeclKind::Monitor)
      continue;
    for (const ast::ExprPtr& item : md.items) {
      const std::string& n = item->text;
      if (n == "phi") {
        b.monitor("phi", phi(item->loc));
      } else if (n == "rel_change" || n == "opt_error" || n == "check_bound" || n == "branch" ||
                 n == "primal_res" || n == "dual_res") { // quantities the solver provides
        auto it = q.find(n);
        if (it == q.end())
          fail(item->loc, "monitor '" + n + "' is not available for " + solver + " stages");
        b.monitor(n, it->second);
      } else if (n == "time") {
        // Measured by the executor for every stage (RunResult::stageSeconds).
      } else if (n == "psnr" || n == "ssim" || n == "recon_error") {
        auto r = monitorRefs.find(item.get());
        if (r == monitorRefs.end())
          continue; // noted by monitorInputs
        if (n == "recon_error") {
          ir::ValueId diff = b.op(Op::Norm2Sq, {b.op(Op::Sub, {shown, r->second})});
          ir::ValueId tiny = b.scalar(1e-30f);
          b.monitor("recon_error", b.op(Op::Div, {b.op(Op::Sqrt, {diff}),
                                                  b.op(Op::Max, {norm(r->second), tiny})}));
          continue;
        }
        const int64_t shave = monitorShave(*item);
        const int64_t h = outputType.dims.h - 2 * shave, w = outputType.dims.w - 2 * shave;
        if (n == "ssim") {
          if (h < 11 || w < 11)
            fail(item->loc, "ssim needs at least 11x11 pixels after a shave of " +
                                std::to_string(shave) + "; the scored image is " +
                                outputType.str());
          b.monitor("ssim", b.op(Op::Ssim, {shown, r->second}, {{"shave", shave}}, "ssim"));
          continue;
        }
        // 10 log10(1 / mse) for images in [0, 1], the mse over the shaved region.
        ir::ValueId diff = b.op(Op::Sub, {shown, r->second});
        if (shave > 0) {
          std::vector<float> inside(size_t(outputType.numel()), 0.f);
          for (int64_t y = shave; y < shave + h; ++y)
            for (int64_t x = shave; x < shave + w; ++x)
              inside[size_t(y * outputType.dims.w + x)] = 1.f;
          ir::Type plane = ir::Type::real({1, 1, outputType.dims.h, outputType.dims.w});
          diff = b.op(Op::Mask, {diff, b.constant(plane, std::move(inside), "psnr shave mask")});
        }
        ir::ValueId mse =
            b.op(Op::Scale, {b.op(Op::Norm2Sq, {diff})},
                 {{"alpha", 1.0 / double(h * w * outputType.dims.n * outputType.dims.c)}});
        b.monitor("psnr",
                  b.op(Op::Scale, {b.op(Op::Log, {mse})}, {{"alpha", -10.0 / std::log(10.0)}}));
      } else {
        // Sema admits only the monitors of the catalogue, and each has a branch above.
        fail(item->loc, "monitor '" + n + "' has no lowering");
      }
    }
  }
}

} // namespace podm::lower
