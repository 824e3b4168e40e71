// TrainableNetwork on a device (trainOn): forward, weight gradients and input gradient against the
// CPU's oneDNN training with the same weights, for the PODM layer kinds (dilated ReLU
// convolutions with a residual output; ELU / LeakyReLU with replicate padding and strides; dense
// layers). On every machine the device is the CUDA trainer's steps run on the host
// (tests/runtime/cuda/network_host_train.h), which checks the plan, the backward order, the
// gradient math the GPU kernels run and TrainableNetwork's plumbing; with a GPU visible, the same
// comparison runs on cuDNN ("cuda: ..." cases, which scripts/gpu-check.sh runs).
#include "runtime/backend_factory.h"
#include "stdlib/nn/network.h"
#include "stdlib/nn/trainable_network.h"
#include "tests/runtime/cuda/network_host_train.h"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <random>

using namespace podm;
using namespace podm::nn;

namespace {

using cuda::hostrun::HostTrainingBackend;
using NoTrainingBackend = cuda::hostrun::TrainerOnlyBackend;

Tensor randomTensor(Shape s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = u(rng);
  return t;
}

// max |a - b| / max(max |b|, floor): one figure per tensor, robust to entries near zero.
double relativeError(const float* a, const float* b, int64_t n) {
  double diff = 0, scale = 1e-6;
  for (int64_t i = 0; i < n; ++i) {
    diff = std::max(diff, double(std::abs(a[i] - b[i])));
    scale = std::max(scale, double(std::abs(b[i])));
  }
  return diff / scale;
}

struct Case {
  const char* name;
  NetworkSpec spec;
  Shape in;
};

std::vector<Case> cases() {
  NetworkSpec mixed;
  mixed.inChannels = 2;
  mixed.layers = {Layer::conv(2, 4, 3, 2, 1, Padding::Replicate), Layer::elu(1.0f),
                  Layer::conv(4, 4, 3, 1, 2), Layer::leakyRelu(0.1f),
                  Layer::conv(4, 3, 3, 2, 1, Padding::Same, /*bias=*/false)};
  NetworkSpec dense = mlp(12, {5}, 3);
  dense.inChannels = 3;
  dense.layers.insert(dense.layers.begin(), Layer::elu(1.0f));
  return {{"dilated ReLU denoiser, residual", residual(dilatedCnn(4, 8, {1, 2, 3, 1})),
           Shape{3, 1, 12, 10}},
          {"ELU / LeakyReLU, replicate padding, stride, no bias", mixed, Shape{2, 2, 9, 11}},
          {"dense layers after an activation", dense, Shape{2, 3, 2, 2}}};
}

// Runs one forward and backward of `spec` on the CPU and on `device` with the same weights and
// checks the output, every gradient and the input gradient to `tolerance` (relative, per tensor).
void compareWithCpu(Backend& device, const Case& c, double tolerance) {
  INFO(c.name);
  TrainableNetwork cpu(c.spec), dev(c.spec);
  cpu.initialize(17);
  dev.bind(cpu.weights());
  std::string why;
  REQUIRE_MESSAGE(dev.trainOn(device, &why), why);
  CHECK(dev.device() == device.name());
  CHECK(cpu.device() == "cpu");

  const Tensor x = randomTensor(c.in, 3);
  Tensor outCpu, outDev;
  cpu.forward(x, outCpu);
  dev.forward(x, outDev);
  REQUIRE(outDev.shape() == outCpu.shape());
  CHECK(relativeError(outDev.data(), outCpu.data(), outCpu.numel()) < tolerance);

  const Tensor r = randomTensor(outCpu.shape(), 4);
  cpu.zeroGrad();
  dev.zeroGrad();
  Tensor dxCpu, dxDev;
  cpu.backward(r, &dxCpu);
  dev.backward(r, &dxDev);
  REQUIRE(dxDev.shape() == x.shape());
  CHECK(relativeError(dxDev.data(), dxCpu.data(), dxCpu.numel()) < tolerance);
  ParameterList pc = cpu.parameters(), pd = dev.parameters();
  REQUIRE(pc.size() == pd.size());
  for (size_t k = 0; k < pc.size(); ++k) {
    INFO(pc[k]->name);
    CHECK(pd[k]->name == pc[k]->name);
    CHECK(relativeError(pd[k]->grad.data(), pc[k]->grad.data(), pc[k]->grad.numel()) < tolerance);
  }

  // Gradients accumulate, and skipping the input gradient changes no weight gradient.
  std::vector<Tensor> once;
  for (Parameter* p : pd)
    once.push_back(p->grad.clone());
  dev.forward(x, outDev);
  dev.backward(r, nullptr);
  for (size_t k = 0; k < pd.size(); ++k)
    for (int64_t i = 0; i < pd[k]->grad.numel(); ++i)
      CHECK(pd[k]->grad.data()[i] == doctest::Approx(2 * once[k].data()[i]).epsilon(1e-5));
}

} // namespace

TEST_CASE("trainable network on a device: the cuDNN trainer's steps agree with oneDNN") {
  HostTrainingBackend host;
  for (const Case& c : cases())
    compareWithCpu(host, c, 2e-5);
}

TEST_CASE("trainable network on a device: updated weights reach the next forward") {
  HostTrainingBackend host;
  const Case c = cases()[0];
  TrainableNetwork cpu(c.spec), dev(c.spec);
  cpu.initialize(5);
  dev.bind(cpu.weights());
  REQUIRE(dev.trainOn(host));
  // An optimizer writes the parameters in place between steps.
  for (TrainableNetwork* net : {&cpu, &dev})
    for (Parameter* p : net->parameters())
      for (int64_t i = 0; i < p->value.numel(); ++i)
        p->value.data()[i] *= 0.5f;
  const Tensor x = randomTensor(c.in, 8);
  Tensor a, b;
  cpu.forward(x, a);
  dev.forward(x, b);
  CHECK(relativeError(b.data(), a.data(), a.numel()) < 2e-5);
}

TEST_CASE("trainable network on a device: a backend that cannot train leaves it on the CPU") {
  NoTrainingBackend none;
  TrainableNetwork net(residual(dilatedCnn(2, 4, {1, 1})));
  std::string why;
  CHECK_FALSE(net.trainOn(none, &why));
  CHECK(why.find("none backend does not train networks") != std::string::npos);
  CHECK(net.device() == "cpu");
  net.initialize(1);
  Tensor out;
  net.forward(randomTensor(Shape{1, 1, 8, 8}, 2), out); // still runs, on oneDNN
  CHECK(out.shape() == (Shape{1, 1, 8, 8}));
}

TEST_CASE("trainable network on a device: errors name the problem") {
  HostTrainingBackend host;
  TrainableNetwork net(residual(dilatedCnn(2, 4, {1, 1})));
  net.initialize(1);
  REQUIRE(net.trainOn(host));
  Tensor out;
  CHECK_THROWS_WITH_AS(net.forward(randomTensor(Shape{1, 2, 8, 8}, 2), out),
                       doctest::Contains("channels"), WeightsError);
}

TEST_CASE("cuda: trainable network gradients on cuDNN agree with the CPU") {
  std::string why;
  std::unique_ptr<Backend> cuda = makeCudaBackend(&why);
  if (!cuda) {
    MESSAGE("cuda training checks skipped: " << why);
    return;
  }
  // cuDNN sums in other orders than oneDNN (FMA math, no TF32): 1e-4 relative per tensor, the
  // tolerance of the examples' CPU/GPU comparison.
  for (const Case& c : cases())
    compareWithCpu(*cuda, c, 1e-4);
  MESSAGE("cuda training checks ran on the GPU");
}
