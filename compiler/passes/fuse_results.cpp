// Multi-result fusion: after fuse_elementwise, the elementwise nodes and reductions that read a
// fused program's value, and otherwise only values it could already read, join that program, which
// then returns several results (ir/fused_program.h, `return`); each joined node whose value is
// still needed becomes a `fused_output` of the program. One pass over the data instead of one per
// node: the FISTA step's x+ and y+ = x+ + beta (x+ - x) in one pass, and with monitors also
// ||x+ - x||^2, ||x||^2 and ||x+||_1, as a hand-written loop does (issue 18).
//
// A node joins only when it reads a value of the group, or, for a reduction (whose result costs no
// memory), a tensor the program already reads (||x||^2 beside x+ - x): a joined node is computed
// earlier than before, and an image-sized result computed early would hold memory longer. Joined
// nodes keep their float expressions and order, so results are bitwise those of the separate
// nodes; a program with a reduction runs on one thread (fused_kernel.cpp), so sums keep their
// order.
#include "compiler/passes/fused_forms.h"
#include "compiler/passes/passes.h"
#include "compiler/passes/rebuild.h"

#include <algorithm>
#include <map>
#include <set>

namespace podm::passes {
namespace {

using ir::Op;

constexpr size_t kMaxInputs = 16;       // as fuse_elementwise
constexpr size_t kMaxInstructions = 64; // the CPU kernel's limit

// The program of one node as a one-instruction program on its operands, or its own program.
std::optional<ir::FusedProgram> programOf(const ir::Graph& g, const ir::Node& n) {
  if (n.op == Op::FusedElementwise) {
    ir::FusedProgram p = ir::parseFusedProgram(n.attrs.getString("program"), n.operands.size());
    if (!p.returns.empty())
      return std::nullopt;
    return p;
  }
  const FusedForm* f = formOf(elementwiseForms(), n.op);
  if (!f)
    f = formOf(reductionForms(), n.op);
  if (!f || !allReal(g, n) || !finiteLiterals(n, *f))
    return std::nullopt;
  ir::FusedProgram p;
  uint32_t k = 0;
  p.instrs.push_back(instructionOf(n, *f, [&](ir::ValueId) {
    ir::FusedArg a;
    a.index = k++;
    return a;
  }));
  return p;
}

struct Group {
  uint32_t root;
  ir::Type type;                            // the tensors of the pass
  ir::FusedProgram program;                 // without `return` yet
  std::vector<ir::ValueId> inputs;          // operands
  std::map<uint32_t, uint32_t> resultInstr; // member -> the instruction computing it
  std::vector<uint32_t> members;            // root first, then joined nodes in index order
};

struct ResultFuser {
  const ir::Graph& g;
  std::vector<std::vector<uint32_t>> readers;
  std::vector<bool> external, taken;

  explicit ResultFuser(const ir::Graph& graph)
      : g(graph), readers(graph.size()), external(readByExecutor(graph)),
        taken(graph.size(), false) {
    for (uint32_t i = 0; i < g.size(); ++i)
      for (ir::ValueId o : g.nodes()[i].operands)
        readers[o.index].push_back(i);
  }

  // Operand `o` as seen from the group's program: a member's instruction, or an input.
  ir::FusedArg argFor(Group& grp, ir::ValueId o) {
    ir::FusedArg a;
    if (auto m = grp.resultInstr.find(o.index); m != grp.resultInstr.end()) {
      a.kind = ir::FusedArg::Kind::Temp;
      a.index = m->second;
      return a;
    }
    auto it = std::find(grp.inputs.begin(), grp.inputs.end(), o);
    a.index = static_cast<uint32_t>(it - grp.inputs.begin());
    if (it == grp.inputs.end())
      grp.inputs.push_back(o);
    return a;
  }

  // Can node c join the group (see the file comment)?
  bool joins(const Group& grp, uint32_t c, const ir::FusedProgram& program) const {
    const ir::Node& n = g.nodes()[c];
    if (taken[c] || n.region != g.nodes()[grp.root].region)
      return false;
    bool readsMember = false, readsInput = false;
    for (ir::ValueId o : n.operands) {
      const bool member = grp.resultInstr.count(o.index) > 0;
      if (member && g.type(o).isScalar())
        return false; // a joined reduction's scalar is a result, never an argument
      if (g.type(o).isTensor() && g.type(o) != grp.type)
        return false;
      if (!member && o.index >= grp.root)
        return false; // not yet computed where the program runs
      readsMember |= member;
      readsInput |= g.type(o).isTensor() &&
                    std::find(grp.inputs.begin(), grp.inputs.end(), o) != grp.inputs.end();
    }
    const bool reduction = program.reduction();
    if (!reduction && n.type != grp.type)
      return false;
    return readsMember || (reduction && readsInput);
  }

  void join(Group& grp, uint32_t c, const ir::FusedProgram& program) {
    const ir::Node& n = g.nodes()[c];
    const uint32_t base = static_cast<uint32_t>(grp.program.instrs.size());
    for (ir::FusedInstr in : program.instrs) {
      for (ir::FusedArg& a : in.args) {
        if (a.kind == ir::FusedArg::Kind::Temp)
          a.index += base;
        else if (a.kind == ir::FusedArg::Kind::Input)
          a = argFor(grp, n.operands[a.index]);
      }
      grp.program.instrs.push_back(std::move(in));
    }
    grp.resultInstr[c] = static_cast<uint32_t>(grp.program.instrs.size() - 1);
    grp.members.push_back(c);
  }

  // Grows a group from the fused node `root`; records the rewrite when anything joined.
  void grow(uint32_t root, Rewrite& rw) {
    const ir::Node& r = g.nodes()[root];
    std::optional<ir::FusedProgram> rootProgram = programOf(g, r);
    if (!rootProgram || !r.type.isTensor())
      return;
    Group grp{root, r.type, *rootProgram, r.operands, {}, {root}};
    grp.resultInstr[root] = static_cast<uint32_t>(grp.program.instrs.size() - 1);
    for (uint32_t c = root + 1; c < g.size(); ++c) {
      std::optional<ir::FusedProgram> p = programOf(g, g.nodes()[c]);
      if (!p || !joins(grp, c, *p))
        continue;
      Group next = grp;
      join(next, c, *p);
      if (next.inputs.size() > kMaxInputs || next.program.instrs.size() > kMaxInstructions)
        continue;
      taken[c] = true;
      grp = std::move(next);
    }
    if (grp.members.size() < 2)
      return;
    taken[root] = true;
    // Results: the root's value first, then every joined node read outside the group.
    std::set<uint32_t> inGroup(grp.members.begin(), grp.members.end());
    grp.program.returns.push_back(grp.resultInstr[root]);
    std::vector<std::pair<uint32_t, int64_t>> outputs; // member -> result index
    for (size_t k = 1; k < grp.members.size(); ++k) {
      const uint32_t m = grp.members[k];
      bool outside = external[m];
      for (uint32_t reader : readers[m])
        outside = outside || !inGroup.count(reader);
      if (!outside) {
        rw.keep[m] = false;
        continue;
      }
      outputs.emplace_back(m, static_cast<int64_t>(grp.program.returns.size()));
      grp.program.returns.push_back(grp.resultInstr[m]);
    }
    rw.replacements[root] =
        Rewrite::Replacement{Op::FusedElementwise, grp.inputs,
                             ir::Attrs{{"program", ir::printFusedProgram(grp.program)}}};
    for (const auto& [m, index] : outputs)
      rw.replacements[m] = Rewrite::Replacement{
          Op::FusedOutput,
          {ir::ValueId{root}},
          ir::Attrs{{"index", index},
                    {"reduction", int64_t{g.nodes()[m].type.isScalar() ? 1 : 0}}}};
  }
};

} // namespace

ir::Graph fuseResults(const ir::Graph& g) {
  ResultFuser f(g);
  Rewrite rw(g);
  for (uint32_t i = 0; i < g.size(); ++i)
    if (g.nodes()[i].op == Op::FusedElementwise && !f.taken[i])
      f.grow(i, rw);
  return rw.changes(g) ? rebuild(g, rw) : g;
}

} // namespace podm::passes
