// A small PODM-shaped graph used by the IR tests: inputs, constants, a stage loop with schedules,
// a prox, the optimality check as le/select, monitors and a stop predicate, and a Post region.
#pragma once

#include "ir/builder.h"

#include <vector>

namespace podm::ir::testing {

inline Graph sampleGraph() {
  Graph g("sample");
  Builder b(g);
  const Dims d{1, 1, 8, 8};
  ValueId y = b.input("y", Type::real(d));
  ValueId k = b.constant(Type::real({1, 1, 3, 3}), std::vector<float>(9, 1.f / 9), "k");
  ValueId zero = b.constant(Type::real(d), std::vector<float>(64, 0.f), "x0");
  ValueId c = b.scalar(0.08f, "c");
  b.beginLoop(3);
  ValueId x = b.loopState(zero, "x");
  ValueId gamma = b.schedule("gamma", {0.5, 0.25, 0.125});
  ValueId kx = b.op(Op::Conv2d, {x, k}, {{"boundary", std::string("periodic")}});
  ValueId r = b.op(Op::Sub, {kx, y}, {}, "residual");
  ValueId grad = b.op(Op::Conv2dAdjoint, {r, k}, {{"boundary", std::string("periodic")}});
  ValueId step = b.op(Op::Mul, {grad, gamma});
  ValueId v = b.op(Op::Sub, {x, step});
  ValueId xg =
      b.op(Op::Prox, {v, gamma},
           {{"fn", std::string("lp")}, {"args", NamedFloats{{"p", 0.8}, {"lambda", 1e-3}}}}, "x_G");
  ValueId diff = b.op(Op::Sub, {xg, x});
  ValueId psi = b.op(Op::Norm2Sq, {step});
  ValueId change = b.op(Op::Norm2Sq, {diff});
  ValueId bound = b.op(Op::Mul, {c, change});
  ValueId ok = b.op(Op::Le, {psi, bound}, {}, "check");
  ValueId next = b.op(Op::Select, {ok, xg, v});
  b.monitor("opt_error", psi);
  b.monitor("branch", ok);
  ValueId tiny = b.scalar(1e-12f);
  ValueId stop = b.op(Op::Lt, {change, tiny});
  b.carry(x, next);
  b.stopWhen(stop);
  b.endLoop();
  ValueId result = b.loopResult(x);
  ValueId spectrum = b.op(Op::Rfft2, {result});
  b.output("x", result);
  b.output("spectrum", spectrum);
  return g;
}

} // namespace podm::ir::testing
