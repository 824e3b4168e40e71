// Rebuilding a graph after a pass decided what to drop, move or fold (see rebuild.h).
#include "compiler/passes/rebuild.h"

#include "ir/builder.h"
#include "ir/errors.h"

namespace podm::passes {

Rewrite::Rewrite(const ir::Graph& g) : keep(g.size(), true), region(g.size()) {
  for (uint32_t i = 0; i < g.size(); ++i)
    region[i] = g.nodes()[i].region;
}

bool Rewrite::changes(const ir::Graph& g) const {
  if (!constants.empty() || !aliases.empty() || !replacements.empty())
    return true;
  for (uint32_t i = 0; i < g.size(); ++i)
    if (!keep[i] || region[i] != g.nodes()[i].region)
      return true;
  return false;
}

ir::Graph rebuild(const ir::Graph& g, const Rewrite& rw) {
  ir::Graph out(g.name());
  ir::Builder b(out);
  std::vector<ir::ValueId> map(g.size());
  auto remap = [&](ir::ValueId v) {
    if (!map[v.index])
      throw ir::IrError("pass rebuild: %" + std::to_string(v.index) +
                        " is used but was removed or not yet placed");
    return map[v.index];
  };
  auto emit = [&](uint32_t i) {
    const ir::Node& n = g.nodes()[i];
    if (auto a = rw.aliases.find(i); a != rw.aliases.end()) {
      map[i] = remap(ir::ValueId{a->second});
      return;
    }
    if (auto c = rw.constants.find(i); c != rw.constants.end()) {
      map[i] = b.create(ir::Op::Constant, {}, ir::Attrs{{"value", c->second}}, n.type, n.label);
      return;
    }
    if (auto r = rw.replacements.find(i); r != rw.replacements.end()) {
      std::vector<ir::ValueId> ops;
      for (ir::ValueId o : r->second.operands)
        ops.push_back(remap(o));
      map[i] = b.create(r->second.op, ops, r->second.attrs, std::nullopt, n.label);
      return;
    }
    std::vector<ir::ValueId> ops;
    for (ir::ValueId o : n.operands)
      ops.push_back(remap(o));
    std::optional<ir::Type> declared;
    if (n.info().has(ir::trait::Source))
      declared = n.type;
    map[i] = b.create(n.op, ops, n.attrs, declared, n.label);
  };
  for (ir::Region r : {ir::Region::Pre, ir::Region::Body, ir::Region::Post}) {
    if (r == ir::Region::Body && g.loop())
      b.beginLoop(g.loop()->stages);
    for (uint32_t i = 0; i < g.size(); ++i)
      if (rw.keep[i] && rw.region[i] == r)
        emit(i);
    if (r == ir::Region::Body && g.loop()) {
      for (const ir::Carry& c : g.loop()->carries)
        if (rw.keep[c.state.index])
          b.carry(remap(c.state), remap(c.next));
      if (g.loop()->stop)
        b.stopWhen(remap(g.loop()->stop));
      b.endLoop();
    }
  }
  for (const ir::Output& o : g.outputs())
    b.output(o.name, remap(o.value));
  return out;
}

} // namespace podm::passes
