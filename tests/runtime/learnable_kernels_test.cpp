// The learnable-parameter kernels (runtime/cpu/learnable_kernels.cpp) against independent
// references: a filter bank holding the DCT basis equals the fixed dct_filters op; the F-step
// spectrum of run-time filters equals the FFT of the impulse response of B'B; the dense-layer ops
// against plain loops; the activations against their formulas, finite at extreme inputs; the
// filters' gradient against its defining identity; per-stage slices in a stage loop.
#include "ir/builder.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/ir_types.h"

#include <cmath>
#include <doctest/doctest.h>
#include <random>

using namespace podm;
using ir::Op;
using ir::ValueId;

namespace {

Tensor random(const ir::Dims& d, uint32_t seed) {
  Tensor t(toShape(d));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = u(rng);
  return t;
}

RunResult run(const ir::Graph& g, const std::map<std::string, Tensor>& inputs) {
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  return ex.run(inputs);
}

double maxDiff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.numel() == b.numel());
  double d = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    d = std::max(d, std::fabs(static_cast<double>(a.data()[i]) - b.data()[i]));
  return d;
}

} // namespace

TEST_CASE("learnable kernels: a filter bank of the DCT basis is dct_filters, and its spectrum") {
  for (const ir::Dims& d : {ir::Dims{1, 2, 8, 8}, ir::Dims{1, 1, 7, 9}}) {
    INFO(d.str());
    // The fixed op's own filters, read back by applying it to an impulse at the origin.
    ir::Graph probe("probe");
    ir::Builder pb(probe);
    ValueId delta = pb.input("d", ir::Type::real({1, 1, 5, 5}));
    pb.output("f", pb.op(Op::DctFilters, {delta},
                         {{"size", int64_t{3}}, {"boundary", std::string("periodic")}}));
    Tensor impulse(Shape{1, 1, 5, 5});
    impulse.data()[0] = 1.f;
    const Tensor response = run(probe, {{"d", impulse}}).outputs.at("f");
    // Filter k sits around the origin with wrap-around: tap (a, b) at ((a - 1) mod 5, (b - 1) mod
    // 5).
    Tensor filters(Shape{1, 8, 3, 3});
    for (int64_t k = 0; k < 8; ++k)
      for (int64_t a = 0; a < 3; ++a)
        for (int64_t b = 0; b < 3; ++b)
          filters.data()[(k * 3 + a) * 3 + b] =
              response.data()[k * 25 + ((a + 4) % 5) * 5 + (b + 4) % 5];

    ir::Graph g("bank");
    ir::Builder b(g);
    ValueId x = b.input("x", ir::Type::real(d));
    ValueId f = b.input("f", ir::Type::real({1, 8, 3, 3}));
    ValueId y = b.input("y", ir::Type::real({d.n, d.c * 8, d.h, d.w}));
    const ir::Attrs fixed{{"size", int64_t{3}}, {"boundary", std::string("periodic")}};
    b.output("bank", b.op(Op::FilterBank, {x, f}));
    b.output("fixed", b.op(Op::DctFilters, {x}, fixed));
    b.output("bankT", b.op(Op::FilterBankAdjoint, {y, f}));
    b.output("fixedT", b.op(Op::DctFiltersAdjoint, {y}, fixed));
    RunResult r =
        run(g, {{"x", random(d, 1)}, {"f", filters}, {"y", random({d.n, d.c * 8, d.h, d.w}, 2)}});
    CHECK(maxDiff(r.outputs.at("bank"), r.outputs.at("fixed")) < 1e-5);
    CHECK(maxDiff(r.outputs.at("bankT"), r.outputs.at("fixedT")) < 1e-5);
  }
}

TEST_CASE("learnable kernels: filter_spectrum is the FFT of B'B's impulse response") {
  for (auto [h, w, s] : {std::tuple{8, 8, 3}, std::tuple{7, 10, 5}, std::tuple{6, 5, 2}}) {
    INFO(h, "x", w, " filters ", s);
    ir::Graph g("spectrum");
    ir::Builder b(g);
    ValueId f = b.input("f", ir::Type::real({1, 4, s, s}));
    ValueId delta = b.input("d", ir::Type::real({1, 1, h, w}));
    ValueId bb = b.op(Op::FilterBankAdjoint, {b.op(Op::FilterBank, {delta, f}), f});
    b.output("fft", b.op(Op::Real, {b.op(Op::Rfft2, {bb})}));
    b.output("direct", b.op(Op::FilterSpectrum, {f}, {{"h", int64_t{h}}, {"w", int64_t{w}}}));
    Tensor impulse(Shape{1, 1, h, w});
    impulse.data()[0] = 1.f;
    RunResult r = run(g, {{"f", random({1, 4, s, s}, 3)}, {"d", impulse}});
    CHECK(maxDiff(r.outputs.at("direct"), r.outputs.at("fft")) < 1e-4);
  }
}

TEST_CASE("learnable kernels: the filters' gradient satisfies <B_dF x, dy> = <dF, grad>") {
  ir::Graph g("grad");
  ir::Builder b(g);
  const ir::Dims d{2, 2, 6, 7};
  ValueId x = b.input("x", ir::Type::real(d));
  ValueId dy = b.input("dy", ir::Type::real({2, 6, 6, 7}));
  ValueId df = b.input("df", ir::Type::real({1, 3, 3, 3}));
  b.output("lhs", b.op(Op::Dot, {b.op(Op::FilterBank, {x, df}), dy}));
  b.output("rhs", b.op(Op::Dot, {df, b.op(Op::FilterBankGrad, {x, dy}, {{"size", int64_t{3}}})}));
  RunResult r = run(
      g, {{"x", random(d, 4)}, {"dy", random({2, 6, 6, 7}, 5)}, {"df", random({1, 3, 3, 3}, 6)}});
  CHECK(r.outputs.at("lhs").data()[0] ==
        doctest::Approx(r.outputs.at("rhs").data()[0]).epsilon(1e-4));
}

TEST_CASE("learnable kernels: matvec, matvec_t and outer against loops") {
  ir::Graph g("dense");
  ir::Builder b(g);
  ValueId W = b.input("W", ir::Type::real({1, 1, 4, 3}));
  ValueId x = b.input("x", ir::Type::real({1, 1, 3, 1}));
  ValueId y = b.input("y", ir::Type::real({1, 1, 4, 1}));
  ValueId s = b.input("s", ir::Type::scalar());
  ValueId W1 = b.input("W1", ir::Type::real({1, 1, 4, 1}));
  b.output("Wx", b.op(Op::Matvec, {W, x}));
  b.output("Wty", b.op(Op::MatvecT, {W, y}));
  b.output("yx", b.op(Op::Outer, {y, x}));
  b.output("W1s", b.op(Op::Matvec, {W1, s}));
  Tensor sv(Shape{1, 1, 1, 1});
  sv.data()[0] = -1.5f;
  const Tensor Wv = random({1, 1, 4, 3}, 7), xv = random({1, 1, 3, 1}, 8),
               yv = random({1, 1, 4, 1}, 9), W1v = random({1, 1, 4, 1}, 10);
  RunResult r = run(g, {{"W", Wv}, {"x", xv}, {"y", yv}, {"s", sv}, {"W1", W1v}});
  for (int64_t m = 0; m < 4; ++m) {
    double wx = 0;
    for (int64_t k = 0; k < 3; ++k) {
      wx += Wv.data()[m * 3 + k] * xv.data()[k];
      CHECK(r.outputs.at("yx").data()[m * 3 + k] == doctest::Approx(yv.data()[m] * xv.data()[k]));
    }
    CHECK(r.outputs.at("Wx").data()[m] == doctest::Approx(wx));
    CHECK(r.outputs.at("W1s").data()[m] == doctest::Approx(W1v.data()[m] * -1.5));
  }
  for (int64_t k = 0; k < 3; ++k) {
    double wty = 0;
    for (int64_t m = 0; m < 4; ++m)
      wty += Wv.data()[m * 3 + k] * yv.data()[m];
    CHECK(r.outputs.at("Wty").data()[k] == doctest::Approx(wty));
  }
}

TEST_CASE("learnable kernels: activations match their formulas and stay finite") {
  ir::Graph g("act");
  ir::Builder b(g);
  ValueId a = b.input("a", ir::Type::real({1, 1, 1, 7}));
  ValueId d = b.input("d", ir::Type::scalar());
  b.output("elu", b.op(Op::Elu, {a}));
  b.output("softplus", b.op(Op::Softplus, {a}));
  b.output("sigmoid", b.op(Op::Sigmoid, {a}));
  b.output("elu_grad", b.op(Op::EluGrad, {a, d}));
  const float xs[] = {-200.f, -3.f, -0.5f, 0.f, 0.5f, 3.f, 200.f};
  Tensor av(Shape{1, 1, 1, 7});
  std::copy(std::begin(xs), std::end(xs), av.data());
  Tensor dv(Shape{1, 1, 1, 1});
  dv.data()[0] = 2.f;
  RunResult r = run(g, {{"a", av}, {"d", dv}});
  for (int i = 0; i < 7; ++i) {
    const double x = xs[i];
    INFO("x = ", x);
    CHECK(r.outputs.at("elu").data()[i] == doctest::Approx(x > 0 ? x : std::expm1(x)));
    CHECK(r.outputs.at("softplus").data()[i] ==
          doctest::Approx(std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x)))));
    CHECK(r.outputs.at("sigmoid").data()[i] == doctest::Approx(1 / (1 + std::exp(-x))));
    CHECK(r.outputs.at("elu_grad").data()[i] == doctest::Approx(x > 0 ? 2 : 2 * std::exp(x)));
  }
}

TEST_CASE("learnable kernels: pick_stage and place_stage follow the stage index") {
  ir::Graph g("stages");
  ir::Builder b(g);
  ValueId p = b.input("p", ir::Type::real({3, 1, 2, 2}));
  ValueId z = b.input("z", ir::Type::real({3, 1, 2, 2}));
  ValueId s0 = b.input("s0", ir::Type::real({1, 1, 2, 2}));
  b.beginLoop(3);
  ValueId sum = b.loopState(s0, "sum");
  ValueId acc = b.loopState(z, "acc");
  ValueId slice = b.op(Op::PickStage, {p});
  b.carry(sum, b.op(Op::Add, {sum, b.op(Op::Scale, {slice}, {{"alpha", 1.0}})}));
  b.carry(acc, b.op(Op::Add, {acc, b.op(Op::PlaceStage, {slice}, {{"n", int64_t{3}}})}));
  b.endLoop();
  b.output("sum", b.loopResult(sum));
  b.output("acc", b.loopResult(acc));
  const Tensor pv = random({3, 1, 2, 2}, 11);
  RunResult r =
      run(g, {{"p", pv}, {"z", Tensor(Shape{3, 1, 2, 2})}, {"s0", Tensor(Shape{1, 1, 2, 2})}});
  for (int64_t i = 0; i < 4; ++i)
    CHECK(r.outputs.at("sum").data()[i] ==
          doctest::Approx(pv.data()[i] + pv.data()[4 + i] + pv.data()[8 + i]));
  CHECK(maxDiff(r.outputs.at("acc"), pv) == 0); // every slice placed once, at its stage

  // A per-stage parameter with fewer slices than stages is refused when the kernel is prepared.
  ir::Graph short_("short");
  ir::Builder sb(short_);
  ValueId q = sb.input("q", ir::Type::real({2, 1, 1, 1}));
  ValueId q0 = sb.input("q0", ir::Type::real({1, 1, 1, 1}));
  sb.beginLoop(3);
  ValueId st = sb.loopState(q0, "s");
  sb.carry(st, sb.op(Op::PickStage, {q}));
  sb.endLoop();
  sb.output("s", sb.loopResult(st));
  cpu::CpuBackend cpu;
  CHECK_THROWS_WITH(Executor(short_, cpu),
                    doctest::Contains("the parameter has 2 stage slices but the loop runs 3"));
}
