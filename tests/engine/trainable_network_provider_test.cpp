// TrainableNetworkProvider through the NetworkProvider interface: per-file sharing of networks
// across stages, initialisation from an existing file or from a seeded He init, operator
// backward equal to the network's own backward, save()/load() round trips and weight files that
// the inference provider (`podm run`) reads back with the same outputs.
#include "engine/network_provider.h"
#include "engine/trainable_network_provider.h"
#include "stdlib/nn/safetensors.h"
#include "stdlib/nn/spec_text.h"
#include "stdlib/nn/trainable_network.h"
#include "tests/runtime/cuda/network_host_train.h"
#include "tests/support/scratch_dir.h"

#include <cmath>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <random>

using namespace podm;
namespace fs = std::filesystem;

namespace {

Tensor randomTensor(Shape s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = u(rng);
  return t;
}

double maxAbsDiff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, double(std::abs(a.data()[i] - b.data()[i])));
  return m;
}

nn::NetworkSpec spec() {
  return nn::residual(nn::dilatedCnn(3, 4, {1, 2, 1}));
}

// Stages 0 and 2 share a.safetensors (which exists); stage 1 uses b.safetensors (which does not).
NetworkDesc desc() {
  return NetworkDesc{
      "A", nn::encodeSpec(spec()), {"a.safetensors", "b.safetensors", "a.safetensors"}, "net."};
}

// Writes a.safetensors with known weights under the node's prefix; returns the network.
nn::TrainableNetwork writeA(const fs::path& dir) {
  nn::TrainableNetwork a(spec());
  a.initialize(99);
  nn::writeSafetensors((dir / "a.safetensors").string(), a.weights("net."));
  return a;
}

} // namespace

TEST_CASE("stages sharing a file share one trainable network, initialised from the file") {
  test::ScratchDir scratch;
  const fs::path& dir = scratch.path();
  nn::TrainableNetwork a = writeA(dir);
  engine::TrainableNetworkProvider provider(dir, 7);
  std::unique_ptr<NetworkOperator> op = provider.make(desc());
  ParameterList p0 = op->parameters(0), p1 = op->parameters(1), p2 = op->parameters(2);
  REQUIRE(p0.size() == 6);
  CHECK(p0 == p2);
  CHECK(p0[0] != p1[0]);
  CHECK(p0[0]->name == "net.stage0.conv0.weight");
  CHECK(p1[0]->name == "net.stage1.conv0.weight");
  CHECK(provider.parameters().size() == 12);
  Tensor x = randomTensor(Shape{2, 1, 9, 11}, 1), y0, ya;
  op->apply(x, 0, y0);
  a.forward(x, ya);
  CHECK(maxAbsDiff(y0, ya) == 0);
  std::vector<std::string> lines = provider.describe();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("stages 0,2") != std::string::npos);
  CHECK(lines[0].find("(loaded)") != std::string::npos);
  CHECK(lines[1].find("He init") != std::string::npos);
  CHECK_THROWS_WITH_AS(op->apply(x, 3, y0), doctest::Contains("stage 3 has no weight file"),
                       std::runtime_error);
  // The same node again (an executor and a tape on one provider) reaches the same networks.
  CHECK(provider.make(desc())->parameters(1) == p1);
}

TEST_CASE("He initialisation of missing files depends on the seed only") {
  test::ScratchDir scratch;
  const fs::path& dir = scratch.path();
  auto first = [&](uint64_t seed) {
    engine::TrainableNetworkProvider provider(dir, seed);
    Parameter* w = provider.make(desc())->parameters(1)[0];
    return std::vector<float>(w->value.data(), w->value.data() + w->value.numel());
  };
  CHECK(first(3) == first(3));
  CHECK(first(3) != first(4));
}

TEST_CASE("operator backward recomputes the forward and equals the network's backward") {
  test::ScratchDir scratch;
  const fs::path& dir = scratch.path();
  nn::TrainableNetwork a = writeA(dir);
  engine::TrainableNetworkProvider provider(dir);
  std::unique_ptr<NetworkOperator> op = provider.make(desc());
  Tensor x = randomTensor(Shape{2, 1, 9, 11}, 2), other = randomTensor(Shape{2, 1, 9, 11}, 3);
  Tensor g = randomTensor(Shape{2, 1, 9, 11}, 4), y, dIn, dRef;
  op->apply(other, 0, y); // a forward on another input must not leak into the backward
  for (Parameter* p : op->parameters(0))
    p->grad.fill(0.0f);
  op->backward(x, 2, g, dIn);
  a.forward(x, y);
  a.zeroGrad();
  a.backward(g, &dRef);
  CHECK(maxAbsDiff(dIn, dRef) == 0);
  ParameterList mine = op->parameters(0), ref = a.parameters();
  for (size_t k = 0; k < mine.size(); ++k)
    CHECK(maxAbsDiff(mine[k]->grad, ref[k]->grad) == 0);
  // Stage 1's network was not involved.
  for (Parameter* p : op->parameters(1))
    for (int64_t i = 0; i < p->grad.numel(); ++i)
      REQUIRE(p->grad.data()[i] == 0.0f);
}

TEST_CASE("a provider with a training device makes networks that train there") {
  test::ScratchDir scratch;
  const fs::path& dir = scratch.path();
  nn::TrainableNetwork a = writeA(dir);
  cuda::hostrun::HostTrainingBackend device;
  engine::TrainableNetworkProvider provider(dir);
  provider.setDevice(&device);
  std::unique_ptr<NetworkOperator> op = provider.make(desc());
  CHECK(device.trainers == 2); // one per distinct weight file
  Tensor x = randomTensor(Shape{2, 1, 9, 11}, 2), g = randomTensor(Shape{2, 1, 9, 11}, 4);
  Tensor y, yRef, dIn, dRef;
  op->apply(x, 0, y);
  a.forward(x, yRef);
  CHECK(maxAbsDiff(y, yRef) < 1e-5);
  for (Parameter* p : op->parameters(0))
    p->grad.fill(0.0f);
  op->backward(x, 0, g, dIn);
  a.zeroGrad();
  a.backward(g, &dRef);
  CHECK(maxAbsDiff(dIn, dRef) < 1e-4);
  ParameterList mine = op->parameters(0), ref = a.parameters();
  for (size_t k = 0; k < mine.size(); ++k)
    CHECK(maxAbsDiff(mine[k]->grad, ref[k]->grad) < 1e-4);

  // A device that cannot train makes make() fail, naming the network and the reason.
  cuda::hostrun::TrainerOnlyBackend none("none");
  engine::TrainableNetworkProvider refused(dir);
  refused.setDevice(&none);
  CHECK_THROWS_WITH(refused.make(desc()),
                    doctest::Contains("network 'A' cannot train on none: the none backend does not "
                                      "train networks itself"));
}

TEST_CASE("save, load and weight files that podm run reads") {
  test::ScratchDir scratch;
  const fs::path& dir = scratch.path();
  writeA(dir);
  engine::TrainableNetworkProvider provider(dir, 5);
  std::unique_ptr<NetworkOperator> op = provider.make(desc());
  // Move every parameter so the saved state differs from both initial states.
  for (Parameter* p : provider.parameters())
    for (int64_t i = 0; i < p->value.numel(); ++i)
      p->value.data()[i] += 0.01f * float(i % 7);
  std::string all = (dir / "trained.safetensors").string();
  provider.save(all);
  nn::TensorMap saved = nn::loadWeights(all);
  CHECK(saved.size() == 12);
  CHECK(saved.count("net.stage1.conv2.bias"));

  engine::TrainableNetworkProvider other(dir, 6);
  std::unique_ptr<NetworkOperator> op2 = other.make(desc());
  other.load(all);
  ParameterList p = provider.parameters(), q = other.parameters();
  REQUIRE(p.size() == q.size());
  for (size_t k = 0; k < p.size(); ++k)
    CHECK(maxAbsDiff(p[k]->value, q[k]->value) == 0);

  provider.saveWeightFiles();
  CHECK(fs::exists(dir / "b.safetensors"));
  engine::StdlibNetworkProvider inference(dir);
  std::unique_ptr<NetworkOperator> run = inference.make(desc());
  Tensor x = randomTensor(Shape{1, 1, 12, 10}, 8);
  for (int64_t stage : {0, 1, 2}) {
    Tensor a, b;
    op->apply(x, stage, a);
    run->apply(x, stage, b);
    CHECK(maxAbsDiff(a, b) < 1e-5);
  }
  nn::writeSafetensors(all, {});
  CHECK_THROWS_WITH_AS(other.load(all), doctest::Contains("no tensor 'net.stage0.conv0.weight'"),
                       nn::WeightsError);
}

TEST_CASE("untrainable architectures are refused with the reason") {
  nn::NetworkSpec s = nn::dilatedCnn(2, 4, {1, 1});
  s.layers.insert(s.layers.begin() + 1, nn::Layer::batchNorm(4));
  test::ScratchDir scratch;
  engine::TrainableNetworkProvider provider(scratch.path());
  NetworkDesc d{"A", nn::encodeSpec(s), {"w.safetensors"}, ""};
  CHECK_THROWS_WITH(provider.make(d), doctest::Contains("batch norm"));
}

TEST_CASE("the authors' Keras HDF5 denoiser starts a trainable network (skipped without data)") {
  const char* env = std::getenv("PODM_DATA_DIR");
  fs::path model = fs::path(env ? env : PODM_SOURCE_DIR "/../shared/data") / "podm-official/model";
  if (!fs::exists(model / "net5.hdf5")) {
    MESSAGE("skipped: " << (model / "net5.hdf5").string() << " not found");
    return;
  }
  nn::NetworkSpec s = nn::residual(nn::dilatedCnn(7, 64, {1, 2, 3, 4, 3, 2, 1}));
  engine::TrainableNetworkProvider provider(model);
  std::unique_ptr<NetworkOperator> op =
      provider.make(NetworkDesc{"A", nn::encodeSpec(s), {"net5.hdf5"}, ""});
  CHECK(provider.describe().at(0).find("(loaded)") != std::string::npos);
  nn::Network ref = nn::loadNetwork(s, (model / "net5.hdf5").string());
  // A smooth image plus noise, the input the denoiser was trained on.
  Tensor clean(Shape{1, 1, 24, 24}), noisy(Shape{1, 1, 24, 24});
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  for (int64_t y = 0; y < 24; ++y)
    for (int64_t x = 0; x < 24; ++x) {
      clean.at(y, x) = 0.5f + 0.3f * float(std::sin(0.3 * double(x)) * std::cos(0.2 * double(y)));
      noisy.at(y, x) = clean.at(y, x) + noise(rng);
    }
  Tensor a, b;
  op->apply(noisy, 0, a);
  ref.forward(noisy, b);
  CHECK(maxAbsDiff(a, b) < 1e-5);
  // The file's recorded architecture is checked: other dilations would bind silently.
  nn::NetworkSpec wrong = nn::residual(nn::dilatedCnn(7, 64, {1, 1, 1, 1, 1, 1, 1}));
  CHECK_THROWS_WITH(provider.make(NetworkDesc{"B", nn::encodeSpec(wrong), {"net5.hdf5"}, ""}),
                    doctest::Contains("model_config differs"));
}
