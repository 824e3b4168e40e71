// Elementwise fusion: a chain of elementwise f32 ops (add, sub, mul, div, fma, axpby, scale, neg,
// abs, ..., scalars broadcasting), optionally ending in a reduction (norm2sq, sum, dot, maxabs),
// becomes one `fused_elementwise` node whose `program` attribute lists the ops in order
// (ir/fused_program.h). The CPU evaluates it in one pass over the data, in cache-sized
// blocks, instead of one full memory pass per op.
//
// A node joins the chain of its reader when that reader is its one use (or when every one of its
// uses is in the chain), in the same region, and it has the chain's tensor shape. A node with
// several readers is recomputed inside each chain that reads it when it is one op on values no
// chain can absorb (sub(x_G, x) read by ψ and by
// ||x_G - x||): a recomputation costs less than writing the value and reading it back; it is
// dropped when every reader recomputes it. Anything else used twice, read by the executor
// (outputs, carries, the stop test) or not elementwise stays a separate node and becomes an input.
// The program computes exactly the float expression of each op it replaces, in the same order (no
// reassociation: results are bitwise those of the unfused graph, reductions included).
//
// Likewise dot(abs2(a * b + c), w) over c64 spectra (Parseval's ||A x + c||^2, the phi monitor of
// a circulant model) becomes one `spectrum_energy` pass.
//
// The same pass folds a spectrum product into the inverse transform that reads it: irfft2(a * b)
// and irfft2(a / b), for a c64 half spectrum a and b of its shape used nowhere else, become one
// `irfft2_product` node, whose kernel writes the product straight into the transform's input
// (the ∇f and F-step solves of a circulant model: rfft2, product with a spectrum, irfft2).
//
// The unfused graph stays the reference: the lowering never emits fused ops, and a backend
// without the fused kernel runs it on the CPU fallback.
#include "compiler/passes/fused_forms.h"
#include "compiler/passes/passes.h"
#include "compiler/passes/rebuild.h"
#include "ir/fused_program.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

namespace podm::passes {
namespace {

using ir::Op;

// Operands of a fused node; more would make its kernel's argument list long for little gain.
constexpr size_t kMaxInputs = 16;

struct Fuser {
  const ir::Graph& g;
  Rewrite rw;
  std::vector<uint32_t> uses;
  std::vector<bool> external, absorbed;
  std::vector<uint32_t> recomputed; // per node: uses replaced by recomputation in a chain

  explicit Fuser(const ir::Graph& graph)
      : g(graph), rw(graph), uses(graph.size(), 0), external(readByExecutor(graph)),
        absorbed(graph.size(), false), recomputed(graph.size(), 0) {
    for (const ir::Node& n : g.nodes())
      for (ir::ValueId o : n.operands)
        uses[o.index] += 1;
  }

  // An elementwise f32 op producing a tensor of `type`.
  const FusedForm* elementwise(uint32_t i, const ir::Type& type) const {
    const ir::Node& n = g.nodes()[i];
    const FusedForm* f = formOf(elementwiseForms(), n.op);
    if (!f || !allReal(g, n) || n.type != type || !finiteLiterals(n, *f))
      return nullptr;
    return f;
  }

  // A node read several times that each reading chain may recompute: one elementwise op whose
  // operands are values no chain absorbs (so they stay nodes the chains can read).
  bool recomputable(uint32_t i, const ir::Type& type, ir::Region region) const {
    const ir::Node& n = g.nodes()[i];
    if (uses[i] < 2 || external[i] || n.region != region || !elementwise(i, type))
      return false;
    for (ir::ValueId o : n.operands)
      if (g.node(o).region == region && elementwise(o.index, g.type(o)))
        return false;
    return true;
  }

  // Members of the chain ending at `root`: operands that are used once (by the chain), in the
  // root's region, and elementwise of the chain's tensor type, and recomputable ones.
  void collect(uint32_t i, const ir::Type& type, ir::Region region,
               std::vector<uint32_t>& members) const {
    for (ir::ValueId o : g.nodes()[i].operands) {
      const ir::Node& n = g.node(o);
      if (std::find(members.begin(), members.end(), o.index) != members.end())
        continue;
      if (recomputable(o.index, type, region)) {
        members.push_back(o.index);
        continue;
      }
      if (uses[o.index] != 1 || external[o.index] || absorbed[o.index] || n.region != region ||
          !elementwise(o.index, type))
        continue;
      members.push_back(o.index);
      collect(o.index, type, region, members);
    }
  }

  // Grows `members` by the nodes read several times, every time by the chain (soft thresholding
  // reads v in abs and in sign), with their own single-use producers: they are computed once
  // inside the program. Returns those nodes.
  std::vector<uint32_t> absorbSharedInside(const ir::Type& type, ir::Region region,
                                           std::vector<uint32_t>& members) const {
    std::vector<uint32_t> shared;
    auto isMember = [&](uint32_t c) {
      return std::find(members.begin(), members.end(), c) != members.end();
    };
    for (bool grew = true; grew;) {
      grew = false;
      for (size_t k = 0; k < members.size() && !grew; ++k)
        for (ir::ValueId o : g.nodes()[members[k]].operands) {
          const uint32_t c = o.index;
          if (uses[c] < 2 || isMember(c) || external[c] || absorbed[c] ||
              g.node(o).region != region || !elementwise(c, type))
            continue;
          uint32_t reads = 0;
          for (uint32_t m : members)
            for (ir::ValueId p : g.nodes()[m].operands)
              reads += p.index == c;
          if (reads != uses[c])
            continue;
          members.push_back(c);
          shared.push_back(c);
          collect(c, type, region, members);
          grew = true;
          break;
        }
    }
    return shared;
  }

  // irfft2(mul/div(a, b)) -> irfft2_product(a, b).
  void fuseInverse(uint32_t root) {
    const ir::Node& r = g.nodes()[root];
    const uint32_t p = r.operands[0].index;
    const ir::Node& prod = g.nodes()[p];
    if ((prod.op != Op::Mul && prod.op != Op::Div) || uses[p] != 1 || external[p] ||
        prod.region != r.region)
      return;
    ir::ValueId a = prod.operands[0], b = prod.operands[1];
    if (prod.op == Op::Mul && g.type(a).elem != ir::ElemType::C64)
      std::swap(a, b); // a real spectrum times a complex one: the product commutes exactly
    if (g.type(a).elem != ir::ElemType::C64 || !g.type(b).isTensor() ||
        g.type(b).dims != g.type(a).dims)
      return;
    rw.keep[p] = false;
    absorbed[p] = absorbed[root] = true;
    rw.replacements[root] =
        Rewrite::Replacement{Op::Irfft2Product,
                             {a, b},
                             ir::Attrs{{"op", std::string(prod.op == Op::Mul ? "mul" : "div")},
                                       {"width", r.attrs.getInt("width")}}};
  }

  // A single-use node of op `op` in `region`, feeding only the chain being fused.
  bool privateNode(ir::ValueId v, Op op, ir::Region region) const {
    const ir::Node& n = g.node(v);
    return n.op == op && uses[v.index] == 1 && !external[v.index] && !absorbed[v.index] &&
           n.region == region;
  }

  // dot(abs2(a * b + c), w) and dot(abs2(a * b), w) on c64 spectra -> spectrum_energy(a, b, w, c).
  void fuseEnergy(uint32_t root) {
    const ir::Node& r = g.nodes()[root];
    for (size_t side : {size_t{0}, size_t{1}}) {
      const ir::ValueId abs2 = r.operands[side], w = r.operands[1 - side];
      if (!privateNode(abs2, Op::Abs2, r.region))
        continue;
      ir::ValueId s = g.node(abs2).operands[0];
      std::vector<ir::ValueId> dropped{abs2};
      std::optional<ir::ValueId> offset;
      if (privateNode(s, Op::Add, r.region)) {
        const ir::Node& add = g.node(s);
        dropped.push_back(s);
        const bool first = g.node(add.operands[0]).op == Op::Mul;
        offset = add.operands[first ? 1 : 0];
        s = add.operands[first ? 0 : 1];
      }
      if (!privateNode(s, Op::Mul, r.region))
        continue;
      const ir::Node& mul = g.node(s);
      dropped.push_back(s);
      std::vector<ir::ValueId> operands{mul.operands[0], mul.operands[1], w};
      if (offset)
        operands.push_back(*offset);
      bool spectra = true;
      for (size_t i = 0; i < operands.size(); ++i)
        spectra = spectra &&
                  g.type(operands[i]).elem == (i == 2 ? ir::ElemType::F32 : ir::ElemType::C64) &&
                  g.type(operands[i]).dims == g.type(operands[0]).dims;
      if (!spectra)
        continue;
      for (ir::ValueId d : dropped) {
        rw.keep[d.index] = false;
        absorbed[d.index] = true;
      }
      absorbed[root] = true;
      rw.replacements[root] = Rewrite::Replacement{Op::SpectrumEnergy, operands, {}};
      return;
    }
  }

  void fuse(uint32_t root) {
    const ir::Node& r = g.nodes()[root];
    const FusedForm* rootForm = formOf(reductionForms(), r.op);
    ir::Type type;
    if (rootForm) {
      if (!allReal(g, r))
        return;
      type = g.type(r.operands[0]);
      for (ir::ValueId o : r.operands)
        if (g.type(o) != type || !type.isTensor())
          return;
    } else {
      if (!r.type.isTensor() || !(rootForm = elementwise(root, r.type)))
        return;
      type = r.type;
    }
    std::vector<uint32_t> members{root};
    collect(root, type, r.region, members);
    const std::vector<uint32_t> shared = absorbSharedInside(type, r.region, members);
    if (members.size() < 2)
      return;
    std::sort(members.begin(), members.end()); // index order is a topological order

    ir::FusedProgram program;
    std::map<uint32_t, uint32_t> temp;      // member -> instruction
    std::vector<ir::ValueId> inputs;        // operands of the fused node
    std::map<uint32_t, uint32_t> inputSlot; // value -> input index
    for (uint32_t m : members) {
      const ir::Node& n = g.nodes()[m];
      const FusedForm& f = m == root ? *rootForm : *elementwise(m, type);
      ir::FusedInstr in = instructionOf(n, f, [&](ir::ValueId o) {
        ir::FusedArg arg;
        if (auto t = temp.find(o.index); t != temp.end()) {
          arg.kind = ir::FusedArg::Kind::Temp;
          arg.index = t->second;
        } else {
          auto [it, added] = inputSlot.emplace(o.index, static_cast<uint32_t>(inputs.size()));
          if (added)
            inputs.push_back(o);
          arg.index = it->second;
        }
        return arg;
      });
      temp[m] = static_cast<uint32_t>(program.instrs.size());
      program.instrs.push_back(std::move(in));
    }
    if (inputs.size() > kMaxInputs)
      return;
    for (uint32_t m : members) {
      const bool inside = std::find(shared.begin(), shared.end(), m) != shared.end();
      if (m != root && uses[m] > 1 && !inside) { // recomputed here: count the uses it replaces
        for (uint32_t reader : members)
          for (ir::ValueId o : g.nodes()[reader].operands)
            recomputed[m] += o.index == m;
        continue;
      }
      absorbed[m] = true;
      if (m != root)
        rw.keep[m] = false;
    }
    rw.replacements[root] =
        Rewrite::Replacement{Op::FusedElementwise, std::move(inputs),
                             ir::Attrs{{"program", ir::printFusedProgram(program)}}};
  }
};

} // namespace

ir::Graph fuseElementwise(const ir::Graph& g) {
  Fuser f(g);
  // Last to first: a chain is claimed by its last reader before its parts are looked at.
  for (uint32_t i = static_cast<uint32_t>(g.size()); i-- > 0;)
    if (!f.absorbed[i])
      switch (g.nodes()[i].op) {
      case Op::Irfft2:
        f.fuseInverse(i);
        break;
      case Op::Dot:
        f.fuseEnergy(i);
        if (!f.absorbed[i])
          f.fuse(i);
        break;
      default:
        f.fuse(i);
      }
  // A recomputed node every reader recomputes is no longer needed.
  for (uint32_t i = 0; i < g.size(); ++i)
    if (f.recomputed[i] > 0 && f.recomputed[i] == f.uses[i]) {
      f.rw.keep[i] = false;
      f.rw.replacements.erase(i);
    }
  return f.rw.changes(g) ? rebuild(g, f.rw) : g;
}

} // namespace podm::passes
