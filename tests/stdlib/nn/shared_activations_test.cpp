// Networks share two process-wide activation buffers (onednn_exec.cpp): interleaving networks of
// different widths and input sizes, including one whose plan was built while the buffers were
// smaller, must give exactly what each network gives when it runs alone.
#include "reference.h"
#include "stdlib/nn/network.h"

#include <doctest/doctest.h>
#include <random>

using namespace podm;
using namespace podm::nn;

namespace {

Tensor randomImage(Shape s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor t(s);
  for (int64_t i = 0; i < s.numel(); ++i)
    t.data()[i] = u(rng);
  return t;
}

Tensor forwardOnce(Network& net, const Tensor& x) {
  Tensor out;
  net.forward(x, out);
  return out;
}

bool sameBits(const Tensor& a, const Tensor& b) {
  if (!(a.shape() == b.shape()))
    return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (a.data()[i] != b.data()[i])
      return false;
  return true;
}

} // namespace

TEST_CASE("networks sharing the activation buffers give what each gives alone") {
  const NetworkSpec narrow = dilatedCnn(4, 8, {1, 2, 2, 1});
  const NetworkSpec wide = residual(dilatedCnn(5, 24, {1, 2, 3, 2, 1}));
  const Tensor small = randomImage({1, 1, 17, 23}, 1), large = randomImage({2, 1, 40, 33}, 2);

  // Expected outputs from networks that never interleave with another.
  Network a0(narrow), b0(wide);
  TensorMap wa = testref::randomWeights(a0, 3), wb = testref::randomWeights(b0, 4);
  a0.bind(wa);
  b0.bind(wb);
  const Tensor aSmall = forwardOnce(a0, small), bLarge = forwardOnce(b0, large);
  const Tensor aLarge = forwardOnce(a0, large), bSmall = forwardOnce(b0, small);

  // Fresh networks: `a` plans on the small input first (small buffers), then the wide network on
  // the large input grows the shared buffers, so `a` must rebind its plan to the new storage.
  Network a(narrow), b(wide);
  a.bind(wa);
  b.bind(wb);
  CHECK(sameBits(forwardOnce(a, small), aSmall));
  CHECK(sameBits(forwardOnce(b, large), bLarge));
  CHECK(sameBits(forwardOnce(a, small), aSmall));
  CHECK(sameBits(forwardOnce(b, small), bSmall));
  CHECK(sameBits(forwardOnce(a, large), aLarge));
  CHECK(sameBits(forwardOnce(b, large), bLarge));
}
