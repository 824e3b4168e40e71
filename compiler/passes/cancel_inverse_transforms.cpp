// Inverse-transform cancellation: an orthonormal transform applied to its own inverse's result is
// that operand, T(T^-1 y) = y, also through a select whose two arms are both T^-1 of something:
//   T(select(c, T^-1 a, T^-1 b)) = select(c, a, b).
// The PODM lowering writes this for every prior on transform coefficients, g(W x): the step is
// x_G = W' prox(W v), and the monitor of phi(x+) then transforms x+ = select(check, x_G, x_fb)
// back to coefficients that the prox has just produced. The select form keeps the feedback
// arm lazy (runtime/exec_plan.cpp guards selects on one condition together).
//
// The result differs from the transform pair's by float rounding only (the pair is the identity
// in exact arithmetic; in floats it is not, by about 1e-7 relative).
#include "compiler/passes/passes.h"
#include "compiler/passes/rebuild.h"

namespace podm::passes {

namespace {

// Each op with its inverse: orthonormal transforms only (an adjoint is not an inverse in general).
struct InversePair {
  ir::Op transform, inverse;
};
constexpr InversePair kInversePairs[] = {
    {ir::Op::Dct2, ir::Op::Idct2},
    {ir::Op::Idct2, ir::Op::Dct2},
    {ir::Op::Haar, ir::Op::HaarInv},
    {ir::Op::HaarInv, ir::Op::Haar},
};

const InversePair* inversePairOf(ir::Op op) {
  for (const InversePair& p : kInversePairs)
    if (p.transform == op)
      return &p;
  return nullptr;
}

// Whether v is the inverse of `n`'s transform, with the same attributes (Haar's levels).
bool invertsNode(const ir::Graph& g, ir::ValueId v, const ir::Node& n, const InversePair& pair) {
  const ir::Node& m = g.node(v);
  return m.op == pair.inverse && m.attrs == n.attrs;
}

} // namespace

ir::Graph cancelInverseTransforms(const ir::Graph& g) {
  Rewrite rw(g);
  for (uint32_t i = 0; i < g.size(); ++i) {
    const ir::Node& n = g.nodes()[i];
    const InversePair* pair = inversePairOf(n.op);
    if (!pair)
      continue;
    const ir::ValueId operand = n.operands[0];
    if (invertsNode(g, operand, n, *pair)) {
      rw.aliases[i] = g.node(operand).operands[0].index;
      continue;
    }
    const ir::Node& sel = g.node(operand);
    if (sel.op != ir::Op::Select || !g.type(sel.operands[0]).isScalar())
      continue;
    const ir::ValueId a = sel.operands[1], b = sel.operands[2];
    if (!invertsNode(g, a, n, *pair) || !invertsNode(g, b, n, *pair))
      continue;
    rw.replacements[i] = {
        ir::Op::Select, {sel.operands[0], g.node(a).operands[0], g.node(b).operands[0]}, {}};
  }
  return rw.changes(g) ? rebuild(g, rw) : g;
}

} // namespace podm::passes
