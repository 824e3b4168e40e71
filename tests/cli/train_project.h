// A scratch project for the `podm train` tests: a model file with the given text and a data
// folder of four small synthetic PNGs (40x48, deterministic).
#pragma once

#include "../runtime/io/io_test_util.h"
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"

#include <cstdint>
#include <filesystem>
#include <string>

struct TrainProject {
  podm::io::test::ScratchDir dir;
  std::string model, data;
  explicit TrainProject(const char* modelText) {
    model = dir.file("tiny.podm");
    podm::io::test::spit(model, modelText);
    data = dir.file("data");
    std::filesystem::create_directory(data);
    for (int i = 0; i < 4; ++i)
      podm::io::writePng(data + "/img" + std::to_string(i) + ".png",
                         podm::io::syntheticImage("scene", 40, 48, uint64_t(i + 1)));
  }
};
