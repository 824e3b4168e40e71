// The gradient-check table of the backward rules (one row per op variant: operand types,
// attributes, which operands are wanted, how the random operands are prepared, step and tolerance)
// and how one row's rule is applied, shared by the finite-difference checks on the CPU
// (rule_check_test.cpp) and the CPU-against-CUDA checks (cuda_rules_test.cpp), so both run the
// same rows. A coverage test fails when the rule table and this table disagree.
#pragma once

#include "gradcheck.h"
#include "ir/builder.h"
#include "runtime/autodiff/rule.h"
#include "runtime/prox_provider.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace podm::testing {

using autodiff::OpRunner;
using autodiff::Value;
using ir::Op;
using ir::Type;

inline Type R(int64_t c, int64_t h, int64_t w) {
  return Type::real(ir::Dims{1, c, h, w});
}
inline Type C(int64_t c, int64_t h, int64_t w) {
  return Type::complex(ir::Dims{1, c, h, w});
}
inline const Type S = Type::scalar();

using Prepare = std::function<void(std::vector<Value>&)>;

struct Row {
  Op op;
  std::string what; // tells rows of one op apart
  std::vector<Type> operands;
  ir::Attrs attrs = {};
  std::vector<bool> wanted = {}; // default: every operand
  Prepare prepare = {};
  double step = 1e-3;
  double tol = 5e-3;
};

// Prepare helpers.
inline Prepare awayFrom(size_t i, std::initializer_list<float> kinks, float margin = 0.05f) {
  std::vector<float> k(kinks);
  return [i, k, margin](std::vector<Value>& v) {
    for (float x : k)
      avoidKinks(v[i], {x}, margin);
  };
}
inline Prepare positive(size_t i, float lo = 0.5f) {
  return [i, lo](std::vector<Value>& v) {
    for (int64_t k = 0; k < floatCount(v[i]); ++k)
      v[i].tensor.data()[k] = lo + std::fabs(v[i].tensor.data()[k]);
  };
}
inline Prepare setScalar(size_t i, float value) {
  return [i, value](std::vector<Value>& v) { v[i].tensor.data()[0] = value; };
}
inline Prepare both(Prepare a, Prepare b) {
  return [a, b](std::vector<Value>& v) {
    a(v);
    b(v);
  };
}
// Operand 1 at least `gap` away from operand 0 (max/min ties).
inline Prepare apart(float gap) {
  return [gap](std::vector<Value>& v) {
    for (int64_t k = 0; k < floatCount(v[1]); ++k) {
      float a = v[0].tensor.data()[v[0].type.isScalar() ? 0 : k];
      float& b = v[1].tensor.data()[k];
      if (std::fabs(a - b) < gap)
        b = a + (b < a ? -gap : gap);
    }
  };
}

inline ir::Attrs proxAttrs(const std::string& fn, ir::NamedFloats args) {
  return {{"fn", fn}, {"args", std::move(args)}};
}

inline ir::Attrs netAttrs() {
  return {{"net", std::string("A")},
          {"spec", std::string("fake")},
          {"weights", std::string("none")},
          {"prefix", std::string("")}};
}

// The table, one row per op variant (built on first use).
inline const std::vector<Row>& gradientCheckRows() {
  // clang-format off
  static const std::vector<Row> rows = {
    // elementwise.cpp
    {Op::Add, "RR", {R(2, 3, 4), R(2, 3, 4)}},
    {Op::Add, "RS", {R(2, 3, 4), S}},
    {Op::Add, "CC", {C(1, 3, 4), C(1, 3, 4)}},
    {Op::Add, "CS", {C(1, 3, 4), S}},
    {Op::Add, "SS", {S, S}},
    {Op::Sub, "RR", {R(2, 3, 4), R(2, 3, 4)}},
    {Op::Sub, "SR", {S, R(2, 3, 4)}},
    {Op::Sub, "CS", {C(1, 3, 4), S}},
    {Op::Mul, "RR", {R(2, 3, 4), R(2, 3, 4)}},
    {Op::Mul, "SR", {S, R(2, 3, 4)}},
    {Op::Mul, "CC", {C(1, 3, 4), C(1, 3, 4)}},
    {Op::Mul, "CR", {C(1, 3, 4), R(1, 3, 4)}},
    {Op::Mul, "RC", {R(1, 3, 4), C(1, 3, 4)}},
    {Op::Mul, "SC", {S, C(1, 3, 4)}},
    {Op::Div, "RR", {R(2, 3, 4), R(2, 3, 4)}, {}, {}, positive(1)},
    {Op::Div, "RS", {R(2, 3, 4), S}, {}, {}, positive(1)},
    {Op::Div, "SR", {S, R(2, 3, 4)}, {}, {}, positive(1)},
    {Op::Div, "CC", {C(1, 3, 4), C(1, 3, 4)}, {}, {}, positive(1)},
    {Op::Div, "CR", {C(1, 3, 4), R(1, 3, 4)}, {}, {}, positive(1)},
    {Op::Neg, "R", {R(2, 3, 4)}},
    {Op::Neg, "C", {C(1, 3, 4)}},
    {Op::Scale, "R", {R(2, 3, 4)}, {{"alpha", -1.7}}},
    {Op::Scale, "C", {C(1, 3, 4)}, {{"alpha", 0.3}}},
    {Op::Axpby, "R", {S, R(2, 3, 4), S, R(2, 3, 4)}},
    {Op::Axpby, "C", {S, C(1, 3, 4), S, C(1, 3, 4)}},
    {Op::Fma, "RRR", {R(2, 3, 4), R(2, 3, 4), R(2, 3, 4)}},
    {Op::Fma, "SRS", {S, R(2, 3, 4), S}},
    {Op::Fma, "RSR", {R(2, 3, 4), S, R(2, 3, 4)}},
    {Op::Abs, "R", {R(2, 3, 4)}, {}, {}, awayFrom(0, {0.f})},
    {Op::Sign, "R", {R(2, 3, 4)}, {}, {}, awayFrom(0, {0.f})},
    {Op::Max, "RR", {R(2, 3, 4), R(2, 3, 4)}, {}, {}, apart(0.05f)},
    {Op::Max, "SR", {S, R(2, 3, 4)}, {}, {}, apart(0.05f)},
    {Op::Min, "RR", {R(2, 3, 4), R(2, 3, 4)}, {}, {}, apart(0.05f)},
    {Op::Min, "SR", {S, R(2, 3, 4)}, {}, {}, apart(0.05f)},
    {Op::Clamp, "R", {R(2, 3, 4)}, {{"lo", -0.4}, {"hi", 0.5}}, {}, awayFrom(0, {-0.4f, 0.5f})},
    {Op::Sqrt, "R", {R(2, 3, 4)}, {}, {}, positive(0)},
    {Op::Exp, "R", {R(2, 3, 4)}},
    {Op::Log, "R", {R(2, 3, 4)}, {}, {}, positive(0)},
    // control.cpp
    {Op::Le, "SS", {S, S}, {}, {}, apart(0.05f)},
    {Op::Lt, "SS", {S, S}, {}, {}, apart(0.05f)},
    {Op::Select, "true", {S, R(2, 3, 4), R(2, 3, 4)}, {}, {}, setScalar(0, 1.f)},
    {Op::Select, "false", {S, C(1, 3, 4), C(1, 3, 4)}, {}, {}, setScalar(0, 0.f)},
    {Op::Monitor, "S", {S}, {{"name", std::string("m")}}},
    // spectral.cpp
    {Op::Conj, "C", {C(2, 3, 4)}},
    {Op::Real, "C", {C(2, 3, 4)}},
    {Op::Abs2, "R", {R(2, 3, 4)}},
    {Op::Abs2, "C", {C(2, 3, 4)}},
    {Op::Rfft2, "even", {R(2, 6, 8)}},
    {Op::Rfft2, "odd", {R(1, 5, 7)}},
    {Op::Irfft2, "even", {C(2, 6, 5)}, {{"width", int64_t{8}}}},
    {Op::Irfft2, "odd", {C(1, 5, 4)}, {{"width", int64_t{7}}}},
    // reduction.cpp
    {Op::Dot, "RR", {R(2, 3, 4), R(2, 3, 4)}},
    {Op::Sum, "R", {R(2, 3, 4)}},
    {Op::Norm2Sq, "R", {R(2, 3, 4)}},
    {Op::Norm2Sq, "C", {C(2, 3, 4)}},
    {Op::MaxAbs, "R", {R(2, 3, 4)}},
    // linop.cpp (the convolution kernel is data: not wanted)
    {Op::Conv2d, "zero", {R(2, 6, 7), R(1, 3, 3)}, {{"boundary", std::string("zero")}}, {true, false}},
    {Op::Conv2d, "periodic", {R(1, 6, 7), R(1, 3, 2)}, {{"boundary", std::string("periodic")}}, {true, false}},
    {Op::Conv2d, "symmetric", {R(1, 6, 7), R(1, 3, 3)}, {{"boundary", std::string("symmetric")}}, {true, false}},
    {Op::Conv2dAdjoint, "zero", {R(2, 6, 7), R(1, 3, 3)}, {{"boundary", std::string("zero")}}, {true, false}},
    {Op::Conv2dAdjoint, "symmetric", {R(1, 6, 7), R(1, 3, 3)}, {{"boundary", std::string("symmetric")}}, {true, false}},
    {Op::Pad2d, "smooth", {R(2, 5, 4)}, {{"top", int64_t{1}}, {"left", int64_t{2}}, {"bottom", int64_t{2}}, {"right", int64_t{0}}, {"mode", std::string("smooth")}}},
    {Op::Pad2dAdjoint, "zero", {R(2, 6, 7)}, {{"top", int64_t{1}}, {"left", int64_t{2}}, {"bottom", int64_t{2}}, {"right", int64_t{0}}, {"mode", std::string("zero")}}},
    {Op::Decimate, "2", {R(2, 6, 8)}, {{"factor", int64_t{2}}}},
    {Op::UpsampleZero, "2", {R(2, 3, 4)}, {{"factor", int64_t{2}}}},
    {Op::ResizeBicubic, "up", {R(1, 4, 6)}, {{"scale", 2.0}, {"h", int64_t{8}}, {"w", int64_t{12}}}},
    {Op::ResizeBicubic, "down", {R(1, 8, 12)}, {{"scale", 0.5}, {"h", int64_t{4}}, {"w", int64_t{6}}}},
    {Op::ResizeBicubicAdjoint, "up", {R(1, 8, 12)}, {{"scale", 2.0}, {"h", int64_t{4}}, {"w", int64_t{6}}}},
    {Op::Haar, "1", {R(2, 8, 8)}, {{"levels", int64_t{1}}}},
    {Op::HaarInv, "2", {R(1, 8, 8)}, {{"levels", int64_t{2}}}},
    {Op::Dct2, "R", {R(2, 5, 6)}},
    {Op::Idct2, "R", {R(2, 5, 6)}},
    {Op::FdGrad, "neumann", {R(2, 5, 6)}, {{"boundary", std::string("neumann")}}},
    {Op::FdGrad, "periodic", {R(1, 5, 6)}, {{"boundary", std::string("periodic")}}},
    {Op::FdGradAdjoint, "neumann", {R(4, 5, 6)}, {{"boundary", std::string("neumann")}}},
    {Op::Mask, "planes", {R(2, 5, 6), R(1, 5, 6)}, {}, {true, false}},
    {Op::Mask, "plane", {R(1, 5, 6), R(1, 5, 6)}},
    {Op::DctFilters, "3", {R(1, 6, 6)}, {{"size", int64_t{3}}}},
    {Op::DctFiltersAdjoint, "3", {R(8, 6, 6)}, {{"size", int64_t{3}}}},
    // prox.cpp (stdlib proxes; gamma is a step size: not wanted)
    {Op::Prox, "l1", {R(2, 4, 4), S}, proxAttrs("l1", {}), {true, false},
     both(setScalar(1, 0.2f), awayFrom(0, {-0.2f, 0.2f}))},
    {Op::Prox, "l0", {R(2, 4, 4), S}, proxAttrs("l0", {}), {true, false},
     both(setScalar(1, 0.08f), awayFrom(0, {-0.4f, 0.4f}))},
    {Op::Prox, "lp", {R(2, 4, 4), S}, proxAttrs("lp", {{"p", 0.5}}), {true, false},
     both(setScalar(1, 0.1f), awayFrom(0, {-0.3232f, 0.3232f}, 0.08f))},
    {Op::Prox, "box", {R(2, 4, 4), S}, proxAttrs("box", {{"hi", 0.6}, {"lo", -0.3}}), {true, false},
     both(setScalar(1, 0.5f), awayFrom(0, {-0.3f, 0.6f}))},
    {Op::Prox, "nonneg", {R(2, 4, 4), S}, proxAttrs("nonneg", {}), {true, false},
     both(setScalar(1, 0.5f), awayFrom(0, {0.f}))},
    {Op::Prox, "hardthre_box threshold", {R(2, 4, 4), S},
     proxAttrs("hardthre_box", {{"hi", 0.7}, {"lo", -0.6}, {"threshold", 0.3}}), {true, false},
     both(setScalar(1, 1.f), awayFrom(0, {-0.6f, -0.3f, 0.3f, 0.7f}))},
    {Op::Prox, "hardthre_box count", {R(1, 3, 4), S},
     proxAttrs("hardthre_box", {{"count", 5.0}, {"hi", 0.7}, {"lo", -0.6}}), {true, false},
     both(setScalar(1, 1.f), awayFrom(0, {-0.6f, 0.7f})), 1e-4, 1e-2},
    {Op::Prox, "l21", {R(3, 4, 4), S}, proxAttrs("l21", {}), {true, false}, setScalar(1, 0.4f)},
    // network.cpp (a fake trainable network; its weights are checked in tape_test.cpp)
    {Op::Network, "fake", {R(1, 4, 5)}, netAttrs()},
    // learnable.cpp (the gradient-side ops have second-order rules where they are compositions)
    {Op::PickStage, "n1", {R(2, 3, 3)}},
    {Op::PlaceStage, "n1", {R(2, 3, 3)}, {{"n", int64_t{1}}}},
    {Op::Matvec, "vector", {R(1, 4, 3), R(1, 3, 1)}},
    {Op::Matvec, "scalar", {R(1, 4, 1), S}},
    {Op::MatvecT, "vector", {R(1, 4, 3), R(1, 4, 1)}},
    {Op::Outer, "vectors", {R(1, 4, 1), R(1, 3, 1)}},
    {Op::Outer, "scalar", {R(1, 4, 1), S}},
    {Op::Elu, "", {R(2, 4, 4)}, {}, {}, awayFrom(0, {0.f})},
    {Op::EluGrad, "linear in d", {R(2, 4, 4), R(2, 4, 4)}, {}, {false, true}},
    {Op::Softplus, "", {R(2, 4, 4)}},
    {Op::Sigmoid, "", {R(2, 4, 4)}},
    {Op::FilterBank, "3x3", {R(2, 6, 5), R(4, 3, 3)}},
    {Op::FilterBankAdjoint, "3x3", {R(8, 6, 5), R(4, 3, 3)}},
    {Op::FilterBankGrad, "3x3", {R(2, 6, 5), R(8, 6, 5)}, {{"size", int64_t{3}}}},
    {Op::FilterSpectrum, "even width", {R(4, 3, 3)}, {{"h", int64_t{6}}, {"w", int64_t{8}}}},
    {Op::FilterSpectrum, "odd width", {R(4, 3, 3)}, {{"h", int64_t{5}}, {"w", int64_t{7}}}},
  };
  // clang-format on
  return rows;
}

inline std::string rowName(const Row& r) {
  return std::string(ir::opName(r.op)) + " " + r.what;
}

// Where a row's op runs: stage 0 of a one-stage loop for body-only ops, outside the loop (-1)
// otherwise.
inline int64_t stageOf(const Row& row) {
  return ir::opInfo(row.op).region == ir::RegionRule::BodyOnly ? 0 : -1;
}

// The row's operands: uniform in [-1, 1] from rng in operand order, then the row's preparation.
inline std::vector<Value> drawOperands(const Row& row, std::mt19937& rng) {
  std::vector<Value> x;
  for (const Type& t : row.operands)
    x.push_back(randomValue(t, rng));
  if (row.prepare)
    row.prepare(x);
  return x;
}

// Per operand: 1 where the row wants its cotangent (every operand unless the row says).
inline std::vector<uint8_t> wantsOf(const Row& row) {
  std::vector<uint8_t> wants(row.operands.size(), 1);
  for (size_t i = 0; i < row.wanted.size(); ++i)
    wants[i] = row.wanted[i];
  return wants;
}

// The operand cotangents the rule of row.op gives at operands x, result y and result cotangent w
// (empty where the rule gives none), its forward ops run by `ops`. Prox and network operators come
// from `context`'s providers, as the tape binds them.
inline std::vector<Value> applyRule(const Row& row, OpRunner& ops, const PrepareContext& context,
                                    const std::vector<Value>& x, const Value& y, const Value& w,
                                    std::span<const uint8_t> wants) {
  std::unique_ptr<ProxOperator> prox;
  std::unique_ptr<NetworkOperator> net;
  if (row.op == Op::Prox) {
    const ir::NamedFloats& a = row.attrs.getNamed("args");
    prox = context.prox->make(row.attrs.getString("fn"), ProxArgList(a.begin(), a.end()));
  }
  if (row.op == Op::Network)
    net = context.network->make({});
  // The node the rule sees, in a graph like the OpRunner's (rules read its attributes).
  const int64_t stage = stageOf(row);
  ir::Graph g;
  ir::Builder b(g);
  std::vector<ir::ValueId> ins;
  for (const Value& v : x)
    ins.push_back(b.input("a" + std::to_string(ins.size()), v.type));
  if (stage >= 0)
    b.beginLoop(1);
  const ir::ValueId node = b.create(row.op, ins, row.attrs);
  autodiff::RuleContext rc{g, node, x, y, w, stage, ops, wants, prox.get(), net.get()};
  autodiff::BackwardRule rule = autodiff::ruleTable().find(row.op);
  if (!rule)
    throw std::logic_error("no backward rule for " + rowName(row));
  std::vector<Value> d(x.size());
  rule(rc, d);
  return d;
}

} // namespace podm::testing
