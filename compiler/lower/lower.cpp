// The lowering's driver: one pass per concern, in order (Halide-style) -- collect declarations,
// fix the variable's shape, read f, g and d, then write the stage loop of the solver.
#include "compiler/lower/lower.h"

#include "compiler/lower/context.h"
#include "compiler/lower/solvers/solver.h"
#include "ir/errors.h"
#include "ir/verifier.h"

namespace podm::lower {

namespace {

void collect(Context& cx) {
  for (const ast::Decl& d : cx.model.decls) {
    if (d.kind == ast::DeclKind::Term)
      cx.terms[d.name] = &d;
    else if (d.kind == ast::DeclKind::Stages)
      cx.stages = &d;
    else if (d.kind == ast::DeclKind::Output)
      cx.outputDecl = &d;
    else if (d.kind != ast::DeclKind::Monitor)
      cx.decls[d.name] = &d;
  }
  if (!cx.stages || !cx.terms.count("f") || cx.checked.variable.empty())
    fail(cx.model.loc, "internal: lowering a model that sema did not accept");
  cx.var = cx.checked.variable;
  const SolverLowering* solver = findSolverLowering(cx.checked.solver);
  cx.splitting = solver && solver->splitting;
}

void variableShape(Context& cx) {
  const ast::Decl& v = *cx.decls.at(cx.var);
  if (v.type.dims.size() == 2) {
    int64_t dims[2];
    for (int i = 0; i < 2; ++i) {
      Scalar s = cx.number(*v.type.dims[i]);
      if (!s.value || *s.value < 1 ||
          *s.value != static_cast<double>(static_cast<int64_t>(*s.value)))
        fail(v.type.dims[i]->loc, "the variable's dimensions must be whole numbers known when "
                                  "the model is compiled");
      dims[i] = static_cast<int64_t>(*s.value);
    }
    cx.varType = ir::Type::real({1, 1, dims[0], dims[1]});
    return;
  }
  if (!v.value)
    fail(v.nameLoc, "cannot tell the shape of '" + cx.var + "'");
  cx.x0 = cx.image(*v.value);
  cx.varType = cx.graph.type(cx.x0);
  if (!cx.varType.isRealTensor())
    fail(v.value->loc, "the initial value must be an image");
}

} // namespace

LowerResult lowerModel(const ast::Model& model, const sema::CheckedModel& checked,
                       const LowerOptions& options) {
  LowerResult result{ir::Graph(model.name), {}};
  Context cx(model, checked, options, result.graph);
  try {
    collect(cx);
    variableShape(cx);
    cx.declareParams();
    cx.readFidelity();
    cx.readPrior();
    cx.readDistance();
    cx.buildLoop();
  } catch (const ir::IrError& e) {
    // The builder refused a node for these input sizes (a kernel larger than the image, a Haar
    // depth the size does not divide): say so at the operator being applied, without IR ids.
    if (!cx.where.known())
      throw;
    throw LowerError(cx.where, "this does not fit the input sizes given: " + e.detail());
  }
  ir::verify(result.graph);
  result.notes = std::move(cx.notes);
  return result;
}

} // namespace podm::lower
