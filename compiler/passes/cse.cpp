// Common-subexpression elimination: two nodes of one region with the same op, operands,
// attributes and type compute the same value, so later uses read the first. The lowering emits
// such repeats freely (A x of ∇f and of Φ, γ·λ for every prox, small constants), which keeps it
// simple; this pass removes them. Sources other than small constants, control nodes (loop state,
// schedules, monitors) and effects are never merged.
#include "compiler/passes/passes.h"
#include "compiler/passes/rebuild.h"

#include <cstring>
#include <map>
#include <tuple>

namespace podm::passes {

namespace {

// Constants are merged when small: comparing megabytes of spectra is not worth it.
constexpr size_t kMaxMergedConstant = 64;

using Key = std::tuple<uint16_t, uint8_t, std::vector<uint32_t>, std::string>;

// An exact text form of an attribute value (floats by their bits), for the key.
std::string bits(double v) {
  uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  return std::to_string(u);
}

std::string attrText(const ir::AttrValue& v) {
  std::string out = std::to_string(v.index()) + ":";
  if (auto* i = std::get_if<int64_t>(&v))
    return out + std::to_string(*i);
  if (auto* d = std::get_if<double>(&v))
    return out + bits(*d);
  if (auto* s = std::get_if<std::string>(&v))
    return out + std::to_string(s->size()) + ":" + *s;
  if (auto* l = std::get_if<std::vector<double>>(&v)) {
    for (double d : *l)
      out += bits(d) + ",";
    return out;
  }
  if (auto* named = std::get_if<ir::NamedFloats>(&v)) {
    for (const auto& [name, d] : *named)
      out += std::to_string(name.size()) + ":" + name + "=" + bits(d) + ",";
    return out;
  }
  // Tensor data: only constants carry it, and they are handled apart.
  return out + std::to_string(std::get<ir::TensorData>(v).hash());
}

} // namespace

ir::Graph eliminateCommonSubexpressions(const ir::Graph& g) {
  Rewrite rw(g);
  std::vector<uint32_t> canon(g.size());
  std::map<Key, uint32_t> seen;
  std::vector<std::pair<uint32_t, const ir::Node*>> constants; // small constants seen
  constexpr uint32_t kNever = ir::trait::Control | ir::trait::Effect | ir::trait::StageVarying;
  for (uint32_t i = 0; i < g.size(); ++i) {
    canon[i] = i;
    const ir::Node& n = g.nodes()[i];
    const ir::OpInfo& info = n.info();
    if ((info.traits & kNever) != 0)
      continue;
    if (n.op == ir::Op::Constant) {
      if (n.attrs.getData("value").size() > kMaxMergedConstant)
        continue;
      for (auto [j, other] : constants)
        if (other->region == n.region && other->type == n.type && other->attrs == n.attrs) {
          canon[i] = j;
          rw.aliases[i] = j;
          break;
        }
      if (canon[i] == i)
        constants.push_back({i, &n});
      continue;
    }
    if (info.has(ir::trait::Source))
      continue;
    std::vector<uint32_t> operands;
    for (ir::ValueId o : n.operands)
      operands.push_back(canon[o.index]);
    std::string attrs = n.type.str();
    for (const ir::Attr& a : n.attrs.all())
      attrs += "|" + a.name + "=" + attrText(a.value);
    Key key{static_cast<uint16_t>(n.op), static_cast<uint8_t>(n.region), operands, attrs};
    auto [it, inserted] = seen.emplace(key, i);
    if (!inserted) {
      canon[i] = it->second;
      rw.aliases[i] = it->second;
    }
  }
  // A node an output, carry or stop predicate names directly may be aliased too: rebuild remaps.
  return rw.changes(g) ? rebuild(g, rw) : g;
}

} // namespace podm::passes
