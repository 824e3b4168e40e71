// `podm train --mode e2e` on a tiny relaxed deblurring model (2 stages, learnable DCT filters, mu
// from an mlp, a 2-layer 4-channel ELU net) and 16x16 crops: the training loss falls and the
// params move; what training writes is what `podm run` reads, giving the Tape's output with the
// trained params; a resumed run ends bit for bit where an uninterrupted one does; a non-finite
// loss stops the run with the last good checkpoint kept; a net per stage is written as one file
// per stage under an -o folder, which `podm run --weights-dir` reads back.
#include "../runtime/io/io_test_util.h"
#include "../support/run_podm.h"
#include "engine/graph_build.h"
#include "engine/model_loader.h"
#include "engine/param_binding.h"
#include "engine/stdlib_prox_provider.h"
#include "engine/trainable_network_provider.h"
#include "runtime/autodiff/tape.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"
#include "stdlib/nn/safetensors.h"
#include "train/checkpoint.h"
#include "train_project.h"

#include <cmath>
#include <doctest/doctest.h>
#include <filesystem>
#include <regex>

namespace {

using podm::io::test::ScratchDir;
namespace tr = podm::train;

const char* kTinyDeblur = R"(model tinydeblur
input o     : image
input k     : kernel
input sigma : scalar = 0.01
var u : image = o
op K = conv(k, boundary = "periodic")
op F = dct_filters(size = 3, learnable = true)
f(u)    = 0.5 * || K u - o ||^2
g(u)    = box(u, lo = 0, hi = 1)
d(u, a) = mu / 2 * || F (u - a) ||^2
param mu_net[l] = mlp(sigma, hidden = [4], init = 1e-2)
net A = elu_cnn(depth = 2, channels = 4) weights "tiny.safetensors"
stages 2 relaxed {
  gamma = 0.99 / L(f)
  mu    = mu_net[l]
}
)";

struct Project : TrainProject {
  Project() : TrainProject(kTinyDeblur) {}
  std::string common(const std::string& steps) const {
    return "train " + model + " --mode e2e --data " + data +
           " --sigma 2.55 --crop 16 --batch 2 --seed 3 --lr 1e-2 --val-crop 24 --steps " + steps;
  }
};

podm::nn::TensorMap weightsOf(const std::string& path) {
  return podm::nn::readSafetensors(path).tensors;
}

// The losses of the progress lines ("e2e: step 5/30  loss 0.05158 ...").
std::vector<double> losses(const std::string& log) {
  std::vector<double> out;
  std::regex line("e2e: step [0-9]+/[0-9]+  loss ([0-9.eE+-]+)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
       ++it)
    out.push_back(std::stod((*it)[1].str()));
  return out;
}

} // namespace

TEST_CASE("podm train e2e: the loss falls, the params move, podm run gives the Tape's output") {
  Project p;
  const std::string out = p.dir.file("out.safetensors");
  PodmResult r = runPodm(p.common("30") + " --no-augment --log-every 10 -o " + out);
  INFO(r.out);
  REQUIRE(r.status == 0);
  std::vector<double> l = losses(r.out);
  REQUIRE(l.size() == 3);
  CHECK(l.back() < l.front()); // mean loss of steps 21-30 below that of steps 1-10
  CHECK(r.out.find("at the start values") != std::string::npos);

  podm::nn::TensorMap w = weightsOf(out);
  REQUIRE(w.count("param.F.filters"));
  REQUIRE(w.count("param.mu_net.w2"));
  REQUIRE(w.count("conv0.weight"));
  // The mlp's last layer starts at zero (docs/lowering.md), so training moved it.
  double w2 = 0;
  for (float v : w.at("param.mu_net.w2").data)
    w2 += std::abs(v);
  CHECK(w2 > 0);

  // podm run with the trained file next to the model...
  std::filesystem::copy_file(out, p.dir.file("tiny.safetensors"));
  const std::string blurred = p.dir.file("o.tif"), kernel = p.dir.file("k.txt");
  podm::Tensor clean = podm::io::syntheticImage("scene", 20, 20, 7);
  podm::Tensor k = podm::io::gaussianKernel(5, 1.0);
  podm::io::writeTiff(blurred,
                      podm::io::addGaussianNoise(
                          podm::io::blur(clean, k, podm::numerics::Boundary::Periodic), 0.01, 5));
  podm::io::writeKernelText(kernel, k);
  const std::string restored = p.dir.file("u.tif");
  PodmResult run = runPodm("run " + p.model + " --input o=" + blurred + " --input k=" + kernel +
                           " -o " + restored);
  INFO(run.out);
  REQUIRE(run.status == 0);
  CHECK(run.out.find("initial values") == std::string::npos); // every param came from the file

  // ... equals the Tape's forward with the trained params and network.
  std::optional<podm::engine::LoadedModel> m =
      podm::engine::loadModel(p.model, podm::engine::Stop::AfterSema);
  REQUIRE(m);
  REQUIRE(m->checked);
  podm::engine::GraphInputs in;
  in.shapes["o"] = {20, 20};
  in.shapes["k"] = {5, 5};
  std::optional<podm::lower::LowerResult> lowered = podm::engine::lowerLoaded(*m, in);
  REQUIRE(lowered);
  podm::engine::TrainableNetworkProvider nets(p.dir.path());
  podm::cpu::CpuBackend cpu;
  podm::autodiff::Tape tape(
      lowered->graph, cpu,
      {&podm::engine::installStdlibProxProvider(), &nets, {"o", "k", "sigma"}});
  podm::Tensor sigma(podm::Shape{1, 1, 1, 1});
  sigma.data()[0] = 0.01f;
  podm::engine::ParamValues params =
      podm::engine::paramValuesFromWeights(lowered->graph, p.dir.path());
  CHECK(params.atInit.empty());
  podm::Tensor u =
      tape.forward({{"o", podm::io::readImage(blurred)}, {"k", k}, {"sigma", sigma}}, params.values)
          .outputs.at("u");
  podm::Tensor got = podm::io::readImage(restored);
  REQUIRE(got.numel() == u.numel());
  double worst = 0;
  for (int64_t i = 0; i < u.numel(); ++i)
    worst = std::max(worst, static_cast<double>(std::abs(got.data()[i] - u.data()[i])));
  CHECK(worst <= 1e-5);
}

TEST_CASE("podm train e2e: a resumed run ends bit for bit where an uninterrupted one does") {
  Project p;
  const std::string full = p.dir.file("full.safetensors"), out = p.dir.file("out.safetensors");
  const std::string ckpt = p.dir.file("run.ckpt");
  PodmResult a = runPodm(p.common("6") + " -o " + full);
  INFO(a.out);
  REQUIRE(a.status == 0);
  PodmResult first = runPodm(p.common("3") + " --checkpoint " + ckpt + " -o " + out);
  INFO(first.out);
  REQUIRE(first.status == 0);
  CHECK(tr::loadCheckpoint(ckpt).step == 3);
  CHECK(tr::loadCheckpoint(ckpt).mode == "e2e");
  PodmResult resumed = runPodm(p.common("6") + " --checkpoint " + ckpt + " --resume -o " + out);
  INFO(resumed.out);
  REQUIRE(resumed.status == 0);
  CHECK(resumed.out.find("resuming from " + ckpt + " at step 3") != std::string::npos);
  podm::nn::TensorMap wa = weightsOf(full), wb = weightsOf(out);
  REQUIRE(wa.size() == wb.size());
  for (const auto& [name, t] : wa) {
    CAPTURE(name);
    REQUIRE(wb.count(name));
    CHECK(wb.at(name).data == t.data); // bit for bit
  }
  // Other settings are refused on resume, naming the difference.
  PodmResult other =
      runPodm(p.common("6") + " --lr 1e-3 --checkpoint " + ckpt + " --resume -o " + out);
  CHECK(other.status == 1);
  CHECK(other.out.find("other training settings") != std::string::npos);
}

TEST_CASE("podm train e2e: a non-finite loss stops the run and keeps the last good checkpoint") {
  Project p;
  const std::string out = p.dir.file("out.safetensors"), ckpt = p.dir.file("run.ckpt");
  PodmResult r = runPodm(p.common("5") + " --checkpoint " + ckpt +
                         " --checkpoint-every 1 --debug-nan-at 3 -o " + out);
  INFO(r.out);
  CHECK(r.status == 1);
  CHECK(r.out.find("non-finite loss at step 3") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
  CHECK(tr::loadCheckpoint(ckpt).step == 2);

  // A model without a kernel input is no deblurring model: refused, naming what is missing.
  podm::io::test::spit(p.dir.file("denoise.podm"), R"(model denoise
input o : image
var x : image = o
f(x) = 0.5 * || x - o ||^2
g(x) = box(x, lo = 0, hi = 1)
d(x, a) = mu / 2 * || x - a ||^2
net A = elu_cnn(depth = 2, channels = 4) weights "d.safetensors"
stages 1 relaxed { gamma = 1e-4; mu = 100 }
)");
  PodmResult bad = runPodm("train " + p.dir.file("denoise.podm") + " --mode e2e --data " + p.data +
                           " --sigma 2.55 --steps 2 -o " + out);
  CHECK(bad.status == 1);
  CHECK(bad.out.find("kernel input") != std::string::npos);
  PodmResult range = runPodm(p.common("2") + " --sigma 1:5 -o " + out);
  CHECK(range.status == 2);
}

TEST_CASE("podm train e2e: a net per stage is written as one file per stage under an -o folder") {
  std::string text = kTinyDeblur;
  text.replace(text.find("net A = "), std::string("net A = ").size(), "net A[l] = ");
  text.replace(text.find("\"tiny.safetensors\""), std::string("\"tiny.safetensors\"").size(),
               "\"nets/stage_{l}.safetensors\"");
  TrainProject p(text.c_str());
  const std::string common = "train " + p.model + " --mode e2e --data " + p.data +
                             " --sigma 2.55 --crop 16 --batch 2 --seed 3 --lr 1e-2 "
                             "--val-crop 24 --steps 3 --kernels shake:4:5";
  // An existing file as -o is refused before any training.
  const std::string file = p.dir.file("taken.safetensors");
  podm::io::test::spit(file, "keep me");
  PodmResult refused = runPodm(common + " -o " + file);
  CHECK(refused.status == 2);
  CHECK(refused.out.find("-o must name a folder") != std::string::npos);
  CHECK(refused.out.find("e2e: step") == std::string::npos);

  const std::string out = p.dir.file("trained");
  PodmResult r = runPodm(common + " -o " + out);
  INFO(r.out);
  REQUIRE(r.status == 0);
  podm::nn::TensorMap w0 = weightsOf(out + "/nets/stage_0.safetensors");
  podm::nn::TensorMap w1 = weightsOf(out + "/nets/stage_1.safetensors");
  CHECK(w0.count("conv0.weight"));
  CHECK(w1.count("conv0.weight"));
  CHECK(w0.count("param.mu_net.w2")); // the params go with the first stage's file
  CHECK(w0.at("conv0.weight").data != w1.at("conv0.weight").data); // two networks

  // podm run reads the folder as its weights: every param from the files.
  const std::string blurred = p.dir.file("o.tif"), kernel = p.dir.file("k.txt");
  podm::Tensor k = podm::io::shakeKernel(5, 1);
  podm::io::writeTiff(blurred, podm::io::blur(podm::io::syntheticImage("scene", 20, 20, 7), k,
                                              podm::numerics::Boundary::Periodic));
  podm::io::writeKernelText(kernel, k);
  PodmResult run = runPodm("run " + p.model + " --weights-dir " + out + " --input o=" + blurred +
                           " --input k=" + kernel + " -o " + p.dir.file("u.tif"));
  INFO(run.out);
  CHECK(run.status == 0);
  CHECK(run.out.find("initial values") == std::string::npos);
}
