// The validating graph builder: the only way nodes enter a Graph. Every call checks the op's
// region, arity, operand classes and visibility, attributes (filling defaults) and result type,
// and throws IrError with a message naming the node on the first problem.
//
// Typical use (one PODM-style stage loop):
//   Graph g("demo");
//   Builder b(g);
//   ValueId y = b.input("y", Type::real({1, 1, 1, 64}));
//   ValueId x0 = b.constant(Type::real({1, 1, 1, 64}), std::vector<float>(64, 0.f));
//   b.beginLoop(30);
//   ValueId x = b.loopState(x0, "x");
//   ValueId gamma = b.schedule("gamma", gammas);
//   ValueId v = b.op(Op::Axpby, {one, x, minusGamma, grad});
//   ValueId next = b.op(Op::Prox, {v, gamma}, {{"fn", std::string("l1")}});
//   b.carry(x, next);
//   b.endLoop();
//   b.output("x", b.loopResult(x));
#pragma once

#include "ir/graph.h"

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace podm::ir {

class Builder {
public:
  // Builds into `graph`, which must be empty.
  explicit Builder(Graph& graph);

  Region region() const { return region_; }
  Graph& graph() { return g_; }

  // The generic entry point (passes that clone nodes and the loader use it): any op, including
  // sources (`declared` gives their type) and loop ops. Attributes may omit defaults.
  ValueId create(Op op, std::span<const ValueId> operands, const Attrs& attrs = {},
                 std::optional<Type> declared = std::nullopt, std::string label = {});
  ValueId op(Op op, std::initializer_list<ValueId> operands, const Attrs& attrs = {},
             std::string label = {});
  // By name, for tools and tests ("conv2d"); unknown names throw.
  ValueId op(std::string_view opName, std::initializer_list<ValueId> operands,
             const Attrs& attrs = {}, std::string label = {});

  ValueId input(std::string name, Type type);
  // values: numel floats for f32, 2*numel interleaved (re, im) for c64.
  ValueId constant(Type type, std::vector<float> values, std::string label = {});
  ValueId scalar(float value, std::string label = {});

  // The stage loop: beginLoop, then loop states / schedules / body nodes / monitors, carries and
  // an optional stop predicate, then endLoop; Post nodes use loopResult to read final states.
  void beginLoop(int64_t stages);
  ValueId loopState(ValueId init, std::string name);
  ValueId schedule(std::string name, std::vector<double> values);
  ValueId monitor(std::string name, ValueId value);
  void carry(ValueId state, ValueId next);
  void stopWhen(ValueId predicate);
  void endLoop();
  ValueId loopResult(ValueId state);

  void output(std::string name, ValueId value);

private:
  Graph& g_;
  Region region_ = Region::Pre;
};

// The check shared by the builder and the verifier: is a node with these fields valid at
// position `index` of `g` (earlier nodes only are consulted)? Returns its result type; throws
// IrError naming the node otherwise. `attrs` must already be complete (see completeAttrs).
Type checkNode(const Graph& g, uint32_t index, Op op, Region region,
               std::span<const ValueId> operands, const Attrs& attrs,
               const std::optional<Type>& declared, std::string_view label);

// "%12 conv2d \"x_A\"": how messages name a node.
std::string describeNode(uint32_t index, Op op, std::string_view label);

} // namespace podm::ir
