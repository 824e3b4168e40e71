// The fusible ops' program forms (fused_forms.h).
#include "compiler/passes/fused_forms.h"

#include <cmath>

namespace podm::passes {

using ir::Op;

const std::vector<FusedForm>& elementwiseForms() {
  static const std::vector<FusedForm> forms = {
      {Op::Add, "add", {}, {}},          {Op::Sub, "sub", {}, {}},
      {Op::Mul, "mul", {}, {}},          {Op::Div, "div", {}, {}},
      {Op::Max, "max", {}, {}},          {Op::Min, "min", {}, {}},
      {Op::Neg, "neg", {}, {}},          {Op::Abs, "abs", {}, {}},
      {Op::Sign, "sign", {}, {}},        {Op::Sqrt, "sqrt", {}, {}},
      {Op::Exp, "exp", {}, {}},          {Op::Log, "log", {}, {}},
      {Op::Fma, "fma", {}, {}},          {Op::Axpby, "axpby", {}, {}},
      {Op::Scale, "mul", {"alpha"}, {}}, {Op::Clamp, "clamp", {}, {"lo", "hi"}},
  };
  return forms;
}

const std::vector<FusedForm>& reductionForms() {
  static const std::vector<FusedForm> forms = {
      {Op::Norm2Sq, "norm2sq", {}, {}},
      {Op::Sum, "sum", {}, {}},
      {Op::Dot, "dot", {}, {}},
      {Op::MaxAbs, "maxabs", {}, {}},
  };
  return forms;
}

const FusedForm* formOf(const std::vector<FusedForm>& forms, Op op) {
  for (const FusedForm& f : forms)
    if (f.op == op)
      return &f;
  return nullptr;
}

bool allReal(const ir::Graph& g, const ir::Node& n) {
  if (n.type.elem != ir::ElemType::F32)
    return false;
  for (ir::ValueId o : n.operands)
    if (g.type(o).elem != ir::ElemType::F32)
      return false;
  return true;
}

bool finiteLiterals(const ir::Node& n, const FusedForm& f) {
  for (const auto* list : {&f.before, &f.after})
    for (const char* a : *list)
      if (!std::isfinite(n.attrs.getFloat(a)))
        return false;
  return true;
}

std::vector<bool> readByExecutor(const ir::Graph& g) {
  std::vector<bool> read(g.size(), false);
  if (g.loop()) {
    for (const ir::Carry& c : g.loop()->carries)
      read[c.next.index] = true;
    if (g.loop()->stop)
      read[g.loop()->stop.index] = true;
  }
  for (const ir::Output& o : g.outputs())
    read[o.value.index] = true;
  return read;
}

ir::FusedInstr instructionOf(const ir::Node& n, const FusedForm& f,
                             const std::function<ir::FusedArg(ir::ValueId)>& argOf) {
  auto literal = [](double v) {
    ir::FusedArg a;
    a.kind = ir::FusedArg::Kind::Literal;
    a.literal = v;
    return a;
  };
  ir::FusedInstr in;
  in.op = ir::findFusedOp(f.name);
  for (const char* a : f.before)
    in.args.push_back(literal(n.attrs.getFloat(a)));
  for (ir::ValueId o : n.operands)
    in.args.push_back(argOf(o));
  for (const char* a : f.after)
    in.args.push_back(literal(n.attrs.getFloat(a)));
  return in;
}

} // namespace podm::passes
