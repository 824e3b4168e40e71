// The CPU kernels behind the executor: elementwise, complex, reduction and control kernels
// against scalar reference formulas, and every linear-operator wrapper against its adjoint
// (<A x, y> = <x, A' y>) through the executor, which checks the attribute and shape plumbing.
#include "op_cases.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

#include <complex>
#include <cstring>
#include <doctest/doctest.h>
#include <functional>
#include <optional>
#include <random>
#include <set>

using namespace podm;
using ir::Op;
using ir::ValueId;
using cf = std::complex<float>;

namespace {

const ir::Dims kD{1, 2, 4, 6};

Tensor randomTensor(ir::Dims d, ir::ElemType e, uint32_t seed, bool positive = false) {
  Tensor t(toShape(d), toDType(e));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(positive ? 0.5f : -2.f, 2.f);
  for (int64_t i = 0; i < t.numel() * (e == ir::ElemType::C64 ? 2 : 1); ++i)
    t.data()[i] = u(rng);
  return t;
}

Tensor scalarTensor(float v) {
  Tensor t(Shape{1, 1, 1, 1});
  t.data()[0] = v;
  return t;
}

// Runs `op` on the given operand types with random inputs; returns inputs and output.
struct Run {
  std::vector<Tensor> in;
  Tensor out;
};
Run runOp(Op op, std::vector<ir::Type> types, ir::Attrs attrs = {}, bool positive = false) {
  ir::Graph g("k");
  ir::Builder b(g);
  std::vector<ValueId> operands;
  std::map<std::string, Tensor> inputs;
  Run r;
  for (size_t i = 0; i < types.size(); ++i) {
    std::string name = "i" + std::to_string(i);
    operands.push_back(b.input(name, types[i]));
    Tensor t = types[i].isScalar() ? scalarTensor(positive ? 1.25f + 0.5f * static_cast<float>(i)
                                                           : -0.75f + 0.5f * static_cast<float>(i))
                                   : randomTensor(types[i].dims, types[i].elem,
                                                  100 + static_cast<uint32_t>(i), positive);
    inputs.emplace(name, t);
    r.in.push_back(t);
  }
  b.output("y", b.create(op, operands, attrs));
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  r.out = ex.run(inputs).outputs.at("y");
  return r;
}

float at(const Tensor& t, int64_t i) {
  return t.numel() == 1 ? t.data()[0] : t.data()[i];
}
cf cat(const Tensor& t, int64_t i) {
  if (t.dtype() == DType::F32)
    return {at(t, i), 0.f};
  return t.numel() == 1 ? t.cdata()[0] : t.cdata()[i];
}

} // namespace

TEST_CASE("cpu kernels: real elementwise ops against their formulas, with broadcasting") {
  const ir::Type R = ir::Type::real(kD), S = ir::Type::scalar();
  const std::vector<std::pair<Op, std::function<float(float, float)>>> binary = {
      {Op::Add, std::plus<float>()},
      {Op::Sub, std::minus<float>()},
      {Op::Mul, std::multiplies<float>()},
      {Op::Div, std::divides<float>()},
      {Op::Max, [](float a, float b) { return std::max(a, b); }},
      {Op::Min, [](float a, float b) { return std::min(a, b); }}};
  for (const auto& [op, f] : binary)
    for (auto types :
         {std::vector{R, R}, std::vector{R, S}, std::vector{S, R}, std::vector{S, S}}) {
      INFO(ir::opName(op), " ", types[0].str(), ", ", types[1].str());
      Run r = runOp(op, types, {}, op == Op::Div);
      for (int64_t i = 0; i < r.out.numel(); ++i)
        CHECK(r.out.data()[i] == f(at(r.in[0], i), at(r.in[1], i)));
    }
  const std::vector<std::tuple<Op, ir::Attrs, std::function<float(float)>, bool>> unary = {
      {Op::Neg, {}, [](float x) { return -x; }, false},
      {Op::Scale, {{"alpha", 0.25}}, [](float x) { return 0.25f * x; }, false},
      {Op::Abs, {}, [](float x) { return std::fabs(x); }, false},
      {Op::Sign, {}, [](float x) { return x > 0   ? 1.f
                                          : x < 0 ? -1.f
                                                  : 0.f; }, false},
      {Op::Clamp,
       {{"lo", -1.0}, {"hi", 0.5}},
       [](float x) { return std::clamp(x, -1.f, .5f); },
       false},
      {Op::Sqrt, {}, [](float x) { return std::sqrt(x); }, true},
      {Op::Exp, {}, [](float x) { return std::exp(x); }, false},
      {Op::Log, {}, [](float x) { return std::log(x); }, true},
      {Op::Abs2, {}, [](float x) { return x * x; }, false}};
  for (const auto& [op, attrs, f, positive] : unary) {
    INFO(ir::opName(op));
    Run r = runOp(op, {R}, attrs, positive);
    for (int64_t i = 0; i < r.out.numel(); ++i)
      CHECK(r.out.data()[i] == doctest::Approx(f(r.in[0].data()[i])).epsilon(1e-6));
  }
  Run fma = runOp(Op::Fma, {R, S, R});
  for (int64_t i = 0; i < fma.out.numel(); ++i)
    CHECK(fma.out.data()[i] ==
          doctest::Approx(at(fma.in[0], i) * at(fma.in[1], i) + at(fma.in[2], i)));
  Run axpby = runOp(Op::Axpby, {S, R, S, R});
  for (int64_t i = 0; i < axpby.out.numel(); ++i)
    CHECK(axpby.out.data()[i] == doctest::Approx(at(axpby.in[0], 0) * at(axpby.in[1], i) +
                                                 at(axpby.in[2], 0) * at(axpby.in[3], i)));
}

TEST_CASE("cpu kernels: complex ops against std::complex") {
  const ir::Type C = ir::Type::complex(kD), R = ir::Type::real(kD), S = ir::Type::scalar();
  const std::vector<std::pair<Op, std::function<cf(cf, cf)>>> ops = {
      {Op::Add, std::plus<cf>()},
      {Op::Sub, std::minus<cf>()},
      {Op::Mul, std::multiplies<cf>()},
      {Op::Div, std::divides<cf>()}};
  for (const auto& [op, f] : ops) {
    std::vector<std::vector<ir::Type>> variants = {{C, C}, {C, S}, {S, C}};
    if (op == Op::Mul || op == Op::Div) {
      variants.push_back({C, R});
      variants.push_back({R, C});
    }
    for (const auto& types : variants) {
      INFO(ir::opName(op), " ", types[0].str(), ", ", types[1].str());
      Run r = runOp(op, types, {}, true);
      for (int64_t i = 0; i < r.out.numel(); ++i) {
        cf want = f(cat(r.in[0], i), cat(r.in[1], i));
        CHECK(r.out.cdata()[i].real() == doctest::Approx(want.real()).epsilon(1e-5));
        CHECK(r.out.cdata()[i].imag() == doctest::Approx(want.imag()).epsilon(1e-5));
      }
    }
  }
  Run conj = runOp(Op::Conj, {C});
  Run real = runOp(Op::Real, {C});
  Run abs2 = runOp(Op::Abs2, {C});
  for (int64_t i = 0; i < conj.out.numel(); ++i) {
    CHECK(conj.out.cdata()[i] == std::conj(conj.in[0].cdata()[i]));
    CHECK(real.out.data()[i] == real.in[0].cdata()[i].real());
    CHECK(abs2.out.data()[i] == doctest::Approx(std::norm(abs2.in[0].cdata()[i])));
  }
}

TEST_CASE("cpu kernels: reductions, comparisons and select") {
  const ir::Type R = ir::Type::real(kD), C = ir::Type::complex(kD), S = ir::Type::scalar();
  Run dot = runOp(Op::Dot, {R, R});
  Run sum = runOp(Op::Sum, {R});
  Run n2 = runOp(Op::Norm2Sq, {C});
  Run mr = runOp(Op::MaxAbs, {R});
  Run mc = runOp(Op::MaxAbs, {C});
  double d = 0, s = 0, n = 0, a = 0, b = 0;
  for (int64_t i = 0; i < kD.numel(); ++i) {
    d += double{dot.in[0].data()[i]} * dot.in[1].data()[i];
    s += sum.in[0].data()[i];
    n += std::norm(std::complex<double>(n2.in[0].cdata()[i]));
    a = std::max(a, double{std::fabs(mr.in[0].data()[i])});
    b = std::max(b, double{std::abs(mc.in[0].cdata()[i])});
  }
  CHECK(dot.out.data()[0] == doctest::Approx(d).epsilon(1e-6));
  CHECK(sum.out.data()[0] == doctest::Approx(s).epsilon(1e-6));
  CHECK(n2.out.data()[0] == doctest::Approx(n).epsilon(1e-6));
  CHECK(mr.out.data()[0] == doctest::Approx(a));
  CHECK(mc.out.data()[0] == doctest::Approx(b).epsilon(1e-6));
  // Scalars from runOp: -0.75, -0.25 (positive=false).
  CHECK(runOp(Op::Le, {S, S}).out.data()[0] == 1.f);
  CHECK(runOp(Op::Lt, {S, S}).out.data()[0] == 1.f);
  Run sel = runOp(Op::Select, {S, R, R}); // cond -0.75 != 0: the first branch
  CHECK(std::memcmp(sel.out.data(), sel.in[1].data(), sel.out.bytes()) == 0);
}

TEST_CASE("cpu kernels: rfft2 / irfft2 are normalized inverses, rfft2 of a delta is flat") {
  ir::Graph g("fft");
  ir::Builder b(g);
  ValueId x = b.input("x", ir::Type::real({1, 3, 6, 10}));
  ValueId X = b.op(Op::Rfft2, {x});
  b.output("X", X);
  b.output("back", b.op(Op::Irfft2, {X}, {{"width", int64_t{10}}}));
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  Tensor xt = randomTensor({1, 3, 6, 10}, ir::ElemType::F32, 5);
  RunResult r = ex.run({{"x", xt}});
  for (int64_t i = 0; i < xt.numel(); ++i)
    CHECK(r.outputs.at("back").data()[i] == doctest::Approx(xt.data()[i]).epsilon(1e-5));
  Tensor delta(Shape{1, 3, 6, 10});
  delta.data()[0] = delta.data()[60] = delta.data()[120] = 1.f;
  Tensor spectrum = ex.run({{"x", delta}}).outputs.at("X");
  CHECK(spectrum.shape() == Shape{1, 3, 6, 6});
  for (int64_t i = 0; i < spectrum.numel(); ++i)
    CHECK(spectrum.cdata()[i] == cf(1.f, 0.f));
}

namespace {

struct AdjointCase {
  Op op;
  ir::Dims in;
  ir::Attrs attrs, adjointAttrs;
  bool kernel = false;                     // takes a 1x1x3x5 kernel operand
  std::optional<ir::Dims> kernelDims = {}; // another kernel operand shape (runtime filter banks)
};

std::vector<AdjointCase> adjointCases() {
  const ir::Dims d{1, 2, 8, 8};
  auto s = [](const char* v) { return std::string(v); };
  std::vector<AdjointCase> cases;
  for (const char* boundary : {"zero", "periodic", "symmetric"}) {
    cases.push_back(
        {Op::Conv2d, d, {{"boundary", s(boundary)}}, {{"boundary", s(boundary)}}, true});
    cases.push_back({Op::DctFilters,
                     d,
                     {{"size", int64_t{3}}, {"boundary", s(boundary)}},
                     {{"size", int64_t{3}}, {"boundary", s(boundary)}}});
  }
  for (const char* mode : {"zero", "replicate", "smooth"}) {
    const ir::Attrs pad = {{"top", int64_t{2}},
                           {"left", int64_t{1}},
                           {"bottom", int64_t{3}},
                           {"right", int64_t{11}},
                           {"mode", s(mode)}};
    cases.push_back({Op::Pad2d, d, pad, pad}); // right 11 > 8: the smooth taps clamp
  }
  cases.push_back({Op::Decimate, d, {{"factor", int64_t{2}}}, {{"factor", int64_t{2}}}});
  cases.push_back({Op::UpsampleZero, d, {{"factor", int64_t{2}}}, {{"factor", int64_t{2}}}});
  cases.push_back({Op::ResizeBicubic,
                   d,
                   {{"scale", 0.5}, {"h", int64_t{4}}, {"w", int64_t{4}}},
                   {{"scale", 0.5}, {"h", int64_t{8}}, {"w", int64_t{8}}}});
  cases.push_back({Op::ResizeBicubic,
                   d,
                   {{"scale", 2.0}, {"h", int64_t{16}}, {"w", int64_t{16}}},
                   {{"scale", 2.0}, {"h", int64_t{8}}, {"w", int64_t{8}}}});
  cases.push_back({Op::Haar, d, {{"levels", int64_t{2}}}, {{"levels", int64_t{2}}}});
  cases.push_back({Op::Dct2, {1, 2, 8, 6}, {}, {}});
  for (const char* boundary : {"neumann", "periodic"})
    cases.push_back({Op::FdGrad, d, {{"boundary", s(boundary)}}, {{"boundary", s(boundary)}}});
  cases.push_back({Op::Mask, d, {}, {}, true});
  cases.push_back({Op::FilterBank, d, {}, {}, true, ir::Dims{1, 5, 3, 3}});
  cases.push_back({Op::FilterBank, {1, 1, 7, 6}, {}, {}, true, ir::Dims{1, 3, 5, 5}});
  return cases;
}

} // namespace

TEST_CASE("cpu kernels: every linear op with an adjoint passes the dot-product test") {
  std::set<Op> covered;
  cpu::CpuBackend cpu;
  for (const AdjointCase& c : adjointCases()) {
    for (bool reversed : {false, true}) {
      const Op forward = reversed ? ir::opInfo(c.op).adjoint.op : c.op;
      const Op backward = reversed ? c.op : ir::opInfo(c.op).adjoint.op;
      INFO(ir::opName(forward), " ", ir::Type::real(c.in).str());
      ir::Graph g("adjoint");
      ir::Builder b(g);
      // The reversed pair runs the adjoint op forward: its operand has the forward output's shape.
      ir::Graph probe("probe");
      ir::Builder pb(probe);
      ValueId pin = pb.input("x", ir::Type::real(c.in));
      const ir::Dims kDims = c.kernelDims       ? *c.kernelDims
                             : c.op == Op::Mask ? ir::Dims{1, 1, 8, 8}
                                                : ir::Dims{1, 1, 3, 5};
      ValueId pk = c.kernel ? pb.input("k", ir::Type::real(kDims)) : ValueId{};
      auto apply = [&](ir::Builder& bb, Op op, ValueId x, ValueId k, const ir::Attrs& a) {
        return c.kernel ? bb.op(op, {x, k}, a) : bb.op(op, {x}, a);
      };
      const ir::Dims out = probe.type(apply(pb, c.op, pin, pk, c.attrs)).dims;
      const ir::Dims xDims = reversed ? out : c.in;
      const ir::Dims yDims = reversed ? c.in : out;
      const ir::Attrs& fa = reversed ? c.adjointAttrs : c.attrs;
      const ir::Attrs& ba = reversed ? c.attrs : c.adjointAttrs;
      ValueId x = b.input("x", ir::Type::real(xDims));
      ValueId y = b.input("y", ir::Type::real(yDims));
      ValueId k = c.kernel ? b.input("k", probe.type(pk)) : ValueId{};
      b.output("lhs", b.op(Op::Dot, {apply(b, forward, x, k, fa), y}));
      b.output("rhs", b.op(Op::Dot, {x, apply(b, backward, y, k, ba)}));
      std::map<std::string, Tensor> inputs = {{"x", randomTensor(xDims, ir::ElemType::F32, 1)},
                                              {"y", randomTensor(yDims, ir::ElemType::F32, 2)}};
      if (c.kernel)
        inputs.emplace("k", randomTensor(probe.type(pk).dims, ir::ElemType::F32, 3));
      Executor ex(g, cpu);
      RunResult r = ex.run(inputs);
      const float lhs = r.outputs.at("lhs").data()[0], rhs = r.outputs.at("rhs").data()[0];
      CHECK(lhs == doctest::Approx(rhs).epsilon(1e-4));
      covered.insert(forward);
    }
  }
  for (const ir::OpInfo& info : ir::allOps())
    if (info.adjoint.exists && info.op != Op::Neg && info.op != Op::Scale)
      CHECK_MESSAGE(covered.count(info.op), "no adjoint test for " << info.name);
}
