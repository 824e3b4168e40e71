// The `ssim` op's CPU kernel (runtime/cpu/metric_kernels.cpp) against runtime/io/metrics' ssim,
// which `podm run --ref` reports: the same figure to 1e-5 on random images, sizes and shaves.
#include "ir/builder.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/io/metrics.h"

#include <cmath>
#include <doctest/doctest.h>
#include <random>

using namespace podm;

namespace {

float ssimOp(const Tensor& a, const Tensor& b, int64_t shave) {
  ir::Graph g("ssim");
  ir::Builder bld(g);
  ir::Type t = ir::Type::real({1, 1, a.shape().h, a.shape().w});
  bld.output("s", bld.op(ir::Op::Ssim, {bld.input("a", t), bld.input("b", t)}, {{"shave", shave}}));
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  return ex.run({{"a", a}, {"b", b}}).outputs.at("s").data()[0];
}

Tensor noisy(const Tensor& base, float sigma, std::mt19937& rng) {
  std::normal_distribution<float> n(0, sigma);
  Tensor t = base.clone();
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] += n(rng);
  return t;
}

} // namespace

TEST_CASE("ssim op: equals io::ssim on random images for several shaves") {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0, 1);
  for (auto [h, w] : {std::pair<int64_t, int64_t>{23, 31}, {40, 17}, {11, 11}}) {
    Tensor ref = Tensor::image(h, w);
    for (int64_t i = 0; i < ref.numel(); ++i)
      ref.data()[i] = u(rng);
    for (float sigma : {0.02f, 0.2f}) {
      Tensor x = noisy(ref, sigma, rng);
      for (int64_t shave : {0, 1, 3}) {
        if (h - 2 * shave < 11 || w - 2 * shave < 11)
          continue;
        CAPTURE(h);
        CAPTURE(w);
        CAPTURE(shave);
        const double want = io::ssim(x, ref, int(shave));
        CHECK(want < 0.999); // the images differ: not a trivial 1
        CHECK(std::fabs(ssimOp(x, ref, shave) - want) <= 1e-5);
      }
    }
    CHECK(ssimOp(ref, ref, 0) == doctest::Approx(1.0).epsilon(1e-6));
  }
}

TEST_CASE("ssim op: an image smaller than the window after the shave is refused") {
  ir::Graph g("ssim");
  ir::Builder bld(g);
  ir::Type t = ir::Type::real({1, 1, 16, 16});
  ir::ValueId a = bld.input("a", t), b = bld.input("b", t);
  CHECK_THROWS_WITH_AS(bld.op(ir::Op::Ssim, {a, b}, {{"shave", int64_t{3}}}),
                       doctest::Contains("shave 3 leaves less than the 11x11 window"),
                       std::exception);
}
