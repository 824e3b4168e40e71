// OpRunner: single forward ops on a backend, each compiled once as a one-node graph (inputs, the
// op, an output) and prepared once per (op, attributes, operand types), then executed on the
// caller's host tensors. This is what lets every backward rule be a composition of forward ops.
#include "ir/builder.h"
#include "runtime/autodiff/rule.h"
#include "runtime/ir_types.h"

#include <cstring>
#include <sstream>
#include <stdexcept>

namespace podm::autodiff {

struct OpRunner::Compiled {
  ir::Graph graph;
  ir::ValueId node;
  std::unique_ptr<BackendProgram> program;
};

namespace {

// A cache key for attributes: names and values in their stored (sorted) order; tensor payloads
// by content hash and size.
std::string attrKey(const ir::Attrs& attrs) {
  std::ostringstream s;
  s.precision(17);
  for (const ir::Attr& a : attrs.all()) {
    s << a.name << '=';
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ir::TensorData>)
            s << "data#" << v.size() << ':' << v.hash();
          else if constexpr (std::is_same_v<T, std::vector<double>>)
            for (double d : v)
              s << d << ',';
          else if constexpr (std::is_same_v<T, ir::NamedFloats>)
            for (const auto& [k, d] : v)
              s << k << ':' << d << ',';
          else
            s << v;
        },
        a.value);
    s << ';';
  }
  return s.str();
}

void checkOperand(const Value& v, ir::Op op, size_t i) {
  const Shape want = toShape(v.type);
  if (v.tensor.empty() || !(v.tensor.shape() == want) ||
      v.tensor.dtype() != (v.type.isScalar() ? DType::F32 : toDType(v.type.elem)))
    throw std::logic_error("autodiff: operand " + std::to_string(i) + " of " +
                           std::string(ir::opName(op)) + " does not hold a " + v.type.str());
}

} // namespace

OpRunner::OpRunner(Backend& backend, PrepareContext context)
    : backend_(backend), context_(context) {
  if (!backend_.hostAddressable())
    throw std::invalid_argument("autodiff: backend '" + backend_.name() +
                                "' is not host-addressable; the tape runs on host tensors");
}

OpRunner::~OpRunner() = default;

OpRunner::Compiled& OpRunner::compiled(ir::Op op, std::span<const Value> operands,
                                       const ir::Attrs& attrs) {
  std::string key = std::string(ir::opName(op)) + '(';
  for (const Value& v : operands)
    key += v.type.str() + ',';
  key += ')' + attrKey(attrs);
  auto it = cache_.find(key);
  if (it != cache_.end())
    return *it->second;

  auto c = std::make_unique<Compiled>();
  ir::Builder b(c->graph);
  std::vector<ir::ValueId> ins;
  for (size_t i = 0; i < operands.size(); ++i)
    ins.push_back(b.input("a" + std::to_string(i), operands[i].type));
  // Body-only ops (monitors, per-stage slices) sit in a one-stage loop; nothing is run through an
  // executor, so the graph needs no outputs or carries.
  const bool body = ir::opInfo(op).region == ir::RegionRule::BodyOnly;
  if (body)
    b.beginLoop(1);
  c->node = b.create(op, ins, attrs);
  if (body)
    b.endLoop();
  else
    b.output("out", c->node);
  if (!backend_.supports(c->graph, c->node, context_))
    throw std::runtime_error(
        "autodiff: backend '" + backend_.name() + "' cannot run " + std::string(ir::opName(op)) +
        " for a backward rule: " + backend_.unsupportedReason(c->graph, c->node, context_));
  const ir::ValueId nodes[] = {c->node};
  c->program = backend_.prepare(c->graph, nodes, context_);
  return *cache_.emplace(std::move(key), std::move(c)).first->second;
}

Value OpRunner::run(ir::Op op, std::span<const Value> operands, const ir::Attrs& attrs,
                    int64_t stage) {
  for (size_t i = 0; i < operands.size(); ++i)
    checkOperand(operands[i], op, i);
  Compiled& c = compiled(op, operands, attrs);
  const ir::Type& type = c.graph.type(c.node);
  Value out{Tensor(toShape(type), type.isScalar() ? DType::F32 : toDType(type.elem)), type};
  DevicePtr ptrs[8];
  if (operands.size() > std::size(ptrs))
    throw std::logic_error("autodiff: too many operands");
  for (size_t i = 0; i < operands.size(); ++i)
    ptrs[i] = DevicePtr{const_cast<float*>(operands[i].tensor.data())};
  backend_.execute(*c.program, 0, KernelIO{ptrs, DevicePtr{out.tensor.data()}, stage});
  return out;
}

Value OpRunner::scalar(float v) {
  Tensor t(Shape{1, 1, 1, 1});
  t.data()[0] = v;
  return Value{std::move(t), ir::Type::scalar()};
}

Value OpRunner::real(Tensor t) {
  const Shape& s = t.shape();
  ir::Type type = ir::Type::real(ir::Dims{s.n, s.c, s.h, s.w});
  return Value{std::move(t), type};
}

Value OpRunner::filled(const ir::Type& type, float re, float im) {
  Tensor t(toShape(type), type.isScalar() ? DType::F32 : toDType(type.elem));
  if (type.isComplexTensor())
    for (int64_t i = 0; i < t.numel(); ++i)
      t.cdata()[i] = {re, im};
  else
    t.fill(re);
  return Value{std::move(t), type};
}

Value OpRunner::reduceToScalar(const Value& v) {
  if (v.type.isScalar())
    return v;
  if (v.type.isComplexTensor())
    return run(ir::Op::Sum, {run(ir::Op::Real, {v})});
  return run(ir::Op::Sum, {v});
}

Value OpRunner::add(const Value& a, const Value& b) {
  return run(ir::Op::Add, {a, b});
}

Value OpRunner::toOperandType(const Value& contribution, const ir::Type& operand) {
  Value c = contribution;
  if (!operand.isComplexTensor() && c.type.isComplexTensor())
    c = run(ir::Op::Real, {c});
  if (operand.isScalar())
    c = reduceToScalar(c);
  return c;
}

Value OpRunner::inner(const Value& a, const Value& b) {
  if (a.type.isScalar() && b.type.isScalar())
    return run(ir::Op::Mul, {a, b});
  if (a.type.isComplexTensor() || b.type.isComplexTensor())
    return reduceToScalar(run(ir::Op::Mul, {conjIfComplex(a), b}));
  return run(ir::Op::Dot, {a, b});
}

Value OpRunner::conjIfComplex(const Value& v) {
  return v.type.isComplexTensor() ? run(ir::Op::Conj, {v}) : v;
}

} // namespace podm::autodiff
