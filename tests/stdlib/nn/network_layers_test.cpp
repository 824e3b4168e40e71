// The plain description of a bound network (Network::plainLayers, NetworkSchedule::describe:
// what the CUDA `network` node runs on cuDNN) reproduces the oneDNN network: the description is
// planned and run on the host exactly as the CUDA node runs it (runtime/cuda/network_plan.h with
// network_math.h and a direct convolution standing in for cuDNN, see
// tests/runtime/cuda/network_host_run.h) and compared with Network::forward to 1e-4 relative in
// the max norm, for every layer kind, padding, fused and standalone activations, folded batch
// norms, dense layers and residual output. Also which activations fold, and the schedule's one
// description per distinct weight file.
#include "nn_test_util.h"
#include "reference.h"
#include "stdlib/nn/network.h"
#include "stdlib/nn/safetensors.h"
#include "stdlib/nn/schedule.h"
#include "tests/runtime/cuda/network_host_run.h"

#include <algorithm>
#include <doctest/doctest.h>
#include <random>

using namespace podm;
using namespace podm::nn;

namespace {

Tensor randomTensor(Shape s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor t(s);
  for (int64_t i = 0; i < s.numel(); ++i)
    t.data()[i] = u(rng);
  return t;
}

// The description of `net` run on the host as the CUDA node runs it.
std::vector<float> runDescribed(const Network& net, const Tensor& x) {
  const Shape& s = x.shape();
  const cuda::NetPlan plan = cuda::planNetwork(net.plainLayers(), net.spec().inChannels,
                                               net.spec().residual, {s.n, s.c, s.h, s.w});
  return cuda::hostrun::run(plan, net.plainLayers(),
                            std::vector<float>(x.data(), x.data() + s.numel()));
}

double relError(const Tensor& want, const std::vector<float>& got) {
  REQUIRE(size_t(want.numel()) == got.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    num = std::max(num, std::abs(double(got[i]) - double(want.data()[i])));
    den = std::max(den, std::abs(double(want.data()[i])));
  }
  REQUIRE(den > 0);
  return num / den;
}

// Max-norm relative error of the described network against oneDNN on a random input.
double describedError(const NetworkSpec& spec, Shape in, uint32_t seed) {
  Network net(spec);
  net.bind(testref::randomWeights(net, seed));
  const Tensor x = randomTensor(in, seed + 1);
  Tensor out;
  net.forward(x, out);
  return relError(out, runDescribed(net, x));
}

NetworkSpec single(int64_t in, std::vector<Layer> layers, bool residualOut = false) {
  NetworkSpec s;
  s.inChannels = in;
  s.layers = std::move(layers);
  s.residual = residualOut;
  return s;
}

} // namespace

TEST_CASE("described networks: the language's templates match oneDNN") {
  CHECK(describedError(residual(dilatedCnn(7, 16, {1, 2, 3, 4, 3, 2, 1})), {1, 1, 23, 19}, 1) <
        1e-4);
  CHECK(describedError(dilatedCnn(3, 8, {1, 2, 1}, 3), {2, 3, 9, 12}, 2) < 1e-4);
  CHECK(describedError(eluCnn(4, 8), {1, 1, 17, 13}, 3) < 1e-4);
  CHECK(describedError(residual(eluCnn(3, 6, 2)), {2, 2, 8, 7}, 4) < 1e-4);
  CHECK(describedError(mlp(2 * 3 * 4, {7, 5}, 3), {2, 2, 3, 4}, 5) < 1e-4);
}

TEST_CASE("described networks: paddings, strides, kernels and biases match oneDNN") {
  CHECK(describedError(single(2, {Layer::conv(2, 5, 5, 2)}), {1, 2, 19, 15}, 10) < 1e-4);
  CHECK(describedError(single(2, {Layer::conv(2, 5, 3, 1, 2)}), {1, 2, 19, 16}, 11) < 1e-4);
  CHECK(describedError(single(2, {Layer::conv(2, 4, 3, 2, 1, Padding::Valid)}), {2, 2, 13, 11},
                       12) < 1e-4);
  CHECK(describedError(single(2, {Layer::conv(2, 4, 1, 1, 1, Padding::Same, false)}), {1, 2, 7, 7},
                       13) < 1e-4);
  CHECK(describedError(single(2, {Layer::conv(2, 4, 4, 1)}), {1, 2, 10, 9}, 14) < 1e-4);
  CHECK(describedError(single(2, {Layer::conv(2, 3, 2, 3, 2)}), {1, 2, 11, 12}, 15) < 1e-4);
  CHECK(describedError(single(1,
                              {Layer::conv(1, 4, 3, 2, 1, Padding::Replicate), Layer::relu(),
                               Layer::conv(4, 1, 4, 1, 1, Padding::Replicate)},
                              true),
                       {1, 1, 9, 8}, 16) < 1e-4);
}

TEST_CASE("described networks: folded batch norms and fused or standalone activations") {
  // conv, batch norm, activation: folded into one convolution with its activation.
  CHECK(describedError(single(1,
                              {Layer::conv(1, 6, 3), Layer::batchNorm(6), Layer::leakyRelu(0.2f),
                               Layer::conv(6, 1, 3), Layer::batchNorm(1)},
                              true),
                       {1, 1, 12, 10}, 20) < 1e-4);
  // Activations nothing can absorb: first, after another activation, after an upsampling.
  CHECK(describedError(
            single(1, {Layer::elu(0.7f), Layer::conv(1, 4, 3), Layer::relu(), Layer::elu(0.5f),
                       Layer::upsample(2), Layer::leakyRelu(0.1f), Layer::conv(4, 2, 3)}),
            {2, 1, 5, 6}, 21) < 1e-4);
}

TEST_CASE("described networks: upsampling, input concatenation and dense layers match oneDNN") {
  CHECK(describedError(single(2,
                              {Layer::conv(2, 4, 3), Layer::relu(), Layer::concatInput(4, 2),
                               Layer::conv(6, 2, 3)},
                              true),
                       {2, 2, 7, 9}, 30) < 1e-4);
  CHECK(describedError(single(1, {Layer::upsample(3), Layer::conv(1, 2, 3, 1, 3)}), {1, 1, 4, 5},
                       31) < 1e-4);
  CHECK(describedError(single(2, {Layer::conv(2, 3, 3), Layer::elu(), Layer::dense(3 * 4 * 5, 6),
                                  Layer::relu(), Layer::dense(6, 4, false)}),
                       {2, 2, 4, 5}, 32) < 1e-4);
}

TEST_CASE("a description folds each activation into the convolution before it") {
  Network net(single(1,
                     {Layer::conv(1, 4, 3, 2), Layer::batchNorm(4), Layer::elu(0.5f), Layer::relu(),
                      Layer::conv(4, 1, 3, 1, 1, Padding::Same, false)},
                     true));
  CHECK_THROWS_AS(net.plainLayers(), WeightsError);
  net.bind(testref::randomWeights(net, 40));
  const std::vector<NetLayer> layers = net.plainLayers();
  REQUIRE(layers.size() == 3);
  CHECK(layers[0].kind == NetLayerKind::Conv);
  CHECK(layers[0].dilation == 2);
  CHECK(layers[0].activation == NetActivation::ELU);
  CHECK(layers[0].alpha == 0.5f);
  CHECK(layers[1].kind == NetLayerKind::Activation);
  CHECK(layers[1].activation == NetActivation::ReLU);
  CHECK(layers[2].activation == NetActivation::None);
  REQUIRE(layers[2].bias != nullptr); // a layer without bias describes zeros
  for (int64_t o = 0; o < 1; ++o)
    CHECK(layers[2].bias[o] == 0.0f);
  CHECK(net.plainLayers()[0].weight == layers[0].weight); // the network's own copy, not a new one
}

TEST_CASE("a schedule describes each distinct weight file once, and its stages run") {
  testutil::ScratchDir dir;
  const NetworkSpec spec = residual(dilatedCnn(3, 4, {1, 2, 1}));
  Network proto(spec);
  std::vector<std::string> files;
  for (uint32_t k = 1; k <= 2; ++k) {
    files.push_back(dir.file("described" + std::to_string(k) + ".safetensors"));
    writeSafetensors(files.back(), testref::randomWeights(proto, 50 + k));
  }
  NetworkSchedule sched(spec, {{files[0], ""}, {files[1], ""}, {files[0], ""}});
  const NetworkDescription d = sched.describe();
  REQUIRE(d.available());
  CHECK(d.inChannels == 1);
  CHECK(d.residual);
  REQUIRE(d.networks.size() == 2);
  CHECK(d.stageNetwork == std::vector<int64_t>{0, 1, 0});
  CHECK(d.networks[0][0].weight != d.networks[1][0].weight);
  const Tensor x = randomTensor({1, 1, 10, 9}, 60);
  for (size_t l = 0; l < 3; ++l) {
    CAPTURE(l);
    const std::vector<NetLayer>& layers = d.networks[size_t(d.stageNetwork[l])];
    const cuda::NetPlan plan = cuda::planNetwork(layers, d.inChannels, d.residual, {1, 1, 10, 9});
    Tensor want;
    sched.at(l).forward(x, want);
    CHECK(relError(want, cuda::hostrun::run(plan, layers,
                                            std::vector<float>(x.data(), x.data() + x.numel()))) <
          1e-4);
  }
}
