// The CUDA learnable-parameter kernels' arithmetic on the host: host loops over
// runtime/cuda/learnable_math.h (the functions the kernels run, one output element or one
// reduction term at a time) against the CPU kernels (runtime/cpu/learnable_kernels.cpp, through
// the executor) on random inputs of several shapes: odd sizes, several planes, even and odd filter
// sizes, filters as large as the plane, scalar operands.
#include "ir/builder.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/cuda/learnable_math.h"
#include "runtime/executor.h"
#include "runtime/ir_types.h"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <random>
#include <string>
#include <vector>

using namespace podm;
using namespace podm::cuda::learnable;
using ir::Op;
using ir::ValueId;

namespace {

Tensor random(const ir::Type& type, uint32_t seed) {
  Tensor t(toShape(type));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = u(rng);
  return t;
}
Tensor random(const ir::Dims& d, uint32_t seed) {
  return random(ir::Type::real(d), seed);
}

RunResult runCpu(const ir::Graph& g, const std::map<std::string, Tensor>& inputs) {
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  return ex.run(inputs);
}

// Every element within 1e-6 relative, relative to at least 1e-3 of the largest reference value
// (a tiny entry of a spectrum or gradient is a difference of large terms).
void requireClose(const Tensor& ref, const std::vector<float>& device, const std::string& what) {
  REQUIRE(ref.numel() == static_cast<int64_t>(device.size()));
  float largest = 0;
  for (int64_t i = 0; i < ref.numel(); ++i)
    largest = std::max(largest, std::fabs(ref.data()[i]));
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const float r = ref.data()[i], d = device[static_cast<size_t>(i)];
    INFO(what, " element ", i, ": cpu ", r, " device math ", d);
    REQUIRE(std::isfinite(r));
    REQUIRE(std::fabs(d - r) <= 1e-6 * std::max({std::fabs(r), 1e-3f * largest, 1e-30f}));
  }
}

// out[e] = f(e) for e < n: what a grid-stride kernel over one output element computes.
template <class F>
std::vector<float> perElement(int64_t n, F f) {
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t e = 0; e < n; ++e)
    out[static_cast<size_t>(e)] = f(e);
  return out;
}

} // namespace

TEST_CASE("learnable device math: pick_stage and place_stage at every stage") {
  const ir::Dims stacked{3, 2, 3, 5}, slice{1, 2, 3, 5};
  const Tensor p = random(stacked, 1), q = random(slice, 2);
  const StageSlices g{3, 2 * 3 * 5};
  // A loop of S stages leaves the value of stage S - 1.
  for (int64_t stages = 1; stages <= 3; ++stages) {
    INFO("stage ", stages - 1);
    ir::Graph graph("stages");
    ir::Builder b(graph);
    ValueId pv = b.input("p", ir::Type::real(stacked));
    ValueId qv = b.input("q", ir::Type::real(slice));
    ValueId zero = b.input("z", ir::Type::real(stacked));
    b.beginLoop(stages);
    ValueId picked = b.loopState(qv, "picked");
    ValueId placed = b.loopState(zero, "placed");
    b.carry(picked, b.op(Op::PickStage, {pv}));
    b.carry(placed, b.op(Op::PlaceStage, {qv}, {{"n", int64_t{3}}}));
    b.endLoop();
    b.output("pick", b.loopResult(picked));
    b.output("place", b.loopResult(placed));
    const RunResult r = runCpu(graph, {{"p", p}, {"q", q}, {"z", Tensor(toShape(stacked))}});
    const int64_t stage = stages - 1;
    requireClose(
        r.outputs.at("pick"),
        perElement(g.sliceFloats, [&](int64_t i) { return pickStage(p.data(), g, stage, i); }),
        "pick_stage");
    requireClose(r.outputs.at("place"),
                 perElement(g.slices * g.sliceFloats,
                            [&](int64_t e) { return placeStage(q.data(), g, stage, e); }),
                 "place_stage");
  }
}

TEST_CASE("learnable device math: matvec, matvec_t and outer") {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{4, 3}, {7, 1}, {1, 5}, {33, 17}}) {
    INFO(rows, " x ", cols);
    ir::Graph graph("dense");
    ir::Builder b(graph);
    const ir::Type xType = cols == 1 ? ir::Type::scalar() : ir::Type::real({1, 1, cols, 1});
    ValueId W = b.input("W", ir::Type::real({1, 1, rows, cols}));
    ValueId x = b.input("x", xType);
    ValueId y = b.input("y", ir::Type::real({1, 1, rows, 1}));
    b.output("Wx", b.op(Op::Matvec, {W, x}));
    b.output("Wty", b.op(Op::MatvecT, {W, y}));
    b.output("yx", b.op(Op::Outer, {y, x}));
    const Tensor Wv = random({1, 1, rows, cols}, 3), xv = random(xType, 4),
                 yv = random({1, 1, rows, 1}, 5);
    const RunResult r = runCpu(graph, {{"W", Wv}, {"x", xv}, {"y", yv}});
    const Matrix g{rows, cols};
    requireClose(r.outputs.at("Wx"),
                 perElement(rows, [&](int64_t m) { return matvecRow(Wv.data(), xv.data(), g, m); }),
                 "matvec");
    requireClose(
        r.outputs.at("Wty"),
        perElement(cols, [&](int64_t j) { return matvecTColumn(Wv.data(), yv.data(), g, j); }),
        "matvec_t");
    requireClose(
        r.outputs.at("yx"),
        perElement(rows * cols, [&](int64_t e) { return outer(yv.data(), xv.data(), g, e); }),
        "outer");
  }
}

TEST_CASE("learnable device math: activations and elu_grad, extremes and broadcast scalars") {
  const ir::Dims d{1, 2, 3, 7};
  Tensor a = random(d, 6), dv = random(d, 7);
  const float extremes[] = {-200.f, -88.f, -3.f, -1e-7f, 0.f, 1e-7f, 3.f, 88.f, 200.f};
  std::copy(std::begin(extremes), std::end(extremes), a.data());
  Tensor s = random(ir::Type::scalar(), 8), t = random(ir::Type::scalar(), 9);
  s.data()[0] = -0.75f;
  ir::Graph graph("act");
  ir::Builder b(graph);
  ValueId av = b.input("a", ir::Type::real(d)), dd = b.input("d", ir::Type::real(d));
  ValueId sv = b.input("s", ir::Type::scalar()), tv = b.input("t", ir::Type::scalar());
  b.output("elu", b.op(Op::Elu, {av}));
  b.output("softplus", b.op(Op::Softplus, {av}));
  b.output("sigmoid", b.op(Op::Sigmoid, {av}));
  b.output("elu_s", b.op(Op::Elu, {sv}));
  b.output("softplus_s", b.op(Op::Softplus, {sv}));
  b.output("sigmoid_s", b.op(Op::Sigmoid, {sv}));
  b.output("grad_tt", b.op(Op::EluGrad, {av, dd}));
  b.output("grad_ts", b.op(Op::EluGrad, {av, tv}));
  b.output("grad_st", b.op(Op::EluGrad, {sv, dd}));
  b.output("grad_ss", b.op(Op::EluGrad, {sv, tv}));
  const RunResult r = runCpu(graph, {{"a", a}, {"d", dv}, {"s", s}, {"t", t}});
  const int64_t n = a.numel();
  const float *A = a.data(), *D = dv.data(), *S = s.data(), *T = t.data();
  requireClose(r.outputs.at("elu"), perElement(n, [&](int64_t i) { return elu(A[i]); }), "elu");
  requireClose(r.outputs.at("softplus"), perElement(n, [&](int64_t i) { return softplus(A[i]); }),
               "softplus");
  requireClose(r.outputs.at("sigmoid"), perElement(n, [&](int64_t i) { return sigmoid(A[i]); }),
               "sigmoid");
  requireClose(r.outputs.at("elu_s"), {elu(S[0])}, "elu of a scalar");
  requireClose(r.outputs.at("softplus_s"), {softplus(S[0])}, "softplus of a scalar");
  requireClose(r.outputs.at("sigmoid_s"), {sigmoid(S[0])}, "sigmoid of a scalar");
  requireClose(r.outputs.at("grad_tt"),
               perElement(n, [&](int64_t i) { return eluGrad(A[i], D[i]); }), "elu_grad");
  requireClose(r.outputs.at("grad_ts"),
               perElement(n, [&](int64_t i) { return eluGrad(A[i], T[0]); }), "elu_grad, scalar d");
  requireClose(r.outputs.at("grad_st"),
               perElement(n, [&](int64_t i) { return eluGrad(S[0], D[i]); }), "elu_grad, scalar a");
  requireClose(r.outputs.at("grad_ss"), {eluGrad(S[0], T[0])}, "elu_grad of scalars");
}

namespace {
struct BankCase {
  ir::Dims x;
  int64_t K, s;
};
// Odd planes, several planes and channels, even filters, and filters as large as the plane.
const BankCase kBanks[] = {{{1, 1, 7, 9}, 3, 3},
                           {{2, 3, 8, 8}, 2, 5},
                           {{1, 2, 5, 6}, 4, 2},
                           {{2, 1, 5, 7}, 2, 5},
                           {{1, 1, 6, 11}, 1, 1}};
} // namespace

TEST_CASE("learnable device math: filter_bank, its adjoint and the filters' gradient") {
  uint32_t seed = 20;
  for (const BankCase& c : kBanks) {
    INFO(c.x.str(), " with ", c.K, " filters of ", c.s, "x", c.s);
    const ir::Dims fd{1, c.K, c.s, c.s}, yd{c.x.n, c.x.c * c.K, c.x.h, c.x.w};
    ir::Graph graph("bank");
    ir::Builder b(graph);
    ValueId x = b.input("x", ir::Type::real(c.x));
    ValueId f = b.input("f", ir::Type::real(fd));
    ValueId y = b.input("y", ir::Type::real(yd));
    b.output("bank", b.op(Op::FilterBank, {x, f}));
    b.output("adjoint", b.op(Op::FilterBankAdjoint, {y, f}));
    b.output("grad", b.op(Op::FilterBankGrad, {x, y}, {{"size", c.s}}));
    const Tensor xv = random(c.x, seed++), fv = random(fd, seed++), yv = random(yd, seed++);
    const RunResult r = runCpu(graph, {{"x", xv}, {"f", fv}, {"y", yv}});
    const Bank g{c.x.n * c.x.c, c.x.h, c.x.w, c.K, c.s};
    const int64_t pixels = g.planes * g.h * g.w;
    requireClose(
        r.outputs.at("bank"),
        perElement(pixels * g.K, [&](int64_t e) { return filterBank(xv.data(), fv.data(), g, e); }),
        "filter_bank");
    requireClose(
        r.outputs.at("adjoint"),
        perElement(pixels,
                   [&](int64_t e) { return filterBankAdjoint(yv.data(), fv.data(), g, e); }),
        "filter_bank_adjoint");
    // One block per tap: its terms over every pixel, summed in double.
    requireClose(r.outputs.at("grad"),
                 perElement(g.K * g.s * g.s,
                            [&](int64_t t) {
                              double sum = 0;
                              for (int64_t e = 0; e < pixels; ++e)
                                sum += filterBankGradTerm(xv.data(), yv.data(), g, t, e);
                              return static_cast<float>(sum);
                            }),
                 "filter_bank_grad");
  }
}

TEST_CASE("learnable device math: filter_spectrum and its gradient") {
  struct SpectrumCase {
    int64_t h, w, s, K;
  };
  uint32_t seed = 40;
  for (const SpectrumCase& c :
       {SpectrumCase{8, 8, 3, 4}, SpectrumCase{7, 10, 5, 4}, SpectrumCase{6, 5, 2, 3},
        SpectrumCase{9, 9, 1, 2}, SpectrumCase{5, 5, 5, 1}}) {
    INFO(c.h, "x", c.w, " grid, ", c.K, " filters of ", c.s, "x", c.s);
    const ir::Dims fd{1, c.K, c.s, c.s}, sd{1, 1, c.h, c.w / 2 + 1};
    ir::Graph graph("spectrum");
    ir::Builder b(graph);
    ValueId f = b.input("f", ir::Type::real(fd));
    ValueId dS = b.input("dS", ir::Type::real(sd));
    const ir::Attrs grid{{"h", c.h}, {"w", c.w}};
    b.output("S", b.op(Op::FilterSpectrum, {f}, grid));
    b.output("dF", b.op(Op::FilterSpectrumGrad, {f, dS}, grid));
    const Tensor fv = random(fd, seed++), dSv = random(sd, seed++);
    const RunResult r = runCpu(graph, {{"f", fv}, {"dS", dSv}});

    const std::vector<Cd> eh = spectrumTwiddles(c.h), ew = spectrumTwiddles(c.w);
    const int64_t W = c.w / 2 + 1;
    std::vector<Cd> weights(static_cast<size_t>(c.K * c.h * W)),
        rows(static_cast<size_t>(c.K * c.s * W));
    const Spectrum g{c.K, c.s, c.h, c.w, W, eh.data(), ew.data(), weights.data(), rows.data()};
    requireClose(r.outputs.at("S"),
                 perElement(c.h * W, [&](int64_t e) { return filterSpectrum(fv.data(), g, e); }),
                 "filter_spectrum");
    // The gradient's three launches, in order.
    for (size_t e = 0; e < weights.size(); ++e)
      weights[e] = spectrumGradWeight(fv.data(), dSv.data(), g, static_cast<int64_t>(e));
    for (size_t e = 0; e < rows.size(); ++e)
      rows[e] = spectrumGradRow(weights.data(), g, static_cast<int64_t>(e));
    requireClose(
        r.outputs.at("dF"),
        perElement(c.K * c.s * c.s, [&](int64_t e) { return spectrumGradTap(rows.data(), g, e); }),
        "filter_spectrum_grad");
  }
}
