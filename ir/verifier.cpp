// Verification of finished graphs; the per-node rules are the builder's checkNode.
#include "ir/verifier.h"

#include "ir/builder.h"
#include "ir/errors.h"
#include "ir/fused_program.h"

#include <algorithm>
#include <set>

namespace podm::ir {
namespace {

std::string valueRef(ValueId v) {
  return v.valid() ? "%" + std::to_string(v.index) : std::string("<none>");
}

// A fused_output names a result of its operand's program, of that result's kind, in its region.
void checkFusedOutput(const Graph& g, const Node& n, const std::string& who,
                      std::vector<std::string>& errors) {
  const Node& fused = g.node(n.operands[0]);
  if (fused.op != Op::FusedElementwise || fused.region != n.region) {
    errors.push_back(who + "reads " + valueRef(n.operands[0]) +
                     ", which is not a fused_elementwise node of its region");
    return;
  }
  const FusedProgram program =
      parseFusedProgram(fused.attrs.getString("program"), fused.operands.size());
  const std::vector<uint32_t> results = program.results();
  const int64_t index = n.attrs.getInt("index");
  if (index >= static_cast<int64_t>(results.size()))
    errors.push_back(who + "result " + std::to_string(index) + " of a program with " +
                     std::to_string(results.size()));
  else if (program.isReduction(results[index]) != (n.attrs.getInt("reduction") != 0))
    errors.push_back(who + "reduction=" + std::to_string(n.attrs.getInt("reduction")) +
                     " but the program's result " + std::to_string(index) + " is " +
                     (program.isReduction(results[index]) ? "" : "not ") + "a reduction");
}

void checkNodes(const Graph& g, std::vector<std::string>& errors) {
  Region previous = Region::Pre;
  std::set<std::pair<Op, std::string>> names;
  for (uint32_t i = 0; i < g.size(); ++i) {
    const Node& n = g.nodes()[i];
    const std::string who = describeNode(i, n.op, n.label) + ": ";
    if (static_cast<size_t>(n.op) >= kOpCount) {
      errors.push_back("%" + std::to_string(i) + ": op code out of range");
      continue;
    }
    if (n.region < previous)
      errors.push_back(who + "the " + regionName(n.region) + " region must come before the " +
                       regionName(previous) + " region");
    previous = std::max(previous, n.region);
    if (n.region != Region::Pre && !g.loop())
      errors.push_back(who + "is in the " + regionName(n.region) +
                       " region but the graph has no stage loop");
    try {
      Attrs full = completeAttrs(n.info(), n.attrs);
      if (full != n.attrs)
        errors.push_back(who + "attributes with defaults must be stored explicitly");
      std::optional<Type> declared;
      if (n.info().has(trait::Source))
        declared = n.type;
      Type t = checkNode(g, i, n.op, n.region, n.operands, full, declared, n.label);
      if (t != n.type)
        errors.push_back(who + "stored type " + n.type.str() + " differs from the inferred " +
                         t.str());
    } catch (const IrError& e) {
      errors.push_back(e.what());
      continue;
    }
    if (n.op == Op::Input || n.op == Op::Monitor || n.op == Op::Schedule || n.op == Op::LoopState ||
        n.op == Op::Param) {
      const std::string& name = n.attrs.getString("name");
      if (name.empty() || !names.insert({n.op, name}).second)
        errors.push_back(who + "name '" + name + "' is empty or not unique among " +
                         std::string(opName(n.op)) + " nodes");
    }
    if (n.op == Op::FusedOutput)
      checkFusedOutput(g, n, who, errors);
    if (n.op == Op::Schedule && g.loop() &&
        static_cast<int64_t>(n.attrs.getFloats("values").size()) != g.loop()->stages)
      errors.push_back(who + "has " + std::to_string(n.attrs.getFloats("values").size()) +
                       " values for a loop of " + std::to_string(g.loop()->stages) + " stages");
  }
}

void checkLoop(const Graph& g, std::vector<std::string>& errors) {
  if (!g.loop())
    return;
  const StageLoop& loop = *g.loop();
  if (loop.stages < 0 || loop.stages > 1'000'000)
    errors.push_back("stage loop: " + std::to_string(loop.stages) + " stages is out of range");
  auto valid = [&](ValueId v) { return v.valid() && v.index < g.size(); };
  std::set<uint32_t> carried;
  for (const Carry& c : loop.carries) {
    if (!valid(c.state) || !valid(c.next)) {
      errors.push_back("carry " + valueRef(c.state) + " <- " + valueRef(c.next) +
                       ": refers to an undefined value");
      continue;
    }
    const Node& s = g.node(c.state);
    const Node& n = g.node(c.next);
    if (s.op != Op::LoopState)
      errors.push_back("carry " + valueRef(c.state) + ": not a loop_state");
    if (n.region == Region::Post)
      errors.push_back("carry " + valueRef(c.state) + " <- " + valueRef(c.next) +
                       ": the next value is computed after the loop");
    if (s.type != n.type)
      errors.push_back("carry " + valueRef(c.state) + " <- " + valueRef(c.next) + ": types " +
                       s.type.str() + " and " + n.type.str() + " differ");
    if (!carried.insert(c.state.index).second)
      errors.push_back("carry " + valueRef(c.state) + ": the state is carried twice");
  }
  for (uint32_t i = 0; i < g.size(); ++i)
    if (g.nodes()[i].op == Op::LoopState && !carried.count(i))
      errors.push_back("loop state %" + std::to_string(i) + " has no carry");
  if (loop.stop) {
    if (!valid(loop.stop))
      errors.push_back("stop predicate " + valueRef(loop.stop) + " is undefined");
    else if (g.node(loop.stop).region != Region::Body || !g.node(loop.stop).type.isScalar())
      errors.push_back("stop predicate " + valueRef(loop.stop) +
                       " must be a scalar of the loop body");
  }
}

void checkOutputs(const Graph& g, std::vector<std::string>& errors) {
  std::set<std::string> names;
  for (const Output& o : g.outputs()) {
    if (o.name.empty() || !names.insert(o.name).second)
      errors.push_back("output '" + o.name + "': empty or duplicate name");
    if (!o.value.valid() || o.value.index >= g.size())
      errors.push_back("output '" + o.name + "' refers to an undefined value");
    else if (g.node(o.value).region == Region::Body)
      errors.push_back("output '" + o.name + "' is a loop body value; use its loop_result");
  }
}

} // namespace

std::vector<std::string> verificationErrors(const Graph& g) {
  std::vector<std::string> errors;
  checkNodes(g, errors);
  checkLoop(g, errors);
  checkOutputs(g, errors);
  return errors;
}

void verify(const Graph& g) {
  std::vector<std::string> errors = verificationErrors(g);
  if (errors.empty())
    return;
  std::string message = "graph '" + g.name() + "' failed verification (" +
                        std::to_string(errors.size()) + " problem" +
                        (errors.size() == 1 ? "" : "s") + "):";
  for (size_t i = 0; i < errors.size() && i < 20; ++i)
    message += "\n  " + errors[i];
  if (errors.size() > 20)
    message += "\n  ...";
  throw IrError(message);
}

} // namespace podm::ir
