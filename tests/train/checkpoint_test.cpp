// train/checkpoint: everything saved comes back exactly; truncated, damaged and foreign files are
// refused with a message saying why; a checkpoint from another model or shape is refused naming
// the mismatch; saving leaves no temporary behind and a failed save leaves the old file intact.
#include "../runtime/io/io_test_util.h"
#include "stdlib/nn/safetensors.h"
#include "train/checkpoint.h"

#include <doctest/doctest.h>

namespace {

using podm::io::test::ScratchDir;
using podm::io::test::slurp;
using podm::io::test::spit;
namespace tr = podm::train;
namespace nn = podm::nn;

tr::Checkpoint sampleCheckpoint() {
  tr::Checkpoint c;
  c.params["net0/conv0.weight"] = {{4, 1, 3, 3}, std::vector<float>(36)};
  c.params["net0/conv0.bias"] = {{4}, {0.5f, -1.25f, 3e-8f, 7.f}};
  for (size_t i = 0; i < 36; ++i)
    c.params["net0/conv0.weight"].data[i] = 0.01f * float(i) - 0.1f;
  c.optimizer["adam.m.net0/conv0.bias"] = {{1, 1, 1, 4}, {1, 2, 3, 4}};
  c.optimizer["optimizer.step"] = {{1, 1, 1, 1}, {12}};
  c.step = 12;
  c.rng = "123 456 789";
  c.model = "denoise";
  c.mode = "greedy";
  c.args = "podm train x.podm --data \"d\" --steps 20";
  c.extra["job"] = "0";
  c.extra["config"] = "crop=40 batch=16";
  return c;
}

} // namespace

TEST_CASE("checkpoint round trip keeps every field exactly") {
  ScratchDir dir;
  tr::Checkpoint c = sampleCheckpoint();
  tr::saveCheckpoint(dir.file("run.ckpt"), c);
  CHECK(dir.entryCount() == 1); // no temporary left behind
  tr::Checkpoint r = tr::loadCheckpoint(dir.file("run.ckpt"));
  CHECK(r.step == 12);
  CHECK(r.rng == c.rng);
  CHECK(r.model == "denoise");
  CHECK(r.mode == "greedy");
  CHECK(r.args == c.args);
  CHECK(r.extra == c.extra);
  REQUIRE(r.params.size() == 2);
  for (const auto& [name, t] : c.params) {
    CHECK(r.params.at(name).shape == t.shape);
    CHECK(r.params.at(name).data == t.data);
  }
  REQUIRE(r.optimizer.size() == 2);
  CHECK(r.optimizer.at("adam.m.net0/conv0.bias").data == std::vector<float>{1, 2, 3, 4});
  // Saving again replaces the file atomically.
  c.step = 13;
  tr::saveCheckpoint(dir.file("run.ckpt"), c);
  CHECK(tr::loadCheckpoint(dir.file("run.ckpt")).step == 13);
  CHECK(dir.entryCount() == 1);
}

TEST_CASE("truncated, damaged and foreign files are refused with the reason") {
  ScratchDir dir;
  const std::string path = dir.file("run.ckpt");
  tr::saveCheckpoint(path, sampleCheckpoint());
  const std::string bytes = slurp(path);

  for (size_t keep : {size_t(0), size_t(5), bytes.size() / 2, bytes.size() - 1}) {
    CAPTURE(keep);
    spit(path, bytes.substr(0, keep));
    CHECK_THROWS_WITH_AS(tr::loadCheckpoint(path), doctest::Contains("cannot resume from"),
                         tr::CheckpointError);
  }
  std::string flipped = bytes;
  flipped[bytes.size() - 3] ^= 0x10; // inside the tensor data: the header still parses
  spit(path, flipped);
  CHECK_THROWS_WITH_AS(tr::loadCheckpoint(path), doctest::Contains("corrupt (checksum mismatch)"),
                       tr::CheckpointError);

  nn::writeSafetensors(path, {{"conv0.bias", {{2}, {1, 2}}}});
  CHECK_THROWS_WITH_AS(tr::loadCheckpoint(path), doctest::Contains("not a podm checkpoint"),
                       tr::CheckpointError);
  CHECK_THROWS_AS(tr::loadCheckpoint(dir.file("missing.ckpt")), tr::CheckpointError);
}

TEST_CASE("a failed save leaves the previous checkpoint untouched") {
  ScratchDir dir;
  const std::string path = dir.file("run.ckpt");
  tr::saveCheckpoint(path, sampleCheckpoint());
  const std::string before = slurp(path);
  tr::Checkpoint bad = sampleCheckpoint();
  bad.params["net0/conv0.bias"].data.pop_back(); // the writer refuses: size != shape
  bad.step = 99;
  CHECK_THROWS_AS(tr::saveCheckpoint(path, bad), tr::CheckpointError);
  CHECK(slurp(path) == before);
  CHECK(dir.entryCount() == 1);
}

TEST_CASE("checkpoints of another model, mode or shape are refused naming the mismatch") {
  tr::Checkpoint c = sampleCheckpoint();
  nn::TensorMap expected = c.params;
  CHECK_NOTHROW(tr::checkCompatible("f", c, "denoise", "greedy", expected));
  CHECK_THROWS_WITH_AS(tr::checkCompatible("f", c, "deblur", "greedy", expected),
                       doctest::Contains("of model 'denoise', not 'deblur'"), tr::CheckpointError);
  CHECK_THROWS_WITH_AS(tr::checkCompatible("f", c, "denoise", "e2e", expected),
                       doctest::Contains("greedy run"), tr::CheckpointError);
  expected["net0/conv0.weight"].shape = {8, 1, 3, 3};
  CHECK_THROWS_WITH_AS(tr::checkCompatible("f", c, "denoise", "greedy", expected),
                       doctest::Contains("'net0/conv0.weight' has shape [4, 1, 3, 3]"),
                       tr::CheckpointError);
  expected = c.params;
  expected.erase("net0/conv0.bias");
  CHECK_THROWS_WITH_AS(tr::checkCompatible("f", c, "denoise", "greedy", expected),
                       doctest::Contains("not in this model"), tr::CheckpointError);
  expected = c.params;
  expected["net0/conv1.bias"] = {{4}, std::vector<float>(4)};
  CHECK_THROWS_WITH_AS(tr::checkCompatible("f", c, "denoise", "greedy", expected),
                       doctest::Contains("no parameter 'net0/conv1.bias'"), tr::CheckpointError);
}
