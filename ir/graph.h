// The operator graph: single-result nodes in one topologically ordered list, each in one of three
// regions -- Pre (runs once before the stage loop), Body (runs once per stage) and Post (runs once
// after it). The stage loop itself is data: a stage count, carries (loop_state <- next value) and
// an optional stop predicate; schedules, monitors and loop state are ordinary nodes (ops.def).
//
// Graphs are built only through Builder (builder.h), which validates every node, so a Graph that
// exists is well typed; verify() re-checks everything for graphs that passes have edited.
#pragma once

#include "ir/attr.h"
#include "ir/op_table.h"
#include "ir/types.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace podm::ir {

// A value is the result of the node with the same index (every node has exactly one result).
struct ValueId {
  static constexpr uint32_t kNone = UINT32_MAX;
  uint32_t index = kNone;

  bool valid() const { return index != kNone; }
  explicit operator bool() const { return valid(); }
  bool operator==(const ValueId&) const = default;
  auto operator<=>(const ValueId&) const = default;
};

enum class Region : uint8_t { Pre = 0, Body = 1, Post = 2 };
const char* regionName(Region r);

struct Node {
  Op op{};
  Region region = Region::Pre;
  Type type;
  std::vector<ValueId> operands;
  Attrs attrs;
  std::string label; // optional user-facing name ("x_A", "psi"); not semantic

  const OpInfo& info() const { return opInfo(op); }
};

// At the end of every stage, state takes the value of next (all carries at once).
struct Carry {
  ValueId state; // a loop_state node
  ValueId next;  // a Body or Pre value of the same type
  bool operator==(const Carry&) const = default;
};

struct StageLoop {
  int64_t stages = 0;
  std::vector<Carry> carries;
  ValueId stop; // optional Body scalar: the loop ends after a stage where it is nonzero
  bool operator==(const StageLoop&) const = default;
};

struct Output {
  std::string name;
  ValueId value;
  bool operator==(const Output&) const = default;
};

class Graph {
public:
  explicit Graph(std::string name = "graph") : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  std::span<const Node> nodes() const { return nodes_; }
  size_t size() const { return nodes_.size(); }
  const Node& node(ValueId v) const;
  const Type& type(ValueId v) const { return node(v).type; }
  const std::optional<StageLoop>& loop() const { return loop_; }
  std::span<const Output> outputs() const { return outputs_; }

  // Input nodes in definition order, and lookup by name.
  std::vector<ValueId> inputs() const;
  std::optional<ValueId> findInput(std::string_view name) const;
  std::optional<ValueId> findOutput(std::string_view name) const;
  // The carry whose state is `state`, or nullptr.
  const Carry* carryOf(ValueId state) const;
  // Index range [begin, end) of the nodes in a region (regions are contiguous and ordered).
  std::pair<uint32_t, uint32_t> regionRange(Region r) const;

  // For passes that edit a graph in place; run verify() afterwards.
  Node& mutableNode(ValueId v);
  std::optional<StageLoop>& mutableLoop() { return loop_; }
  std::vector<Output>& mutableOutputs() { return outputs_; }

  // Structural equality (used by the round-trip tests).
  bool operator==(const Graph& o) const;

private:
  friend class Builder;

  std::string name_;
  std::vector<Node> nodes_;
  std::optional<StageLoop> loop_;
  std::vector<Output> outputs_;
};

// The values a graph must compute: outputs, carried next values, the stop predicate and every node
// with an effect (monitors). Dead-node removal keeps what these reach.
std::vector<ValueId> liveRoots(const Graph& g);

} // namespace podm::ir
