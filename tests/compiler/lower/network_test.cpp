// Networks as the propagation A: a model's `net` is lowered to a `network` node that runs
// stdlib/nn through the CLI's network provider; the PODM stage built around it must equal a
// hand-written loop of Network::forward, the closed-form F-step and the prox, stage by stage with
// per-stage weights.
#include "engine/network_provider.h"
#include "lower_helpers.h"
#include "runtime/io/color.h"
#include "runtime/io/image.h"
#include "stdlib/nn/safetensors.h"
#include "stdlib/nn/spec_text.h"
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace podm;
using namespace podm::testing;
namespace fs = std::filesystem;

namespace {

using Result = PodmResult;

const ir::Node* findNetwork(const ir::Graph& g) {
  for (const ir::Node& node : g.nodes())
    if (node.op == ir::Op::Network)
      return &node;
  return nullptr;
}

} // namespace

TEST_CASE("network spec text round-trips every layer field") {
  nn::NetworkSpec s = nn::residual(nn::dilatedCnn(3, 5, {1, 2, 1}, 2));
  s.layers.push_back(nn::Layer::batchNorm(2, 1e-5f));
  s.layers.push_back(nn::Layer::elu(0.7f));
  s.layers.push_back(nn::Layer::leakyRelu(0.2f));
  s.layers.push_back(nn::Layer::upsample(3));
  s.layers.push_back(nn::Layer::conv(2, 4, 5, 2, 2, nn::Padding::Replicate, false));
  s.layers.back().name = "head";
  nn::NetworkSpec back = nn::decodeSpec(nn::encodeSpec(s));
  CHECK(back.inChannels == 2);
  CHECK(back.residual);
  REQUIRE(back.layers.size() == s.layers.size());
  for (size_t i = 0; i < s.layers.size(); ++i) {
    const nn::Layer &a = s.layers[i], &b = back.layers[i];
    INFO("layer ", i);
    CHECK((a.kind == b.kind && a.name == b.name && a.in == b.in && a.out == b.out &&
           a.kernel == b.kernel && a.dilation == b.dilation && a.stride == b.stride &&
           a.padding == b.padding && a.bias == b.bias && a.alpha == b.alpha && a.eps == b.eps &&
           a.factor == b.factor));
  }
  CHECK(nn::encodeSpec(back) == nn::encodeSpec(s));
  CHECK_THROWS_AS(nn::decodeSpec("in 1\nconv in=1 out=x\n"), nn::WeightsError);
  CHECK_THROWS_AS(nn::decodeSpec("in 1\nsoftmax\n"), nn::WeightsError);
  CHECK_THROWS_AS(nn::decodeSpec("relu\n"), nn::WeightsError);
}

TEST_CASE("a naive model with a per-stage net equals a hand-written loop of Network::forward") {
  podm::test::ScratchDir scratch;
  const fs::path& dir = scratch.path();
  std::mt19937 rng(7);
  const nn::NetworkSpec spec = nn::residual(nn::dilatedCnn(2, 4, {1, 2}));
  writeRandomWeights(spec, (dir / "net3.safetensors").string(), rng);
  writeRandomWeights(spec, (dir / "net5.safetensors").string(), rng);

  const double mu = 0.5, gamma = 0.5, lambda = 0.01;
  const std::string head = "model t\ninput o : image\nvar x : image = o\n"
                           "f(x) = 0.5 * || x - o ||^2\ng(x) = 0.01 * l1(x)\n"
                           "d(x, a) = mu / 2 * || x - a ||^2\nschedule idx = [3, 5, 3]\n";
  const std::string stages = "stages 3 naive { gamma = 0.5; mu = 0.5 }\n";
  const int64_t h = 12, w = 10;
  Tensor o = randomImage(h, w, rng);

  lower::LowerResult r =
      lowerText(head +
                    "net A[l] = residual(dilated_cnn(depth = 2, channels = 4, "
                    "dilations = [1, 2])) weights \"net{idx[l]}.safetensors\"\n" +
                    stages,
                {{"o", {h, w}}});
  const ir::Node* node = findNetwork(r.graph);
  REQUIRE(node);
  CHECK(node->attrs.getString("weights") == "net3.safetensors\nnet5.safetensors\nnet3.safetensors");
  CHECK(node->attrs.getString("spec") == nn::encodeSpec(spec));

  engine::StdlibNetworkProvider provider(dir); // relative paths resolve against the model's folder
  setDefaultNetworkProvider(&provider);
  RunResult got = runGraph(r.graph, {{"o", o}});

  // The same three stages by hand: x_A = net_l(x), x~ = (o + mu x_A) / (1 + mu),
  // x+ = soft(x~ - gamma (x~ - o + mu (x~ - x)), gamma lambda).
  nn::Network n3 = nn::loadNetwork(spec, (dir / "net3.safetensors").string());
  nn::Network n5 = nn::loadNetwork(spec, (dir / "net5.safetensors").string());
  nn::Network* nets[] = {&n3, &n5, &n3};
  Tensor x = o.clone(), xa(o.shape());
  for (nn::Network* net : nets) {
    net->forward(x, xa);
    Tensor next(o.shape());
    for (int64_t i = 0; i < x.numel(); ++i) {
      double ov = o.data()[i], xt = (ov + mu * xa.data()[i]) / (1 + mu);
      double v = xt - gamma * (xt - ov + mu * (xt - x.data()[i]));
      double t = gamma * lambda;
      next.data()[i] = static_cast<float>(std::copysign(std::max(std::fabs(v) - t, 0.0), v));
    }
    x = next;
  }
  const Tensor& out = got.outputs.at("x");
  double maxDiff = 0;
  for (int64_t i = 0; i < x.numel(); ++i)
    maxDiff = std::max(maxDiff, double(std::fabs(out.data()[i] - x.data()[i])));
  CHECK(maxDiff < 1e-5);
  CHECK(got.stages == 3);

  // A layers block with the same convolutions lowers to the same architecture.
  lower::LowerResult layers =
      lowerText(head +
                    "net A = residual(layers { conv(in = 1, out = 4, k = 3); relu; "
                    "conv(in = 4, out = 1, k = 3, dilation = 2) }) weights \"net3.safetensors\"\n" +
                    stages,
                {{"o", {h, w}}});
  REQUIRE(findNetwork(layers.graph));
  CHECK(findNetwork(layers.graph)->attrs.getString("spec") == nn::encodeSpec(spec));
  CHECK(findNetwork(layers.graph)->attrs.getString("weights") == "net3.safetensors");

  // A missing weight file names the node and the file when the executor binds it.
  engine::StdlibNetworkProvider elsewhere(dir / "nowhere");
  setDefaultNetworkProvider(&elsewhere);
  CHECK_THROWS_WITH_AS(runGraph(r.graph, {{"o", o}}), doctest::Contains("network 'A'"),
                       std::exception);
  setDefaultNetworkProvider(nullptr);
}

TEST_CASE("podm run: net weights from --weights-dir, RGB input restored on its Y channel") {
  podm::test::ScratchDir scratch;
  const fs::path& dir = scratch.path();
  fs::create_directories(dir / "weights");
  std::mt19937 rng(11);
  const nn::NetworkSpec spec = nn::residual(nn::dilatedCnn(2, 4, {1, 1}));
  writeRandomWeights(spec, (dir / "weights" / "w.safetensors").string(), rng);
  const std::string model = "model t\ninput o : image\nvar x : image = o\n"
                            "f(x) = 0.5 * || x - o ||^2\ng(x) = 0.01 * l1(x)\n"
                            "d(x, a) = mu / 2 * || x - a ||^2\n"
                            "net A = residual(dilated_cnn(depth = 2, channels = 4)) "
                            "weights \"w.safetensors\"\n"
                            "stages 2 naive { gamma = 0.5; mu = 0.5 }\n";
  std::ofstream(dir / "m.podm") << model;
  Tensor rgb(Shape{1, 3, 12, 10});
  for (int64_t i = 0; i < rgb.numel(); ++i)
    rgb.data()[i] = std::uniform_real_distribution<float>(0, 1)(rng);
  io::writeImage((dir / "rgb.png").string(), rgb);
  const std::string run =
      "run " + (dir / "m.podm").string() + " --input o=" + (dir / "rgb.png").string();

  // Relative weights are looked up next to the model: not there.
  Result missing = runPodm(run + " -o " + (dir / "x.npy").string());
  CHECK(missing.status == 1);
  CHECK(missing.out.find("net A: weight file") != std::string::npos);
  CHECK(missing.out.find("--weights-dir") != std::string::npos);

  Result npy = runPodm(run + " --weights-dir " + (dir / "weights").string() + " -o " +
                       (dir / "x.npy").string());
  REQUIRE_MESSAGE(npy.status == 0, npy.out);
  Result png = runPodm(run + " --weights-dir " + (dir / "weights").string() + " -o " +
                       (dir / "x.png").string());
  REQUIRE_MESSAGE(png.status == 0, png.out);
  CHECK(png.out.find("restored the Y channel") != std::string::npos);
  CHECK(io::readImage((dir / "x.png").string()).shape() == Shape{1, 3, 12, 10});

  // The .npy result is the model run in-process on the luma of the input.
  Tensor y = io::luma(io::readImage((dir / "rgb.png").string()));
  engine::StdlibNetworkProvider provider(dir / "weights");
  setDefaultNetworkProvider(&provider);
  RunResult want = runGraph(lowerText(model, {{"o", {12, 10}}}).graph, {{"o", y}});
  setDefaultNetworkProvider(nullptr);
  Tensor got = io::readImage((dir / "x.npy").string());
  REQUIRE(got.shape() == Shape{1, 1, 12, 10});
  double maxDiff = 0;
  for (int64_t i = 0; i < got.numel(); ++i)
    maxDiff = std::max(maxDiff, double(std::fabs(got.data()[i] - want.outputs.at("x").data()[i])));
  CHECK(maxDiff < 1e-6);
}
