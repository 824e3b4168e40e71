// Every network layer and template on oneDNN against the naive double-precision reference
// (reference.h), to 1e-5 relative in the max norm: dilations 1–4, odd image sizes, batches,
// strides, valid padding, batch-norm folding, fused and standalone activations, upsampling,
// concatenation, dense layers and residual output. Also the primitive cache and spec validation.
#include "reference.h"
#include "stdlib/nn/network.h"

#include <algorithm>
#include <doctest/doctest.h>
#include <random>

using namespace podm;
using namespace podm::nn;
using testref::RefTensor;

namespace {

struct Case {
  Tensor x;
  RefTensor ref;
};

Case randomInput(Shape s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Case c{Tensor(s), RefTensor{s.n, s.c, s.h, s.w, {}}};
  for (int64_t i = 0; i < s.numel(); ++i) {
    c.x.data()[i] = u(rng);
    c.ref.v.push_back(c.x.data()[i]);
  }
  return c;
}

// Max-norm relative error of the oneDNN forward against the reference.
double relError(const NetworkSpec& spec, Shape in, uint32_t seed) {
  Network net(spec);
  TensorMap w = testref::randomWeights(net, seed);
  net.bind(w);
  Case c = randomInput(in, seed + 1);
  Tensor out;
  net.forward(c.x, out);
  RefTensor r = testref::run(spec, c.ref, w);
  REQUIRE(out.shape() == Shape{r.n, r.c, r.h, r.w});
  double num = 0, den = 0;
  for (size_t i = 0; i < r.v.size(); ++i) {
    num = std::max(num, std::abs(double(out.data()[i]) - r.v[i]));
    den = std::max(den, std::abs(r.v[i]));
  }
  REQUIRE(den > 0);
  return num / den;
}

NetworkSpec single(int64_t in, std::vector<Layer> layers) {
  NetworkSpec s;
  s.inChannels = in;
  s.layers = std::move(layers);
  return s;
}

} // namespace

TEST_CASE("conv2d matches the reference for dilations 1-4, odd sizes, batches") {
  for (int64_t d = 1; d <= 4; ++d)
    for (Shape in : {Shape{1, 3, 17, 23}, Shape{2, 3, 9, 31}, Shape{1, 3, 5, 4}}) {
      CAPTURE(d);
      CAPTURE(in.str());
      CHECK(relError(single(3, {Layer::conv(3, 8, 3, d)}), in, uint32_t(10 * d)) < 1e-5);
    }
}

TEST_CASE("conv2d: kernel sizes, strides, valid padding, no bias") {
  CHECK(relError(single(2, {Layer::conv(2, 5, 5, 2)}), {1, 2, 19, 15}, 3) < 1e-5);
  CHECK(relError(single(2, {Layer::conv(2, 5, 3, 1, 2)}), {1, 2, 19, 16}, 4) < 1e-5);
  CHECK(relError(single(2, {Layer::conv(2, 4, 3, 2, 1, Padding::Valid)}), {2, 2, 13, 11}, 5) <
        1e-5);
  CHECK(relError(single(2, {Layer::conv(2, 4, 1, 1, 1, Padding::Same, false)}), {1, 2, 7, 7}, 6) <
        1e-5);
  CHECK(relError(single(2, {Layer::conv(2, 4, 4, 1)}), {1, 2, 10, 9}, 7) < 1e-5); // even kernel
}

TEST_CASE("conv2d with replicate padding") {
  for (int64_t d = 1; d <= 4; ++d) {
    CAPTURE(d);
    CHECK(relError(single(2, {Layer::conv(2, 5, 3, d, 1, Padding::Replicate)}), {2, 2, 13, 9},
                   uint32_t(30 + d)) < 1e-5);
  }
  CHECK(relError(single(2, {Layer::conv(2, 4, 3, 1, 2, Padding::Replicate), Layer::relu(),
                            Layer::conv(4, 2, 4, 1, 1, Padding::Replicate)}),
                 {1, 2, 11, 14}, 35) < 1e-5);
}

TEST_CASE("activations fused after a conv and standalone") {
  for (Layer act : {Layer::relu(), Layer::elu(1.0f), Layer::elu(0.5f), Layer::leakyRelu(0.1f)}) {
    CHECK(relError(single(2, {Layer::conv(2, 6, 3, 2), act}), {1, 2, 11, 13}, 8) < 1e-5);
    CHECK(relError(single(2, {act}), {1, 2, 11, 13}, 9) < 1e-5);
    CHECK(relError(single(2, {Layer::conv(2, 6, 3), act, Layer::conv(6, 2, 3), act}), {2, 2, 9, 7},
                   10) < 1e-5);
  }
}

TEST_CASE("a standalone activation does not modify the input") {
  Network net(single(1, {Layer::relu()}));
  net.bind({});
  Tensor x(Shape{1, 1, 3, 3});
  x.fill(-1.0f);
  Tensor y;
  net.forward(x, y);
  CHECK(x.data()[0] == -1.0f);
  CHECK(y.data()[0] == 0.0f);
}

TEST_CASE("batch norm is folded into the preceding convolution") {
  CHECK(relError(single(3, {Layer::conv(3, 8, 3, 2), Layer::batchNorm(8, 1e-3f), Layer::relu(),
                            Layer::conv(8, 3, 3), Layer::batchNorm(3, 1e-5f)}),
                 {2, 3, 15, 17}, 11) < 1e-5);
}

TEST_CASE("nearest upsampling, concatenation with the input, dense layers") {
  CHECK(relError(single(2, {Layer::upsample(2)}), {1, 2, 5, 7}, 12) < 1e-5);
  CHECK(relError(single(2, {Layer::conv(2, 4, 3), Layer::upsample(3), Layer::relu()}), {2, 2, 5, 3},
                 13) < 1e-5);
  CHECK(relError(single(2, {Layer::conv(2, 4, 3), Layer::relu(), Layer::concatInput(4, 2),
                            Layer::conv(6, 2, 3, 2)}),
                 {1, 2, 9, 11}, 14) < 1e-5);
  CHECK(relError(mlp(12, {16, 8}, 3), {4, 3, 2, 2}, 15) < 1e-5);
  CHECK(relError(single(1, {Layer::conv(1, 4, 3), Layer::relu(), Layer::dense(4 * 5 * 5, 2)}),
                 {3, 1, 5, 5}, 16) < 1e-5);
}

TEST_CASE("templates: residual dilated_cnn (IRCNN) and elu_cnn") {
  NetworkSpec ircnn = residual(dilatedCnn(7, 16, {1, 2, 3, 4, 3, 2, 1}));
  CHECK(ircnn.layers.size() == 13);
  CHECK(relError(ircnn, {1, 1, 33, 29}, 17) < 1e-5);
  CHECK(relError(ircnn, {2, 1, 16, 21}, 18) < 1e-5);
  NetworkSpec elu = eluCnn(6, 16);
  CHECK(elu.layers.size() == 11);
  CHECK(elu.layers[9].kind == LayerKind::ELU);
  CHECK(elu.layers[10].kind == LayerKind::Conv2d);
  CHECK(relError(elu, {1, 1, 19, 25}, 19) < 1e-5);
  CHECK(relError(residual(dilatedCnn(3, 8, {1, 2, 1}, 3)), {1, 3, 11, 12}, 20) < 1e-5);
}

TEST_CASE("primitives are cached per input shape and rebuilt after rebinding") {
  NetworkSpec spec = residual(dilatedCnn(3, 8, {1, 2, 1}));
  Network net(spec);
  TensorMap w = testref::randomWeights(net, 1);
  net.bind(w);
  Case a = randomInput({1, 1, 12, 12}, 2), b = randomInput({1, 1, 9, 14}, 3);
  Tensor ya, yb, ya2;
  net.forward(a.x, ya);
  net.forward(b.x, yb);
  net.forward(a.x, ya2);
  CHECK(net.cachedShapes() == 2);
  for (int64_t i = 0; i < ya.numel(); ++i)
    REQUIRE(ya.data()[i] == ya2.data()[i]);
  // The output tensor is reused when it has the right shape (the executor's views).
  float* before = ya2.data();
  net.forward(a.x, ya2);
  CHECK(ya2.data() == before);
  for (auto& [name, t] : w)
    for (float& v : t.data)
      v *= 0.5f;
  net.bind(w);
  CHECK(net.cachedShapes() == 0);
  net.forward(a.x, ya2);
  bool changed = false;
  for (int64_t i = 0; i < ya.numel(); ++i)
    changed |= ya.data()[i] != ya2.data()[i];
  CHECK(changed);
}

TEST_CASE("spec validation and forward errors name the layer") {
  auto msg = [](auto&& f) {
    try {
      f();
    } catch (const WeightsError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(msg([] { Network n(single(3, {Layer::conv(2, 4, 3)})); }).find("layer 0 'conv0'") !=
        std::string::npos);
  CHECK(msg([] {
          Network n(single(3, {Layer::relu(), Layer::batchNorm(3)}));
        }).find("must directly follow a convolution") != std::string::npos);
  CHECK(msg([] { Network n(residual(single(1, {Layer::conv(1, 2, 3)}))); }).find("residual") !=
        std::string::npos);
  CHECK(msg([] {
          dilatedCnn(7, 64, {1, 2, 3});
        }).find("one dilation per layer") != std::string::npos);
  Network net(single(1, {Layer::conv(1, 2, 3)}));
  Tensor x(Shape{1, 1, 4, 4}), y;
  CHECK(msg([&] { net.forward(x, y); }).find("before weights were bound") != std::string::npos);
  net.bind(testref::randomWeights(net, 1));
  Tensor x3(Shape{1, 3, 4, 4});
  CHECK(msg([&] { net.forward(x3, y); }).find("input has 3 channels") != std::string::npos);
}

TEST_CASE("binding: missing, extra and mis-shaped tensors name the layer and both shapes") {
  Network net(residual(dilatedCnn(3, 8, {1, 2, 1})));
  TensorMap good = testref::randomWeights(net, 5);
  auto bindMsg = [&](const TensorMap& w, const std::string& prefix = "") {
    try {
      net.bind(w, prefix);
    } catch (const WeightsError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  TensorMap missing = good;
  missing.erase("conv1.bias");
  CHECK(bindMsg(missing).find("layer 2 'conv1' (conv 8->8 k3 d2): missing tensor 'conv1.bias' "
                              "of shape [8]") != std::string::npos);
  TensorMap shaped = good;
  shaped["conv2.weight"].shape = {1, 8, 1, 9};
  CHECK(bindMsg(shaped).find("tensor 'conv2.weight' has shape [1, 8, 1, 9] but the layer needs "
                             "[1, 8, 3, 3]") != std::string::npos);
  TensorMap extra = good;
  extra["conv9.weight"] = HostTensor{{2}, {1, 2}};
  CHECK(bindMsg(extra).find("tensor 'conv9.weight' of shape [2] is not used") != std::string::npos);
  CHECK(!net.bound());
  // A prefix selects one network out of a file holding several.
  TensorMap two;
  for (auto& [k, v] : good) {
    two["a." + k] = v;
    two["b." + k] = v;
  }
  CHECK(bindMsg(two, "a.") == "no error");
  CHECK(net.bound());
  // PyTorch's batch-norm counter is accepted and ignored.
  Network bn(single(1, {Layer::conv(1, 2, 3), Layer::batchNorm(2)}));
  TensorMap bw = testref::randomWeights(bn, 2);
  bw["bn0.num_batches_tracked"] = HostTensor{{}, {7}};
  CHECK_NOTHROW(bn.bind(bw));
}

TEST_CASE("flops of the 7-layer denoiser") {
  Network net(residual(dilatedCnn(7, 64, {1, 2, 3, 4, 3, 2, 1})));
  double perPixel = 2.0 * 9 * (64 + 5 * 64 * 64 + 64);
  CHECK(net.flops({1, 1, 10, 10}) == doctest::Approx(perPixel * 100));
}
