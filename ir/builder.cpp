// The validating builder and the node check it shares with the verifier.
#include "ir/builder.h"

#include "ir/errors.h"

#include <algorithm>

namespace podm::ir {
namespace {

bool regionAllowed(RegionRule rule, Region r) {
  switch (rule) {
  case RegionRule::Any:
    return true;
  case RegionRule::PreOnly:
    return r == Region::Pre;
  case RegionRule::BodyOnly:
    return r == Region::Body;
  case RegionRule::PostOnly:
    return r == Region::Post;
  }
  return false;
}

const char* regionRuleText(RegionRule rule) {
  switch (rule) {
  case RegionRule::Any:
    return "anywhere";
  case RegionRule::PreOnly:
    return "before the stage loop";
  case RegionRule::BodyOnly:
    return "in the stage loop body";
  case RegionRule::PostOnly:
    return "after the stage loop";
  }
  return "?";
}

// The string attribute `key` of every node with op `op`, to keep names unique.
bool nameTaken(const Graph& g, uint32_t before, Op op, const std::string& name) {
  for (uint32_t i = 0; i < before && i < g.size(); ++i)
    if (g.nodes()[i].op == op && g.nodes()[i].attrs.getString("name") == name)
      return true;
  return false;
}

} // namespace

std::string describeNode(uint32_t index, Op op, std::string_view label) {
  std::string s = "%" + std::to_string(index) + " " + std::string(opName(op));
  if (!label.empty())
    s += " \"" + std::string(label) + "\"";
  return s;
}

Type checkNode(const Graph& g, uint32_t index, Op op, Region region,
               std::span<const ValueId> operands, const Attrs& attrs,
               const std::optional<Type>& declared, std::string_view label) {
  const OpInfo& info = opInfo(op);
  const std::string who = describeNode(index, op, label) + ": ";
  if (!regionAllowed(info.region, region))
    throw IrError(who, std::string("this op may only appear ") + regionRuleText(info.region) +
                           ", not in the " + regionName(region) + " region");
  if (info.variadic() ? operands.size() < info.arity() : operands.size() != info.arity())
    throw IrError(who, std::string("takes ") + (info.variadic() ? "at least " : "") +
                           std::to_string(info.arity()) + " operand" +
                           (info.arity() == 1 ? "" : "s") + ", got " +
                           std::to_string(operands.size()));
  if (info.has(trait::Source) != declared.has_value())
    throw IrError(who, (declared ? "only inputs and constants take a declared type"
                                 : "needs a declared type"));
  std::vector<Type> types;
  types.reserve(operands.size());
  for (size_t i = 0; i < operands.size(); ++i) {
    ValueId v = operands[i];
    const std::string what = "operand " + std::to_string(i) + " (%" +
                             (v.valid() ? std::to_string(v.index) : std::string("none")) + ")";
    if (!v.valid() || v.index >= index)
      throw IrError(who, what + " is not defined before this node");
    const Node& def = g.nodes()[v.index];
    // Visibility: the loop body sees Pre values; Post sees Pre values and loop results. A body
    // value is only reachable after the loop through loop_result of a loop_state.
    bool visible = false;
    if (op == Op::LoopResult)
      visible = def.op == Op::LoopState;
    else if (op == Op::LoopState)
      visible = def.region == Region::Pre;
    else if (region == Region::Pre)
      visible = def.region == Region::Pre;
    else if (region == Region::Body)
      visible = def.region != Region::Post;
    else
      visible = def.region != Region::Body;
    if (!visible)
      throw IrError(who, what + ", a " + std::string(def.info().name) + " in the " +
                             regionName(def.region) + " region, is not visible here" +
                             (op == Op::LoopResult ? " (loop_result reads a loop_state)"
                              : op == Op::LoopState
                                  ? " (the initial value must come from before the loop)"
                              : region == Region::Post ? " (read final states with loop_result)"
                                                       : ""));
    if (auto expected = operandMismatch(info.operandLetter(i), def.type))
      throw IrError(who, what + " must be " + std::string(*expected) + ", got " + def.type.str());
    types.push_back(def.type);
  }
  try {
    return info.infer(TypeContext{info, types, attrs, declared});
  } catch (const IrError& e) {
    throw IrError(who, e.detail());
  }
}

Builder::Builder(Graph& graph) : g_(graph) {
  if (g_.size() != 0 || g_.loop_ || !g_.outputs_.empty())
    throw IrError("Builder needs an empty graph");
}

ValueId Builder::create(Op op, std::span<const ValueId> operands, const Attrs& attrs,
                        std::optional<Type> declared, std::string label) {
  const uint32_t index = static_cast<uint32_t>(g_.nodes_.size());
  Attrs full;
  try {
    full = completeAttrs(opInfo(op), attrs);
  } catch (const IrError& e) {
    throw IrError(describeNode(index, op, label) + ": ", e.detail());
  }
  Type type = checkNode(g_, index, op, region_, operands, full, declared, label);
  const std::string who = describeNode(index, op, label) + ": ";
  // Names that monitors, schedules, states and inputs are reported or bound by must be unique.
  if (op == Op::Input || op == Op::Monitor || op == Op::Schedule || op == Op::LoopState ||
      op == Op::Param) {
    const std::string& name = full.getString("name");
    if (name.empty())
      throw IrError(who, "needs a non-empty name");
    if (nameTaken(g_, index, op, name))
      throw IrError(who, "another " + std::string(opName(op)) + " is already named '" + name + "'");
  }
  if (op == Op::Schedule) {
    size_t n = full.getFloats("values").size();
    if (static_cast<int64_t>(n) != g_.loop_->stages)
      throw IrError(who, "has " + std::to_string(n) + " values for a loop of " +
                             std::to_string(g_.loop_->stages) + " stages");
  }
  g_.nodes_.push_back(Node{
      op, region_, type, {operands.begin(), operands.end()}, std::move(full), std::move(label)});
  return ValueId{index};
}

ValueId Builder::op(Op op, std::initializer_list<ValueId> operands, const Attrs& attrs,
                    std::string label) {
  if (opInfo(op).has(trait::Source))
    throw IrError(std::string(opName(op)) + ": use Builder::input / constant for sources");
  return create(op, std::span<const ValueId>(operands.begin(), operands.size()), attrs,
                std::nullopt, std::move(label));
}

ValueId Builder::op(std::string_view opName, std::initializer_list<ValueId> operands,
                    const Attrs& attrs, std::string label) {
  const OpInfo* info = findOp(opName);
  if (!info)
    throw IrError("unknown op '" + std::string(opName) + "'");
  return op(info->op, operands, attrs, std::move(label));
}

ValueId Builder::input(std::string name, Type type) {
  return create(Op::Input, {}, Attrs{{"name", std::move(name)}}, type);
}

ValueId Builder::constant(Type type, std::vector<float> values, std::string label) {
  return create(Op::Constant, {}, Attrs{{"value", TensorData(std::move(values))}}, type,
                std::move(label));
}

ValueId Builder::scalar(float value, std::string label) {
  return constant(Type::scalar(), {value}, std::move(label));
}

void Builder::beginLoop(int64_t stages) {
  if (g_.loop_)
    throw IrError("the graph already has a stage loop (one per graph)");
  if (stages < 0 || stages > 1'000'000)
    throw IrError("a stage loop needs 0 to 1000000 stages, got " + std::to_string(stages));
  g_.loop_ = StageLoop{stages, {}, {}};
  region_ = Region::Body;
}

ValueId Builder::loopState(ValueId init, std::string name) {
  const ValueId ops[] = {init};
  return create(Op::LoopState, ops, Attrs{{"name", std::move(name)}});
}

ValueId Builder::schedule(std::string name, std::vector<double> values) {
  if (!g_.loop_)
    throw IrError("schedule '" + name + "' needs a stage loop (call beginLoop first)");
  return create(Op::Schedule, {}, Attrs{{"name", std::move(name)}, {"values", std::move(values)}});
}

ValueId Builder::monitor(std::string name, ValueId value) {
  const ValueId ops[] = {value};
  return create(Op::Monitor, ops, Attrs{{"name", std::move(name)}});
}

void Builder::carry(ValueId state, ValueId next) {
  if (region_ != Region::Body)
    throw IrError("carry: only inside the stage loop (between beginLoop and endLoop)");
  const Node& s = g_.node(state);
  if (s.op != Op::LoopState)
    throw IrError("carry: %" + std::to_string(state.index) + " is a " + std::string(s.info().name) +
                  ", not a loop_state");
  const Node& n = g_.node(next);
  if (n.region == Region::Post)
    throw IrError("carry: the next value %" + std::to_string(next.index) +
                  " must be computed before the loop ends");
  if (n.type != s.type)
    throw IrError("carry: state '" + s.attrs.getString("name") + "' is " + s.type.str() +
                  " but the next value %" + std::to_string(next.index) + " is " + n.type.str());
  if (g_.carryOf(state))
    throw IrError("carry: state '" + s.attrs.getString("name") + "' already has a next value");
  g_.loop_->carries.push_back(Carry{state, next});
}

void Builder::stopWhen(ValueId predicate) {
  if (region_ != Region::Body)
    throw IrError("stopWhen: only inside the stage loop");
  const Node& p = g_.node(predicate);
  if (p.region != Region::Body || !p.type.isScalar())
    throw IrError("stopWhen: the predicate must be a scalar computed in the loop body, got %" +
                  std::to_string(predicate.index) + " (" + p.type.str() + ", " +
                  regionName(p.region) + ")");
  if (g_.loop_->stop)
    throw IrError("stopWhen: the loop already has a stop predicate");
  g_.loop_->stop = predicate;
}

void Builder::endLoop() {
  if (region_ != Region::Body)
    throw IrError("endLoop without beginLoop");
  for (uint32_t i = 0; i < g_.size(); ++i) {
    const Node& n = g_.nodes_[i];
    if (n.op == Op::LoopState && !g_.carryOf(ValueId{i}))
      throw IrError("endLoop: loop state '" + n.attrs.getString("name") + "' (%" +
                    std::to_string(i) + ") has no carry");
  }
  region_ = Region::Post;
}

ValueId Builder::loopResult(ValueId state) {
  const ValueId ops[] = {state};
  return create(Op::LoopResult, ops);
}

void Builder::output(std::string name, ValueId value) {
  const Node& n = g_.node(value);
  if (n.region == Region::Body)
    throw IrError("output '" + name + "': %" + std::to_string(value.index) +
                  " is a loop body value; output its loop_result instead");
  if (name.empty())
    throw IrError("outputs need a name");
  if (g_.findOutput(name))
    throw IrError("output '" + name + "' is defined twice");
  g_.outputs_.push_back(Output{std::move(name), value});
}

} // namespace podm::ir
