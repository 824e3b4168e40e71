// Backward rules: how the cotangent of one node's result flows to its operands. One rule per op,
// registered in an explicit table (rule_table.cpp, one line per op); the rules themselves live by
// family in rules/*.cpp and are compositions of forward ops run through the backend (OpRunner), so
// any backend with kernels for the forward ops runs the backward pass too.
//
// Conventions shared by every rule:
//  - A value is a tensor with its IR type; scalars are 1x1x1x1 f32 tensors of type scalar.
//  - The cotangent of a value has the value's type. A c64 value is seen as the real vector
//    (re, im) of twice its size, and its cotangent packs (dL/dre, dL/dim) the same way, so the
//    pairing of a value and a cotangent is always the real dot product sum re*re' + im*im'.
//  - A rule writes one cotangent contribution per operand into dOperands (already sized to the
//    arity, all empty); an operand left empty receives no gradient, which is right only where
//    the derivative is zero almost everywhere (select conditions, comparisons, sign). A rule that
//    cannot differentiate a wanted operand throws instead (conv2d's kernel, prox's gamma). The
//    tape adds the contributions of all users together.
#pragma once

#include "ir/graph.h"
#include "runtime/backend.h"
#include "runtime/tensor.h"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace podm {
class ProxOperator;
class NetworkOperator;
} // namespace podm

namespace podm::autodiff {

// A runtime value and its IR type (the type tells a scalar from a 1x1x1x1 tensor).
struct Value {
  Tensor tensor;
  ir::Type type;
};

// Runs single forward ops on the backend: builds a one-node graph per (op, attributes, operand
// types) on first use, prepares it once (Backend::prepare) and executes it on the caller's
// tensors (Backend::execute). The backend must be host-addressable (see tape.h for what a device
// backend would need).
class OpRunner {
public:
  OpRunner(Backend& backend, PrepareContext context);
  ~OpRunner();
  OpRunner(const OpRunner&) = delete;
  OpRunner& operator=(const OpRunner&) = delete;

  // op(operands) with `attrs` (defaults filled in); throws naming the op when the backend has no
  // kernel for these operand types. `stage` is passed to stage-dependent kernels.
  Value run(ir::Op op, std::span<const Value> operands, const ir::Attrs& attrs = {},
            int64_t stage = -1);
  Value run(ir::Op op, std::initializer_list<Value> operands, const ir::Attrs& attrs = {},
            int64_t stage = -1) {
    return run(op, std::span<const Value>(operands.begin(), operands.size()), attrs, stage);
  }

  // Helpers used by many rules.
  static Value scalar(float v);
  static Value real(Tensor t); // an f32 tensor value (scalars: use scalar())
  // Filled values of a type, made on the host (a device backend would upload them).
  static Value filled(const ir::Type& type, float re, float im = 0.f);
  // Sum of a value's cotangent down to a scalar operand's (broadcast in reverse): real tensors
  // are summed, c64 tensors contribute the sum of their real parts (a real scalar added to a
  // spectrum moves only the real parts), scalars pass through.
  Value reduceToScalar(const Value& v);
  // a + b of the same type (accumulation of contributions).
  Value add(const Value& a, const Value& b);
  // A cotangent contribution computed in the result's domain brought to an operand's type: the
  // real part for a real operand of a complex result, then reduceToScalar for a scalar operand.
  Value toOperandType(const Value& contribution, const ir::Type& operand);
  // <a, b> as the real dot product (sum re*re' + im*im'), a scalar value.
  Value inner(const Value& a, const Value& b);
  // conj(v) for c64 values, v itself otherwise.
  Value conjIfComplex(const Value& v);

private:
  struct Compiled;
  Compiled& compiled(ir::Op op, std::span<const Value> operands, const ir::Attrs& attrs);

  Backend& backend_;
  PrepareContext context_;
  std::map<std::string, std::unique_ptr<Compiled>> cache_;
};

// Everything a rule sees about one evaluation of one node.
struct RuleContext {
  const ir::Graph& graph;
  ir::ValueId id;
  std::span<const Value> operands; // operand values at this evaluation
  const Value& output;             // the node's result at this evaluation
  const Value& dOutput;            // cotangent of the result (the result's type)
  int64_t stage;                   // -1 outside the stage loop
  OpRunner& ops;
  // Per operand: whether any graph input or param to be differentiated reaches it. Rules may
  // skip the others, and throw for a wanted operand they cannot differentiate (conv2d's kernel).
  std::span<const uint8_t> wants;
  const ProxOperator* prox = nullptr; // the bound prox of a `prox` node
  NetworkOperator* network = nullptr; // the bound network of a `network` node

  const ir::Node& node() const { return graph.node(id); }
  bool wanted(size_t operand) const { return operand < wants.size() && wants[operand] != 0; }
  // "%12 conv2d \"x_A\"": for messages.
  std::string where() const;
};

// Writes the cotangent contribution of each operand (see the conventions above).
using BackwardRule = void (*)(const RuleContext& context, std::vector<Value>& dOperands);

// The rule of every op that has one; structural ops (sources, loop_state, loop_result) are
// handled by the tape itself and have none.
class RuleTable {
public:
  void add(ir::Op op, BackwardRule rule);
  // nullptr when the op has no rule.
  BackwardRule find(ir::Op op) const { return rules_[static_cast<size_t>(op)]; }
  std::vector<ir::Op> ops() const; // ops with a rule, in op order

private:
  std::array<BackwardRule, ir::kOpCount> rules_{};
};

// The table of all rules (rule_table.cpp), built on first use.
const RuleTable& ruleTable();
void registerRules(RuleTable& table);

} // namespace podm::autodiff
