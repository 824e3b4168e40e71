// Result-type rules of the op table. Operand classes (tensor/scalar, f32/c64) were already checked
// against the signature; these rules check the relations between operands and attributes.
#include "ir/type_rules.h"

#include "ir/errors.h"
#include "ir/fused_program.h"

#include <string>
#include <vector>

namespace podm::ir::rules {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw IrError(message);
}

const Type& operand(const TypeContext& c, size_t i) {
  return c.operands[i];
}

std::string operandName(size_t i) {
  return "operand " + std::to_string(i);
}

// The tensor type shared by all tensor operands, or nullopt when all operands are scalars.
// mixed: a c64 tensor may meet an f32 tensor of the same shape (the result is c64).
std::optional<Type> broadcastTensors(const TypeContext& c, bool mixed) {
  std::optional<Type> result;
  size_t first = 0;
  for (size_t i = 0; i < c.operands.size(); ++i) {
    const Type& t = operand(c, i);
    if (!t.isTensor())
      continue;
    if (!result) {
      result = t;
      first = i;
      continue;
    }
    if (t.dims != result->dims)
      fail(operandName(i) + " has shape " + t.dims.str() + " but " + operandName(first) +
           " has shape " + result->dims.str() + " (only scalars broadcast)");
    if (t.elem != result->elem) {
      if (!mixed)
        fail(operandName(i) + " is " + t.str() + " but " + operandName(first) + " is " +
             result->str() + "; both must have one element type");
      result->elem = ElemType::C64;
    }
  }
  return result;
}

// Shared by the ops whose output keeps n, c and changes the plane size.
Type withPlane(const Type& in, int64_t h, int64_t w) {
  Dims d = in.dims;
  d.h = h;
  d.w = w;
  return Type::tensor(in.elem, d);
}

} // namespace

Type ruleDeclared(const TypeContext& c) {
  if (!c.declared)
    fail("a declared type is required");
  return *c.declared;
}

Type ruleConstant(const TypeContext& c) {
  Type t = ruleDeclared(c);
  size_t expected = static_cast<size_t>(t.numel()) * (t.elem == ElemType::C64 ? 2 : 1);
  size_t got = c.attrs.getData("value").size();
  if (got != expected)
    fail("constant of type " + t.str() + " needs " + std::to_string(expected) +
         " floats, value holds " + std::to_string(got));
  if (t.isScalar() && t.elem != ElemType::F32)
    fail("scalars are f32");
  return t;
}

Type ruleSame(const TypeContext& c) {
  return operand(c, 0);
}

Type ruleScalar(const TypeContext&) {
  return Type::scalar();
}

Type ruleBroadcast(const TypeContext& c) {
  return broadcastTensors(c, false).value_or(Type::scalar());
}

Type ruleBroadcastMixed(const TypeContext& c) {
  return broadcastTensors(c, true).value_or(Type::scalar());
}

Type ruleAxpby(const TypeContext& c) {
  if (operand(c, 1) != operand(c, 3))
    fail("x is " + operand(c, 1).str() + " but y is " + operand(c, 3).str() +
         "; axpby needs one type");
  return operand(c, 1);
}

Type ruleClamp(const TypeContext& c) {
  double lo = c.attrs.getFloat("lo"), hi = c.attrs.getFloat("hi");
  if (!(lo <= hi))
    fail("clamp needs lo <= hi, got lo = " + std::to_string(lo) + ", hi = " + std::to_string(hi));
  return operand(c, 0);
}

Type ruleSelect(const TypeContext& c) {
  if (operand(c, 1) != operand(c, 2))
    fail("the branches are " + operand(c, 1).str() + " and " + operand(c, 2).str() +
         "; select needs one type");
  return operand(c, 1);
}

Type ruleToReal(const TypeContext& c) {
  return Type::real(operand(c, 0).dims);
}

Type ruleDot(const TypeContext& c) {
  if (operand(c, 0).dims != operand(c, 1).dims)
    fail("shapes " + operand(c, 0).dims.str() + " and " + operand(c, 1).dims.str() + " differ");
  return Type::scalar();
}

Type ruleSsim(const TypeContext& c) {
  const Dims& x = operand(c, 0).dims;
  if (operand(c, 1).dims != x)
    fail("shapes " + x.str() + " and " + operand(c, 1).dims.str() + " differ");
  if (x.n != 1 || x.c != 1)
    fail("expected one 1x1xhxw image, got " + x.str());
  int64_t shave = c.attrs.getInt("shave");
  if (x.h - 2 * shave < 11 || x.w - 2 * shave < 11)
    fail("shave " + std::to_string(shave) + " leaves less than the 11x11 window of a " + x.str() +
         " image");
  return Type::scalar();
}

Type ruleMask(const TypeContext& c) {
  const Dims& x = operand(c, 0).dims;
  const Dims& m = operand(c, 1).dims;
  if (m != Dims{1, 1, x.h, x.w})
    fail("the mask must be one 1x1x" + std::to_string(x.h) + "x" + std::to_string(x.w) +
         " plane, got " + m.str());
  return operand(c, 0);
}

Type ruleRfft2(const TypeContext& c) {
  const Type& x = operand(c, 0);
  return Type::complex(Dims{x.dims.n, x.dims.c, x.dims.h, x.dims.w / 2 + 1});
}

Type ruleIrfft2(const TypeContext& c) {
  const Type& x = operand(c, 0);
  int64_t width = c.attrs.getInt("width");
  if (width / 2 + 1 != x.dims.w)
    fail("a half spectrum of width " + std::to_string(x.dims.w) +
         " cannot come from planes of width " + std::to_string(width) +
         " (needs width/2+1 = " + std::to_string(x.dims.w) + ")");
  return Type::real(Dims{x.dims.n, x.dims.c, x.dims.h, width});
}

Type ruleConv2d(const TypeContext& c) {
  const Type& x = operand(c, 0);
  const Type& k = operand(c, 1);
  if (k.dims.n != 1 || k.dims.c != 1)
    fail("the kernel must be 1x1xkhxkw, got " + k.dims.str());
  return x;
}

Type rulePad2d(const TypeContext& c) {
  const Type& x = operand(c, 0);
  const int64_t dh = c.attrs.getInt("top") + c.attrs.getInt("bottom");
  const int64_t dw = c.attrs.getInt("left") + c.attrs.getInt("right");
  if (x.dims.h > kMaxDim - dh || x.dims.w > kMaxDim - dw)
    fail("padding makes the plane too large");
  return withPlane(x, x.dims.h + dh, x.dims.w + dw);
}

Type rulePad2dAdjoint(const TypeContext& c) {
  const Type& x = operand(c, 0);
  const int64_t dh = c.attrs.getInt("top") + c.attrs.getInt("bottom");
  const int64_t dw = c.attrs.getInt("left") + c.attrs.getInt("right");
  if (x.dims.h <= dh || x.dims.w <= dw)
    fail("plane " + std::to_string(x.dims.h) + "x" + std::to_string(x.dims.w) +
         " is not larger than its padding (" + std::to_string(dh) + " rows, " + std::to_string(dw) +
         " columns)");
  return withPlane(x, x.dims.h - dh, x.dims.w - dw);
}

Type ruleDecimate(const TypeContext& c) {
  const Type& x = operand(c, 0);
  int64_t f = c.attrs.getInt("factor");
  if (x.dims.h % f != 0 || x.dims.w % f != 0)
    fail("plane " + std::to_string(x.dims.h) + "x" + std::to_string(x.dims.w) +
         " is not divisible by the factor " + std::to_string(f));
  return withPlane(x, x.dims.h / f, x.dims.w / f);
}

Type ruleUpsample(const TypeContext& c) {
  const Type& x = operand(c, 0);
  int64_t f = c.attrs.getInt("factor");
  if (x.dims.h > kMaxDim / f || x.dims.w > kMaxDim / f)
    fail("upsampling by " + std::to_string(f) + " makes the plane too large");
  return withPlane(x, x.dims.h * f, x.dims.w * f);
}

Type ruleResize(const TypeContext& c) {
  double scale = c.attrs.getFloat("scale");
  if (!(scale > 0) || scale > 1024 || scale < 1.0 / 1024)
    fail("scale " + std::to_string(scale) + " is outside [1/1024, 1024]");
  return withPlane(operand(c, 0), c.attrs.getInt("h"), c.attrs.getInt("w"));
}

Type ruleHaar(const TypeContext& c) {
  const Type& x = operand(c, 0);
  int64_t levels = c.attrs.getInt("levels");
  int64_t block = int64_t{1} << levels;
  if (x.dims.h % block != 0 || x.dims.w % block != 0)
    fail(std::to_string(levels) + " Haar levels need h and w divisible by " +
         std::to_string(block) + ", got " + std::to_string(x.dims.h) + "x" +
         std::to_string(x.dims.w));
  return x;
}

Type ruleFdGrad(const TypeContext& c) {
  Dims d = operand(c, 0).dims;
  d.c *= 2;
  return Type::real(d);
}

Type ruleFdGradAdjoint(const TypeContext& c) {
  Dims d = operand(c, 0).dims;
  if (d.c % 2 != 0)
    fail("fd_grad_adjoint needs an even channel count (x and y differences), got " +
         std::to_string(d.c));
  d.c /= 2;
  return Type::real(d);
}

// The DCT bank leaves out the constant filter: size^2 - 1 filters.
Type ruleFilterBank(const TypeContext& c) {
  Dims d = operand(c, 0).dims;
  int64_t filters = c.attrs.getInt("size") * c.attrs.getInt("size") - 1;
  if (d.c > kMaxDim / filters)
    fail("too many output channels");
  d.c *= filters;
  return Type::real(d);
}

Type ruleFilterBankAdjoint(const TypeContext& c) {
  Dims d = operand(c, 0).dims;
  int64_t filters = c.attrs.getInt("size") * c.attrs.getInt("size") - 1;
  if (d.c % filters != 0)
    fail("the channel count " + std::to_string(d.c) + " is not a multiple of the " +
         std::to_string(filters) + " filters");
  d.c /= filters;
  return Type::real(d);
}

Type ruleProx(const TypeContext& c) {
  if (c.attrs.getString("fn").empty())
    fail("prox needs a function name");
  const NamedFloats& args = c.attrs.getNamed("args");
  for (size_t i = 1; i < args.size(); ++i)
    if (args[i - 1].first == args[i].first)
      fail("prox argument '" + args[i].first + "' is given twice");
  // Run-time arguments: one name per operand after v and gamma, none also a constant argument.
  std::vector<std::string> names = splitNames(c.attrs.getString("operand_args"));
  if (names.size() != c.operands.size() - 2)
    fail("operand_args names " + std::to_string(names.size()) + " run-time argument" +
         (names.size() == 1 ? "" : "s") + " but the node has " +
         std::to_string(c.operands.size() - 2) + " after v and gamma");
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty())
      fail("operand_args has an empty name");
    for (size_t j = 0; j < i; ++j)
      if (names[j] == names[i])
        fail("prox argument '" + names[i] + "' is given twice");
    for (const auto& [name, value] : args)
      if (name == names[i])
        fail("prox argument '" + name + "' is given twice (constant and run-time)");
  }
  return operand(c, 0);
}

Type ruleNetwork(const TypeContext& c) {
  if (c.attrs.getString("spec").empty())
    fail("network needs an architecture (spec)");
  if (c.attrs.getString("weights").empty())
    fail("network needs a weight file");
  return operand(c, 0);
}

Type ruleParam(const TypeContext& c) {
  Type t = ruleConstant(c);
  if (t.elem != ElemType::F32)
    fail("parameters are f32");
  if (c.attrs.getString("name").empty())
    fail("a parameter needs a name");
  return t;
}

Type rulePickStage(const TypeContext& c) {
  Dims d = operand(c, 0).dims;
  d.n = 1;
  return Type::real(d);
}

Type rulePlaceStage(const TypeContext& c) {
  Dims d = operand(c, 0).dims;
  if (d.n != 1)
    fail("place_stage places one slice (n = 1), got " + d.str());
  d.n = c.attrs.getInt("n");
  return Type::real(d);
}

Type ruleMatvec(const TypeContext& c) {
  const Dims& w = operand(c, 0).dims;
  if (w.n != 1 || w.c != 1)
    fail("the matrix must be 1x1xMxK, got " + w.str());
  if (operand(c, 1).numel() != w.w)
    fail("the vector has " + std::to_string(operand(c, 1).numel()) + " elements but the " +
         w.str() + " matrix has " + std::to_string(w.w) + " columns");
  return Type::real(Dims{1, 1, w.h, 1});
}

Type ruleMatvecT(const TypeContext& c) {
  const Dims& w = operand(c, 0).dims;
  if (w.n != 1 || w.c != 1)
    fail("the matrix must be 1x1xMxK, got " + w.str());
  if (operand(c, 1).numel() != w.h)
    fail("the vector has " + std::to_string(operand(c, 1).numel()) + " elements but the " +
         w.str() + " matrix has " + std::to_string(w.h) + " rows");
  return Type::real(Dims{1, 1, w.w, 1});
}

Type ruleOuter(const TypeContext& c) {
  return Type::real(Dims{1, 1, operand(c, 0).numel(), operand(c, 1).numel()});
}

namespace {
// Runtime filters are one 1 x K x s x s tensor no larger than the plane they filter.
void checkFilters(const Dims& f, int64_t h, int64_t w) {
  if (f.n != 1 || f.h != f.w)
    fail("the filters must be 1 x K x s x s, got " + f.str());
  if (f.h > h || f.w > w)
    fail(std::to_string(f.h) + "x" + std::to_string(f.w) + " filters do not fit a " +
         std::to_string(h) + "x" + std::to_string(w) + " plane");
}
} // namespace

Type ruleFilterBankRt(const TypeContext& c) {
  Dims d = operand(c, 0).dims;
  const Dims& f = operand(c, 1).dims;
  checkFilters(f, d.h, d.w);
  if (d.c > kMaxDim / f.c)
    fail("too many output channels");
  d.c *= f.c;
  return Type::real(d);
}

Type ruleFilterBankRtAdjoint(const TypeContext& c) {
  Dims d = operand(c, 0).dims;
  const Dims& f = operand(c, 1).dims;
  checkFilters(f, d.h, d.w);
  if (d.c % f.c != 0)
    fail("the channel count " + std::to_string(d.c) + " is not a multiple of the " +
         std::to_string(f.c) + " filters");
  d.c /= f.c;
  return Type::real(d);
}

Type ruleFilterBankGrad(const TypeContext& c) {
  const Dims& x = operand(c, 0).dims;
  const Dims& dy = operand(c, 1).dims;
  const int64_t size = c.attrs.getInt("size");
  if (dy.n != x.n || dy.h != x.h || dy.w != x.w || dy.c % x.c != 0)
    fail("dy " + dy.str() + " is not a filter-bank output of x " + x.str());
  if (size > x.h || size > x.w)
    fail("filters of size " + std::to_string(size) + " do not fit the plane " + x.str());
  return Type::real(Dims{1, dy.c / x.c, size, size});
}

Type ruleFilterSpectrum(const TypeContext& c) {
  const int64_t h = c.attrs.getInt("h"), w = c.attrs.getInt("w");
  checkFilters(operand(c, 0).dims, h, w);
  return Type::real(Dims{1, 1, h, w / 2 + 1});
}

Type ruleFilterSpectrumGrad(const TypeContext& c) {
  const Type spectrum = ruleFilterSpectrum(c);
  if (operand(c, 1).dims != spectrum.dims)
    fail("dS must be " + spectrum.dims.str() + ", got " + operand(c, 1).dims.str());
  return operand(c, 0);
}

Type ruleIrfft2Product(const TypeContext& c) {
  if (operand(c, 1).dims != operand(c, 0).dims)
    fail("operand 1 has shape " + operand(c, 1).dims.str() + " but the spectrum has shape " +
         operand(c, 0).dims.str());
  return ruleIrfft2(TypeContext{c.op, c.operands.subspan(0, 1), c.attrs, c.declared});
}

Type ruleFused(const TypeContext& c) {
  FusedProgram program = parseFusedProgram(c.attrs.getString("program"), c.operands.size());
  if (program.inputsUsed() != c.operands.size())
    fail("the program reads " + std::to_string(program.inputsUsed()) + " of the " +
         std::to_string(c.operands.size()) + " operands; every operand must be used");
  std::optional<Type> tensor = broadcastTensors(c, false);
  if (program.reduction() && !tensor)
    fail("a program ending in a reduction needs a tensor operand");
  return program.reduction() || !tensor ? Type::scalar() : *tensor;
}

Type ruleSpectrumEnergy(const TypeContext& c) {
  if (c.operands.size() > 4)
    fail("takes a, b, w and at most one offset c");
  for (size_t i = 1; i < c.operands.size(); ++i)
    if (operand(c, i).dims != operand(c, 0).dims)
      fail("operand " + std::to_string(i) + " has shape " + operand(c, i).dims.str() +
           " but the spectrum has shape " + operand(c, 0).dims.str());
  return Type::scalar();
}

Type ruleFusedOutput(const TypeContext& c) {
  // Which program result it names is checked against the program by the verifier (it needs the
  // operand node, which a type rule does not see).
  return c.attrs.getInt("reduction") != 0 ? Type::scalar() : c.operands[0];
}

} // namespace podm::ir::rules
