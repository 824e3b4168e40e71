// Graph queries.
#include "ir/graph.h"

#include "ir/errors.h"

namespace podm::ir {

const char* regionName(Region r) {
  switch (r) {
  case Region::Pre:
    return "pre";
  case Region::Body:
    return "body";
  case Region::Post:
    return "post";
  }
  return "?";
}

const Node& Graph::node(ValueId v) const {
  if (v.index >= nodes_.size())
    throw IrError("value %" + std::to_string(v.index) + " is not defined in graph '" + name_ +
                  "' (" + std::to_string(nodes_.size()) + " nodes)");
  return nodes_[v.index];
}

Node& Graph::mutableNode(ValueId v) {
  (void)node(v); // bounds check with the same message
  return nodes_[v.index];
}

std::vector<ValueId> Graph::inputs() const {
  std::vector<ValueId> out;
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].op == Op::Input)
      out.push_back(ValueId{i});
  return out;
}

std::optional<ValueId> Graph::findInput(std::string_view name) const {
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].op == Op::Input && nodes_[i].attrs.getString("name") == name)
      return ValueId{i};
  return std::nullopt;
}

std::optional<ValueId> Graph::findOutput(std::string_view name) const {
  for (const Output& o : outputs_)
    if (o.name == name)
      return o.value;
  return std::nullopt;
}

const Carry* Graph::carryOf(ValueId state) const {
  if (!loop_)
    return nullptr;
  for (const Carry& c : loop_->carries)
    if (c.state == state)
      return &c;
  return nullptr;
}

std::pair<uint32_t, uint32_t> Graph::regionRange(Region r) const {
  uint32_t begin = 0;
  while (begin < nodes_.size() && nodes_[begin].region < r)
    ++begin;
  uint32_t end = begin;
  while (end < nodes_.size() && nodes_[end].region == r)
    ++end;
  return {begin, end};
}

bool Graph::operator==(const Graph& o) const {
  if (name_ != o.name_ || nodes_.size() != o.nodes_.size() || loop_ != o.loop_ ||
      outputs_ != o.outputs_)
    return false;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& a = nodes_[i];
    const Node& b = o.nodes_[i];
    if (a.op != b.op || a.region != b.region || a.type != b.type || a.operands != b.operands ||
        a.attrs != b.attrs || a.label != b.label)
      return false;
  }
  return true;
}

std::vector<ValueId> liveRoots(const Graph& g) {
  std::vector<ValueId> roots;
  for (const Output& o : g.outputs())
    roots.push_back(o.value);
  if (g.loop()) {
    for (const Carry& c : g.loop()->carries)
      roots.push_back(c.next);
    if (g.loop()->stop)
      roots.push_back(g.loop()->stop);
  }
  for (uint32_t i = 0; i < g.size(); ++i)
    if (g.nodes()[i].info().has(trait::Effect))
      roots.push_back(ValueId{i});
  return roots;
}

} // namespace podm::ir
