// TrainableNetwork: the backward pass against central finite differences (input gradient and
// sampled entries of every weight and bias, for the PODM layer kinds: dilated convolutions,
// ReLU / ELU / LeakyReLU, replicate padding, residual output, dense layers), the forward against
// nn::Network with the same weights, the weight-file round trip `podm run` relies on, He
// initialisation, gradient accumulation and the error messages.
#include "nn_test_util.h"
#include "reference.h"
#include "stdlib/nn/network.h"
#include "stdlib/nn/safetensors.h"
#include "stdlib/nn/trainable_network.h"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <random>

using namespace podm;
using namespace podm::nn;

namespace {

Tensor randomTensor(Shape s, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = u(rng);
  return t;
}

// L(x, θ) = <R, net(x)> on the double-precision reference network (reference.h, checked against
// the oneDNN forward by layers_test.cpp): smooth enough at h ~ 1e-5 that ReLU kinks are almost
// never crossed, unlike a float forward, where h must be ~1e-3 and kinks blur the differences.
double refObjective(const NetworkSpec& spec, const testref::RefTensor& x, const TensorMap& w,
                    const Tensor& r) {
  testref::RefTensor out = testref::run(spec, x, w);
  double s = 0;
  for (size_t i = 0; i < out.v.size(); ++i)
    s += out.v[i] * double(r.data()[i]);
  return s;
}

// L(x, θ) = <R, net(x)> on the float network itself, summed in double.
double objective(TrainableNetwork& net, const Tensor& x, const Tensor& r) {
  Tensor out;
  net.forward(x, out);
  double s = 0;
  for (int64_t i = 0; i < out.numel(); ++i)
    s += double(out.data()[i]) * double(r.data()[i]);
  return s;
}

// Central difference of L in entry k of `v` against the analytic derivative `an`.
void checkEntry(TrainableNetwork& net, const Tensor& x, const Tensor& r, float* v, double an,
                double scale, const std::string& what) {
  const double h = 4e-3;
  float keep = *v;
  *v = float(keep + h);
  double up = objective(net, x, r);
  *v = float(keep - h);
  double down = objective(net, x, r);
  *v = keep;
  double fd = (up - down) / (2 * h);
  INFO(what << ": finite difference " << fd << ", backward " << an);
  CHECK(std::abs(fd - an) <= 2e-2 * std::max(std::abs(an), scale));
}

// The backward of the oneDNN network (input gradient, 4 sampled entries of every weight and
// bias) against central differences of the double reference.
void referenceGradientCheck(const NetworkSpec& spec, Shape in, uint64_t seed) {
  TrainableNetwork net(spec);
  net.initialize(seed);
  Tensor x = randomTensor(in, uint32_t(seed) + 1);
  Tensor out;
  net.forward(x, out);
  Tensor r = randomTensor(out.shape(), uint32_t(seed) + 2);
  net.zeroGrad();
  Tensor dx;
  net.backward(r, &dx);
  REQUIRE(dx.shape() == in);
  TensorMap w = net.weights();
  testref::RefTensor rx{in.n, in.c, in.h, in.w,
                        std::vector<double>(x.data(), x.data() + x.numel())};
  auto near = [](double fd, double an, double scale, const std::string& what) {
    INFO(what << ": finite difference " << fd << ", backward " << an);
    CHECK(std::abs(fd - an) <= 1e-3 * std::max(std::abs(an), scale));
  };
  std::mt19937 rng(uint32_t(seed) + 3);
  const double h = 1e-5;
  for (int k = 0; k < 6; ++k) {
    size_t i = size_t(std::uniform_int_distribution<int64_t>(0, x.numel() - 1)(rng));
    double keep = rx.v[i];
    rx.v[i] = keep + h;
    double up = refObjective(spec, rx, w, r);
    rx.v[i] = keep - h;
    double down = refObjective(spec, rx, w, r);
    rx.v[i] = keep;
    near((up - down) / (2 * h), dx.data()[i], 1e-2, "input[" + std::to_string(i) + "]");
  }
  for (Parameter* p : net.parameters()) {
    CHECK(std::any_of(p->grad.data(), p->grad.data() + p->grad.numel(),
                      [](float g) { return g != 0; })); // every parameter receives a gradient
    std::vector<float>& v = w.at(p->name).data;
    for (int k = 0; k < 4; ++k) {
      size_t i = size_t(std::uniform_int_distribution<int64_t>(0, p->value.numel() - 1)(rng));
      float keep = v[i];
      // Weights are float: difference over the perturbation float actually represents.
      float hi = float(keep + h), lo = float(keep - h);
      v[i] = hi;
      double up = refObjective(spec, rx, w, r);
      v[i] = lo;
      double down = refObjective(spec, rx, w, r);
      v[i] = keep;
      near((up - down) / (double(hi) - double(lo)), p->grad.data()[i], 1e-2,
           p->name + "[" + std::to_string(i) + "]");
    }
  }
}

// The same on the float network itself, for smooth (ELU) networks only: h must be large enough
// to rise above float rounding, so kinks would blur the differences.
void gradientCheck(const NetworkSpec& spec, Shape in, uint64_t seed) {
  TrainableNetwork net(spec);
  net.initialize(seed);
  Tensor x = randomTensor(in, uint32_t(seed) + 1);
  Tensor out;
  net.forward(x, out);
  Tensor r = randomTensor(out.shape(), uint32_t(seed) + 2);
  net.zeroGrad();
  Tensor dx;
  net.backward(r, &dx);
  REQUIRE(dx.shape() == in);
  std::mt19937 rng(uint32_t(seed) + 3);
  auto rms = [](const Tensor& t) {
    double s = 0;
    for (int64_t i = 0; i < t.numel(); ++i)
      s += double(t.data()[i]) * t.data()[i];
    return std::sqrt(s / double(t.numel()));
  };
  double xs = rms(dx);
  for (int k = 0; k < 6; ++k) {
    int64_t i = std::uniform_int_distribution<int64_t>(0, x.numel() - 1)(rng);
    checkEntry(net, x, r, x.data() + i, dx.data()[i], 0.1 * xs, "input[" + std::to_string(i) + "]");
  }
  for (Parameter* p : net.parameters()) {
    double ps = rms(p->grad);
    CHECK(ps > 0); // every parameter receives a gradient
    for (int k = 0; k < 4; ++k) {
      int64_t i = std::uniform_int_distribution<int64_t>(0, p->value.numel() - 1)(rng);
      checkEntry(net, x, r, p->value.data() + i, p->grad.data()[i], 0.1 * ps,
                 p->name + "[" + std::to_string(i) + "]");
    }
  }
}

double maxAbsDiff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, double(std::abs(a.data()[i] - b.data()[i])));
  return m;
}

// Conv chain with the other activations and padding modes, not residual, 2 input channels.
NetworkSpec mixedSpec() {
  NetworkSpec s;
  s.inChannels = 2;
  s.layers = {Layer::conv(2, 4, 3, 2, 1, Padding::Replicate), Layer::elu(1.0f),
              Layer::conv(4, 4, 3, 1), Layer::leakyRelu(0.1f), Layer::conv(4, 3, 3, 2)};
  return s;
}

} // namespace

TEST_CASE("trainable network backward matches finite differences") {
  SUBCASE("dilated ReLU denoiser, residual") {
    referenceGradientCheck(residual(dilatedCnn(3, 4, {2, 2, 2})), Shape{2, 1, 9, 11}, 11);
  }
  SUBCASE("ELU / LeakyReLU, replicate padding") {
    referenceGradientCheck(mixedSpec(), Shape{2, 2, 9, 11}, 21);
  }
  SUBCASE("dense layers with a leading activation") {
    NetworkSpec s = mlp(12, {5}, 3);
    s.inChannels = 3;
    s.layers.insert(s.layers.begin(), Layer::elu(1.0f));
    referenceGradientCheck(s, Shape{2, 3, 2, 2}, 41);
  }
  SUBCASE("ELU CNN, residual, differences of the float network itself") {
    gradientCheck(residual(eluCnn(3, 4)), Shape{2, 1, 9, 11}, 31);
  }
}

TEST_CASE("trainable forward equals nn::Network with the same weights") {
  for (const NetworkSpec& spec : {residual(dilatedCnn(3, 4, {1, 2, 3})), mixedSpec()}) {
    TrainableNetwork train(spec);
    train.initialize(5);
    Network net(spec);
    net.bind(train.weights());
    for (Shape in : {Shape{2, spec.inChannels, 9, 11}, Shape{1, spec.inChannels, 16, 7}}) {
      Tensor x = randomTensor(in, 6), a, b;
      train.forward(x, a);
      net.forward(x, b);
      CHECK(maxAbsDiff(a, b) < 1e-5);
    }
    CHECK(train.cachedShapes() == 2);
  }
}

TEST_CASE("trained weights saved as safetensors load into nn::Network under a prefix") {
  testutil::ScratchDir dir;
  NetworkSpec spec = residual(dilatedCnn(3, 4, {2, 2, 2}));
  TrainableNetwork train(spec, "stage0.");
  train.initialize(7);
  CHECK(train.parameters().front()->name == "stage0.conv0.weight");
  // A few optimizer-like updates so the saved weights are not the initial ones.
  Tensor x = randomTensor(Shape{2, 1, 9, 11}, 8), out;
  train.forward(x, out);
  train.zeroGrad();
  train.backward(out, nullptr);
  for (Parameter* p : train.parameters())
    for (int64_t i = 0; i < p->value.numel(); ++i)
      p->value.data()[i] -= 0.01f * p->grad.data()[i];
  std::string path = dir.file("trained.safetensors");
  writeSafetensors(path, train.weights("A."));
  Network net = loadNetwork(spec, path, "A.");
  Tensor a, b;
  train.forward(x, a);
  net.forward(x, b);
  CHECK(maxAbsDiff(a, b) < 1e-5);
  // And back into a fresh trainable network.
  TrainableNetwork again(spec);
  again.bind(loadWeights(path), "A.");
  Tensor c;
  again.forward(x, c);
  CHECK(maxAbsDiff(a, c) == 0);
}

TEST_CASE("He initialisation is deterministic and has the He scale") {
  NetworkSpec spec = dilatedCnn(3, 64, {1, 2, 1});
  TrainableNetwork a(spec), b(spec), c(spec);
  a.initialize(42);
  b.initialize(42);
  c.initialize(43);
  auto values = [](const TrainableNetwork& n) {
    std::vector<float> v;
    for (const auto& [name, t] : n.weights())
      v.insert(v.end(), t.data.begin(), t.data.end());
    return v;
  };
  CHECK(values(a) == values(b));
  CHECK_FALSE(values(a) == values(c));
  Parameter* mid = a.parameters()[2]; // conv1.weight, 64×64×3×3
  REQUIRE(mid->name == "conv1.weight");
  double s = 0, m = 0;
  for (int64_t i = 0; i < mid->value.numel(); ++i) {
    s += double(mid->value.data()[i]) * mid->value.data()[i];
    m += mid->value.data()[i];
  }
  double n = double(mid->value.numel());
  CHECK(std::sqrt(s / n) == doctest::Approx(std::sqrt(2.0 / (64 * 9))).epsilon(0.03));
  CHECK(std::abs(m / n) < 0.01);
  TensorMap w = a.weights();
  for (float v : w.at("conv1.bias").data)
    CHECK(v == 0.0f);
}

TEST_CASE("skipping the input gradient leaves the weight gradients unchanged") {
  NetworkSpec lead = mlp(12, {5}, 3);
  lead.inChannels = 3;
  lead.layers.insert(lead.layers.begin(), Layer::elu(1.0f));
  for (const NetworkSpec& spec : {lead, mixedSpec()}) {
    TrainableNetwork net(spec);
    net.initialize(12);
    Shape in = spec.layers[1].kind == LayerKind::Dense ? Shape{2, 3, 2, 2} : Shape{2, 2, 9, 11};
    Tensor x = randomTensor(in, 13), out, dx;
    net.forward(x, out);
    Tensor r = randomTensor(out.shape(), 14);
    net.zeroGrad();
    net.backward(r, &dx);
    std::vector<std::vector<float>> with;
    for (Parameter* p : net.parameters())
      with.emplace_back(p->grad.data(), p->grad.data() + p->grad.numel());
    net.zeroGrad();
    net.backward(r, nullptr);
    auto params = net.parameters();
    for (size_t k = 0; k < params.size(); ++k)
      CHECK(std::equal(with[k].begin(), with[k].end(), params[k]->grad.data()));
  }
}

TEST_CASE("gradients accumulate and the input gradient is optional") {
  NetworkSpec spec = residual(dilatedCnn(3, 4, {2, 2, 2}));
  TrainableNetwork net(spec);
  net.initialize(9);
  Tensor x = randomTensor(Shape{2, 1, 9, 11}, 10), out, dx;
  net.forward(x, out);
  Tensor r = randomTensor(out.shape(), 11);
  net.zeroGrad();
  net.backward(r, &dx);
  std::vector<std::vector<float>> once;
  for (Parameter* p : net.parameters())
    once.emplace_back(p->grad.data(), p->grad.data() + p->grad.numel());
  net.backward(r, nullptr);
  auto params = net.parameters();
  for (size_t k = 0; k < params.size(); ++k)
    for (int64_t i = 0; i < params[k]->grad.numel(); ++i)
      CHECK(params[k]->grad.data()[i] == doctest::Approx(2 * once[k][size_t(i)]).epsilon(1e-5));
}

TEST_CASE("trainable network errors name the problem") {
  NetworkSpec bn = dilatedCnn(2, 4, {1, 1});
  bn.layers.insert(bn.layers.begin() + 1, Layer::batchNorm(4));
  CHECK_THROWS_WITH_AS(TrainableNetwork{bn}, doctest::Contains("batch norm"), WeightsError);
  NetworkSpec spec = dilatedCnn(2, 4, {1, 1});
  TrainableNetwork net(spec);
  Tensor g(Shape{1, 1, 5, 5}), x(Shape{1, 1, 5, 5}), out;
  CHECK_THROWS_WITH_AS(net.backward(g, nullptr), doctest::Contains("without a preceding forward"),
                       WeightsError);
  net.forward(x, out);
  CHECK_THROWS_WITH_AS(net.backward(Tensor(Shape{1, 1, 5, 4}), nullptr),
                       doctest::Contains("output's shape 1x1x5x5"), WeightsError);
  TensorMap w = net.weights();
  w.erase("conv1.bias");
  CHECK_THROWS_WITH_AS(net.bind(w), doctest::Contains("missing tensor 'conv1.bias'"), WeightsError);
}
