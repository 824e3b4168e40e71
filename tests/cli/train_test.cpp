// `podm train` as a user runs it, on a tiny net and tiny generated images: SIGKILL mid-run never
// leaves a corrupt checkpoint and a resumed run ends with exactly the weights of an uninterrupted
// one; SIGINT saves and exits 130; a non-finite loss stops with the step named and the last good
// checkpoint untouched; per-stage noise levels (a list or a formula schedule) give one weight
// file per level that `podm run` reads; --init-from starts every network from a given one; bad
// flags exit 2, bad data and checkpoints exit 1 naming the file.
#include "../runtime/io/io_test_util.h"
#include "../support/run_podm.h"
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"
#include "stdlib/nn/safetensors.h"
#include "train/checkpoint.h"
#include "train_project.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <spawn.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace {

using podm::io::test::ScratchDir;
using podm::io::test::slurp;
namespace tr = podm::train;

const char* kTinyModel = R"(model tiny
input o : image
var x : image = o
f(x) = 0.5 * || x - o ||^2
g(x) = box(x, lo = 0, hi = 1)
d(x, a) = mu / 2 * || x - a ||^2
net A = residual(dilated_cnn(depth = 3, channels = 8, dilations = [1, 2, 1]))
  weights "tiny.safetensors"
stages 1 relaxed { gamma = 1e-4; mu = 100 }
)";

const char* kStagedModel = R"(model staged
input o : image
var x : image = o
f(x) = 0.5 * || x - o ||^2
g(x) = box(x, lo = 0, hi = 1)
d(x, a) = mu / 2 * || x - a ||^2
schedule sigma = [30, 30, 10]
net A[l] = residual(dilated_cnn(depth = 2, channels = 4, dilations = [1, 1]))
  weights "nets/w{l}.safetensors"
stages 3 relaxed { gamma = 1e-4; mu = 100 }
)";

struct Project : TrainProject {
  Project() : TrainProject(kTinyModel) {}
  // The options every run of one experiment shares (the resume must repeat them).
  std::string common(const std::string& steps = "120") const {
    return model + " --data " + data + " --sigma 25 --crop 16 --batch 4 --seed 3 --steps " + steps +
           " --val-crop 24";
  }
};

// Starts podm with `args` (split on spaces), output to `log`; returns the child's pid.
pid_t spawnPodm(const std::string& args, const std::string& log) {
  std::vector<std::string> parts{PODM_EXE};
  std::string cur;
  for (char c : args + " ") {
    if (c == ' ') {
      if (!cur.empty())
        parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  std::vector<char*> argv;
  for (std::string& p : parts)
    argv.push_back(p.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, PODM_EXE, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

// Polls until the checkpoint exists with at least `step` steps; every read must succeed (the file
// is only ever replaced atomically). False when the child ended first or after 60 s.
bool waitForCheckpoint(pid_t pid, const std::string& path, int64_t step) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(path)) {
      tr::Checkpoint c = tr::loadCheckpoint(path); // throws (failing the test) if ever corrupt
      if (c.step >= step)
        return true;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

podm::nn::TensorMap weightsOf(const std::string& path) {
  return podm::nn::readSafetensors(path).tensors;
}

void checkSameWeights(const podm::nn::TensorMap& a, const podm::nn::TensorMap& b) {
  REQUIRE(a.size() == b.size());
  for (const auto& [name, t] : a) {
    CAPTURE(name);
    REQUIRE(b.count(name));
    CHECK(b.at(name).shape == t.shape);
    CHECK(b.at(name).data == t.data); // bit for bit
  }
}

} // namespace

TEST_CASE("podm train: SIGKILL mid-run, resume, same weights as an uninterrupted run") {
  Project p;
  const std::string ref = p.dir.file("ref.safetensors"), out = p.dir.file("out.safetensors");
  const std::string ckpt = p.dir.file("run.ckpt");
  PodmResult full = runPodm("train " + p.common() + " -o " + ref);
  INFO(full.out);
  REQUIRE(full.status == 0);
  CHECK(full.out.find("validation PSNR") != std::string::npos);

  pid_t pid =
      spawnPodm("train " + p.common() + " --checkpoint " + ckpt + " --checkpoint-every 5 -o " + out,
                p.dir.file("killed.log"));
  bool reached = waitForCheckpoint(pid, ckpt, 20);
  ::kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  INFO(slurp(p.dir.file("killed.log")));
  REQUIRE(reached);
  REQUIRE(WIFSIGNALED(status)); // killed mid-run, not finished
  CHECK_FALSE(std::filesystem::exists(out));
  tr::Checkpoint c = tr::loadCheckpoint(ckpt);
  CHECK(c.step >= 20);
  CHECK(c.step < 120);
  CHECK(c.step % 5 == 0); // only whole checkpoints: nothing after the last one survives
  CHECK(c.model == "tiny");

  PodmResult resumed =
      runPodm("train " + p.common() + " --checkpoint " + ckpt + " --resume -o " + out);
  INFO(resumed.out);
  REQUIRE(resumed.status == 0);
  CHECK(resumed.out.find("at step " + std::to_string(c.step)) != std::string::npos);
  checkSameWeights(weightsOf(ref), weightsOf(out));
  CHECK(tr::loadCheckpoint(ckpt).step == 120);

  // What training wrote is what `podm run` reads.
  const std::string noisy = p.dir.file("noisy.png");
  podm::io::writePng(noisy, podm::io::addGaussianNoise(podm::io::syntheticImage("scene", 32, 32, 9),
                                                       25.0 / 255, 1));
  std::filesystem::copy_file(out, p.dir.file("tiny.safetensors"));
  PodmResult run =
      runPodm("run " + p.model + " --input o=" + noisy + " -o " + p.dir.file("restored.png"));
  INFO(run.out);
  CHECK(run.status == 0);
}

TEST_CASE("podm train: SIGINT saves a checkpoint and exits 130; the resume matches") {
  Project p;
  const std::string ckpt = p.dir.file("run.ckpt"), out = p.dir.file("out.safetensors");
  pid_t pid = spawnPodm("train " + p.common("80") + " --checkpoint " + ckpt +
                            " --checkpoint-every 10 -o " + out,
                        p.dir.file("int.log"));
  bool reached = waitForCheckpoint(pid, ckpt, 10);
  ::kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  std::string log = slurp(p.dir.file("int.log"));
  INFO(log);
  REQUIRE(reached);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  int64_t saved = tr::loadCheckpoint(ckpt).step;
  CHECK(log.find("interrupted at step " + std::to_string(saved)) != std::string::npos);

  PodmResult resumed =
      runPodm("train " + p.common("80") + " --checkpoint " + ckpt + " --resume -o " + out);
  INFO(resumed.out);
  REQUIRE(resumed.status == 0);
  PodmResult full = runPodm("train " + p.common("80") + " -o " + p.dir.file("ref.safetensors"));
  REQUIRE(full.status == 0);
  checkSameWeights(weightsOf(p.dir.file("ref.safetensors")), weightsOf(out));
}

TEST_CASE("podm train: a non-finite loss stops the run and keeps the last good checkpoint") {
  Project p;
  const std::string ckpt = p.dir.file("run.ckpt"), out = p.dir.file("out.safetensors");
  PodmResult r = runPodm("train " + p.common("20") + " --checkpoint " + ckpt +
                         " --checkpoint-every 3 --debug-nan-at 8 -o " + out);
  INFO(r.out);
  CHECK(r.status == 1);
  CHECK(r.out.find("non-finite loss at step 8") != std::string::npos);
  CHECK(tr::loadCheckpoint(ckpt).step == 6);
  CHECK_FALSE(std::filesystem::exists(out));

  // A learning rate that blows the weights up: the run stops at the first non-finite value.
  PodmResult blow = runPodm("train " + p.common("50") + " --lr 1e30 -o " + out);
  INFO(blow.out);
  CHECK(blow.status == 1);
  CHECK(blow.out.find("non-finite") != std::string::npos);
  CHECK(blow.out.find(" at step ") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("podm train: per-stage noise levels, one network per level, read by podm run") {
  ScratchDir dir;
  const std::string model = dir.file("staged.podm"), data = dir.file("data");
  podm::io::test::spit(model, kStagedModel);
  std::filesystem::create_directory(data);
  for (int i = 0; i < 2; ++i)
    podm::io::writePng(data + "/i" + std::to_string(i) + ".png",
                       podm::io::syntheticImage("scene", 24, 24, uint64_t(i + 5)));
  const std::string outDir = dir.file("trained");
  PodmResult r = runPodm("train " + model + " --data " + data +
                         " --crop 12 --batch 2 --steps 3 --val-count 0 -o " + outDir);
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("A sigma 30 (stages 1-2) -> 2 weight file(s)") != std::string::npos);
  CHECK(r.out.find("A sigma 10 (stage 3) -> 1 weight file(s)") != std::string::npos);
  // Stages 0 and 1 share the sigma-30 network.
  checkSameWeights(weightsOf(outDir + "/nets/w0.safetensors"),
                   weightsOf(outDir + "/nets/w1.safetensors"));
  CHECK(weightsOf(outDir + "/nets/w2.safetensors").at("conv0.weight").data !=
        weightsOf(outDir + "/nets/w0.safetensors").at("conv0.weight").data);
  const std::string noisy = dir.file("noisy.png");
  podm::io::writePng(noisy, podm::io::syntheticImage("scene", 20, 20, 1));
  PodmResult run = runPodm("run " + model + " --input o=" + noisy + " --weights-dir " + outDir +
                           " -o " + dir.file("out.png"));
  INFO(run.out);
  CHECK(run.status == 0);
}

TEST_CASE("podm train: levels from a formula schedule (--sigma-schedule), nets from --init-from") {
  ScratchDir dir;
  const std::string data = dir.file("data");
  std::filesystem::create_directory(data);
  for (int i = 0; i < 2; ++i)
    podm::io::writePng(data + "/i" + std::to_string(i) + ".png",
                       podm::io::syntheticImage("scene", 24, 24, uint64_t(i + 5)));
  // The staged model with its levels as a formula under another name than `sigma`.
  std::string text = kStagedModel;
  const std::string listed = "schedule sigma = [30, 30, 10]";
  text.replace(text.find(listed), listed.size(), "schedule lv = geomspace(30, 10, 3)");
  const std::string model = dir.file("levels.podm");
  podm::io::test::spit(model, text);
  const std::string base =
      "train " + model + " --data " + data + " --crop 12 --batch 2 --val-count 0";

  // A start network: one denoiser for every stage.
  const std::string start = dir.file("start");
  REQUIRE(runPodm(base + " --sigma 20 --steps 2 -o " + start).status == 0);
  const std::string init = start + "/nets/w0.safetensors";

  // One step at a vanishing rate leaves every network where --init-from put it.
  const std::string tuned = dir.file("tuned");
  PodmResult r = runPodm(base + " --sigma-schedule lv --init-from " + init +
                         " --steps 1 --lr 1e-12 -o " + tuned);
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("A sigma 30 (stage 1)") != std::string::npos);
  CHECK(r.out.find("A sigma 17.3205 (stage 2)") != std::string::npos);
  CHECK(r.out.find("A sigma 10 (stage 3)") != std::string::npos);
  const podm::nn::TensorMap from = weightsOf(init);
  for (int l = 0; l < 3; ++l) {
    const podm::nn::TensorMap got =
        weightsOf(tuned + "/nets/w" + std::to_string(l) + ".safetensors");
    REQUIRE(got.size() == from.size());
    for (const auto& [name, t] : from) {
      CAPTURE(name);
      const std::vector<float>& a = t.data;
      const std::vector<float>& b = got.at(name).data;
      REQUIRE(a.size() == b.size());
      for (size_t i = 0; i < a.size(); ++i)
        REQUIRE(std::abs(a[i] - b[i]) < 1e-6f);
    }
  }
  // Without --init-from the networks start elsewhere (He initialisation).
  const std::string fresh = dir.file("fresh");
  REQUIRE(runPodm(base + " --sigma-schedule lv --steps 1 --lr 1e-12 -o " + fresh).status == 0);
  CHECK(weightsOf(fresh + "/nets/w0.safetensors").at("conv0.weight").data !=
        from.at("conv0.weight").data);

  // Refusals: a schedule the model lacks, both ways of giving the level, a start file of another
  // architecture or none at all, --init-from in e2e mode. Nothing is written.
  const std::string out = " -o " + dir.file("refused");
  PodmResult noSchedule = runPodm(base + " --sigma-schedule nope --steps 1" + out);
  CHECK(noSchedule.status == 1);
  CHECK(noSchedule.out.find("no `schedule nope`") != std::string::npos);
  CHECK(runPodm(base + " --sigma 25 --sigma-schedule lv --steps 1" + out).status == 2);
  Project other; // 8-channel net: other shapes
  REQUIRE(runPodm("train " + other.common("1") + " -o " + dir.file("tiny.safetensors")).status ==
          0);
  PodmResult shapes = runPodm(base + " --sigma-schedule lv --init-from " +
                              dir.file("tiny.safetensors") + " --steps 1" + out);
  CHECK(shapes.status == 1);
  CHECK(shapes.out.find("--init-from " + dir.file("tiny.safetensors") + ": ") != std::string::npos);
  PodmResult missing = runPodm(base + " --sigma-schedule lv --init-from " +
                               dir.file("none.safetensors") + " --steps 1" + out);
  CHECK(missing.status == 1);
  CHECK(missing.out.find("--init-from " + dir.file("none.safetensors")) != std::string::npos);
  CHECK(runPodm(base + " --mode e2e --sigma 2 --init-from " + init + " --steps 1" + out).status ==
        2);
  CHECK_FALSE(std::filesystem::exists(dir.file("refused")));
}

TEST_CASE("podm train: usage errors exit 2, bad data and checkpoints exit 1 naming the file") {
  Project p;
  const std::string out = " -o " + p.dir.file("w.safetensors");
  CHECK(runPodm("train " + p.model + " --sigma 25 --steps 2" + out).status == 2); // no --data
  CHECK(runPodm("train " + p.common("2") + " --bogus" + out).status == 2);
  CHECK(runPodm("train " + p.common("2")).status == 2); // no -o
  CHECK(runPodm("train " + p.model + " --data " + p.data + " --sigma 25" + out).status == 2);
  CHECK(runPodm("train " + p.common("2") + " --resume" + out).status == 2);
  CHECK(runPodm("train " + p.common("2") + " --sigma 300" + out).status == 2);
  PodmResult help = runPodm("train --help");
  CHECK(help.status == 0);
  CHECK(help.out.find("--checkpoint-every") != std::string::npos);

  // Where the weights and the checkpoint go is checked before training, not after it.
  PodmResult nowhere = runPodm("train " + p.common("2") + " -o " + p.dir.file("no/w.safetensors"));
  CHECK(nowhere.status == 2);
  CHECK(nowhere.out.find("-o " + p.dir.file("no/w.safetensors") + ": the folder '" +
                         p.dir.file("no") + "' does not exist") != std::string::npos);
  CHECK(nowhere.out.find("wrote") == std::string::npos);
  PodmResult badCheckpoint =
      runPodm("train " + p.common("2") + " --checkpoint " + p.dir.file("no/c.ckpt") + out);
  CHECK(badCheckpoint.status == 2);
  CHECK(badCheckpoint.out.find("--checkpoint " + p.dir.file("no/c.ckpt") + ": the folder") !=
        std::string::npos);
  CHECK(!std::filesystem::exists(p.dir.file("w.safetensors")));

  PodmResult big = runPodm("train " + p.common("2") + " --crop 41" + out);
  CHECK(big.status == 1);
  CHECK(big.out.find("img0.png: image is 40x48, smaller than the crop 41x41") != std::string::npos);
  ScratchDir empty;
  PodmResult none = runPodm("train " + p.model + " --data " + empty.path().string() +
                            " --sigma 25 --steps 2" + out);
  CHECK(none.status == 1);
  CHECK(none.out.find("no training images") != std::string::npos);
  PodmResult e2e = runPodm("train " + p.common("2") + " --mode e2e" + out); // no kernel input
  CHECK(e2e.status == 1);
  CHECK(e2e.out.find("needs an image input (the observation) and a kernel input") !=
        std::string::npos);

  const std::string ckpt = p.dir.file("c.ckpt");
  PodmResult missing =
      runPodm("train " + p.common("2") + " --checkpoint " + ckpt + " --resume" + out);
  CHECK(missing.status == 1);
  CHECK(missing.out.find("no checkpoint") != std::string::npos);
  REQUIRE(runPodm("train " + p.common("2") + " --checkpoint " + ckpt + out).status == 0);
  PodmResult changed =
      runPodm("train " + p.common("2") + " --lr 0.01 --checkpoint " + ckpt + " --resume" + out);
  CHECK(changed.status == 1);
  CHECK(changed.out.find("other training settings") != std::string::npos);
  std::string bytes = slurp(ckpt);
  podm::io::test::spit(ckpt, bytes.substr(0, bytes.size() / 2));
  PodmResult cut = runPodm("train " + p.common("2") + " --checkpoint " + ckpt + " --resume" + out);
  CHECK(cut.status == 1);
  CHECK(cut.out.find("cannot resume from " + ckpt) != std::string::npos);
}

TEST_CASE("podm train --device: cuda trains on a GPU or exits 1 saying why; auto always trains") {
  Project p;
  const std::string file = p.dir.file("w.safetensors");
  CHECK(runPodm("train " + p.common("2") + " --device tpu -o " + file).status == 2);
  PodmResult cuda = runPodm("train " + p.common("2") + " --device cuda -o " + file);
  if (cuda.status == 0) { // a GPU is visible: the networks ran there
    CHECK(cuda.out.find("the networks train on cuda") != std::string::npos);
    CHECK(std::filesystem::exists(file));
    std::filesystem::remove(file);
  } else {
    CHECK(cuda.status == 1);
    CHECK(cuda.out.find("--device cuda: ") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(file)); // nothing written
  }
  PodmResult any = runPodm("train " + p.common("2") + " --device auto -o " + file);
  CHECK(any.status == 0);
  CHECK(std::filesystem::exists(file));
  if (cuda.status != 0)
    CHECK(any.out.find("--device auto: running on the CPU") != std::string::npos);
}
