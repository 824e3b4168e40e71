// Network::setPrecision(BF16): convolutions in bfloat16 with f32 accumulation stay close to f32
// (bf16 keeps 8 bits of mantissa), residual output stays f32, and what cannot run in bf16 says so.
#include "reference.h"
#include "stdlib/nn/network.h"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <random>

using namespace podm;
using namespace podm::nn;

TEST_CASE("bf16 convolutions agree with f32 to bf16 accuracy") {
  if (!bf16Supported()) {
    MESSAGE("this CPU has no native bf16: skipped");
    Network net(dilatedCnn(2, 8, {1, 1}));
    CHECK_THROWS_WITH_AS(net.setPrecision(Precision::BF16), doctest::Contains("no native bf16"),
                         WeightsError);
    return;
  }
  const NetworkSpec spec = residual(dilatedCnn(5, 32, {1, 2, 3, 2, 1}));
  Network f32(spec), bf16(spec);
  TensorMap w = testref::randomWeights(f32, 7);
  f32.bind(w);
  bf16.bind(w);
  bf16.setPrecision(Precision::BF16);
  CHECK(bf16.precision() == Precision::BF16);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Tensor x({1, 1, 37, 41});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data()[i] = u(rng);
  Tensor a, b;
  f32.forward(x, a);
  bf16.forward(x, b);
  REQUIRE(a.shape() == b.shape());
  // The residual x - net(x): compare the network's part, net(x) = x - out.
  double num = 0, den = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    num = std::max(num, std::abs(double(a.data()[i]) - b.data()[i]));
    den = std::max(den, std::abs(double(x.data()[i]) - a.data()[i]));
  }
  CHECK(num > 0);          // it did run in another precision
  CHECK(num < 0.03 * den); // and stayed within bf16's accuracy over five layers
  // Back to f32: bit for bit the f32 network again.
  bf16.setPrecision(Precision::F32);
  bf16.forward(x, b);
  CHECK(std::equal(a.data(), a.data() + a.numel(), b.data()));
}

TEST_CASE("bf16 refuses networks that concatenate their input") {
  if (!bf16Supported())
    return;
  NetworkSpec spec;
  spec.inChannels = 1;
  spec.layers = {Layer::conv(1, 4), Layer::relu(), Layer::concatInput(4, 1), Layer::conv(5, 1)};
  Network net(spec);
  CHECK_THROWS_WITH_AS(net.setPrecision(Precision::BF16), doctest::Contains("concatenate"),
                       WeightsError);
  CHECK(net.precision() == Precision::F32);
}
