// NetworkSchedule: stages mapped to weight files / prefixes, each distinct source loaded once,
// stage errors naming the stage; and the weight-path pattern expansion.
#include "nn_test_util.h"
#include "reference.h"
#include "stdlib/nn/safetensors.h"
#include "stdlib/nn/schedule.h"

#include <doctest/doctest.h>

using namespace podm;
using namespace podm::nn;
using namespace podm::nn::testutil;

TEST_CASE("a schedule loads each distinct source once and serves stages from it") {
  ScratchDir dir;
  NetworkSpec spec = residual(dilatedCnn(3, 4, {1, 2, 1}));
  Network proto(spec);
  std::vector<std::string> files;
  TensorMap both;
  for (int k = 1; k <= 3; ++k) {
    TensorMap w = testref::randomWeights(proto, uint32_t(k));
    files.push_back(dir.file("sched" + std::to_string(k) + ".safetensors"));
    writeSafetensors(files.back(), w);
    if (k == 3)
      for (auto& [name, t] : w)
        both["net3." + name] = t;
  }
  std::string multi = dir.file("multi.safetensors");
  writeSafetensors(multi, both);
  std::vector<WeightSource> stages = {
      {files[0], ""}, {files[1], ""}, {files[0], ""}, {multi, "net3."}, {files[2], ""}};
  NetworkSchedule sched(spec, stages);
  CHECK(sched.stages() == 5);
  CHECK(sched.distinctNetworks() == 4);
  CHECK(&sched.at(0) == &sched.at(2));
  CHECK(&sched.at(0) != &sched.at(1));
  CHECK(sched.source(3).prefix == "net3.");
  CHECK_THROWS_AS(sched.at(5), std::out_of_range);

  // The prefixed copy inside `multi` and the standalone file give identical outputs.
  Tensor x(Shape{1, 1, 8, 9});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data()[i] = float(i % 7) / 7.0f;
  Tensor a, b, c;
  sched.at(3).forward(x, a);
  sched.at(4).forward(x, b);
  sched.at(0).forward(x, c);
  bool differ = false;
  for (int64_t i = 0; i < a.numel(); ++i) {
    REQUIRE(a.data()[i] == b.data()[i]);
    differ |= a.data()[i] != c.data()[i];
  }
  CHECK(differ);

  try {
    NetworkSchedule bad(spec, {{files[0], ""}, {dir.file("nope.safetensors"), ""}});
    FAIL("expected an error");
  } catch (const WeightsError& e) {
    std::string m = e.what();
    CHECK(m.rfind("stage 2: ", 0) == 0); // the second stage, numbered from 1
    CHECK(m.find("nope.safetensors") != std::string::npos);
  }
}

TEST_CASE("weight-path patterns expand per stage") {
  auto s = expandPattern("nets/net{net_idx[l]}.hdf5", {24, 23, 21});
  REQUIRE(s.size() == 3);
  CHECK(s[0].path == "nets/net24.hdf5");
  CHECK(s[2].path == "nets/net21.hdf5");
  CHECK(expandPattern("one.safetensors", {1, 2})[1].path == "one.safetensors");
}
