// Backward rules of the linear operators: the cotangent goes through the adjoint op listed in
// ops.def's adjoint column, with the node's other operands and attributes.
#include "runtime/autodiff/rules/rules.h"

#include <stdexcept>

namespace podm::autodiff::rules {
namespace {

using ir::Op;

Value throughAdjoint(const RuleContext& c, const ir::Attrs& attrs) {
  const ir::OpInfo& info = c.node().info();
  if (!info.adjoint.exists)
    throw std::logic_error(c.where() + ": ops.def lists no adjoint for " + std::string(info.name));
  std::vector<Value> in(c.operands.begin(), c.operands.end());
  in[0] = c.dOutput;
  return c.ops.run(info.adjoint.op, in, attrs);
}

} // namespace

void linearByAdjoint(const RuleContext& c, std::vector<Value>& d) {
  d[0] = throughAdjoint(c, c.node().attrs);
}

// The kernel is treated as data: its gradient (a correlation of the input with the cotangent
// over the kernel's support) is not a composition of forward ops.
void conv2d(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(1))
    throw std::runtime_error(c.where() +
                             ": no gradient with respect to the convolution kernel; list that "
                             "input in TapeOptions::noGradient to treat it as data");
  if (c.wanted(0))
    d[0] = throughAdjoint(c, c.node().attrs);
}

// a * m with a fixed plane m: self-adjoint in a; the mask itself gets dOut * a when a is a single
// plane (several planes would need a sum over planes, which no op provides).
void mask(const RuleContext& c, std::vector<Value>& d) {
  if (c.wanted(0))
    d[0] = throughAdjoint(c, c.node().attrs);
  if (c.wanted(1)) {
    const ir::Dims& a = c.operands[0].type.dims;
    if (a.n * a.c != 1)
      throw std::runtime_error(c.where() + ": no gradient with respect to a mask applied to " +
                               std::to_string(a.n * a.c) + " planes");
    d[1] = c.ops.run(Op::Mul, {c.dOutput, c.operands[0]});
  }
}

// resize_bicubic's attributes h, w are its output size; its adjoint's are the forward input size.
void resize(const RuleContext& c, std::vector<Value>& d) {
  ir::Attrs attrs = c.node().attrs;
  attrs.set("h", c.operands[0].type.dims.h);
  attrs.set("w", c.operands[0].type.dims.w);
  d[0] = throughAdjoint(c, attrs);
}

} // namespace podm::autodiff::rules
