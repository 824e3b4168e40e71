// The monitors of a model as `monitor` graph nodes (DESIGN.md §1): the quantities a reader of the
// paper checks per stage (phi, rel_change, opt_error, check_bound, branch, psnr, recon_error).
// Kept apart from the stage loop (solvers.cpp) so that reporting can grow without touching the
// solver lowering.
#include "compiler/lower/context.h"

#include <cmath>

namespace podm::lower {

using ast::Expr;
using ast::ExprKind;
using ir::Op;

void Context::monitorInputs() {
  for (const ast::Decl& md : model.decls) {
    if (md.kind != ast::DeclKind::Monitor)
      continue;
    for (const ast::ExprPtr& item : md.items) {
      if (item->kind != ExprKind::Call || item->args.empty())
        continue;
      const Expr& arg = *item->args[0].value;
      auto d = arg.kind == ExprKind::Name ? decls.find(arg.text) : decls.end();
      if (d != decls.end() && d->second->optional && !options.shapes.count(arg.text)) {
        notes.push_back("monitor " + ast::unparse(*item) + " skipped: optional input '" + arg.text +
                        "' was not given");
        continue;
      }
      ir::ValueId ref = image(arg);
      if (graph.type(ref) != varType)
        fail(arg.loc, "the reference '" + arg.text + "' has shape " + graph.type(ref).str() +
                          " but the variable is " + varType.str());
      monitorRefs[item.get()] = ref;
    }
  }
}

void Context::buildMonitors(ir::ValueId next, const std::map<std::string, ir::ValueId>& q,
                            const std::function<ir::ValueId()>& phi) {
  const std::string& solver = checked.solver;
  auto norm = [&](ir::ValueId v) { return b.op(Op::Sqrt, {b.op(Op::Norm2Sq, {v})}); };
  for (const ast::Decl& md : model.decls) {
    if (md.kind != ast::DeclKind::Monitor)
      continue;
    for (const ast::ExprPtr& item : md.items) {
      const std::string& n = item->text;
      if (n == "phi") {
        b.monitor("phi", phi());
      } else if (n == "rel_change" || n == "opt_error" || n == "check_bound" || n == "branch") {
        auto it = q.find(n);
        if (it == q.end())
          fail(item->loc, "monitor '" + n + "' is not available for " + solver + " stages");
        b.monitor(n, it->second);
      } else if (n == "psnr" || n == "recon_error") {
        auto r = monitorRefs.find(item.get());
        if (r == monitorRefs.end())
          continue; // noted by monitorInputs
        ir::ValueId diff = b.op(Op::Norm2Sq, {b.op(Op::Sub, {next, r->second})});
        if (n == "psnr") {
          // 10 log10(1 / mse) for images in [0, 1].
          ir::ValueId mse = b.op(Op::Scale, {diff}, {{"alpha", 1.0 / double(varType.numel())}});
          b.monitor("psnr",
                    b.op(Op::Scale, {b.op(Op::Log, {mse})}, {{"alpha", -10.0 / std::log(10.0)}}));
        } else {
          ir::ValueId tiny = b.scalar(1e-30f);
          b.monitor("recon_error", b.op(Op::Div, {b.op(Op::Sqrt, {diff}),
                                                  b.op(Op::Max, {norm(r->second), tiny})}));
        }
      } else {
        notes.push_back("monitor " + ast::unparse(*item) + " is not lowered yet: skipped");
      }
    }
  }
}

} // namespace podm::lower
