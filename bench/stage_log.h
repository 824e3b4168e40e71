// What one stage of a hand-written PODM loop reports, as the model's monitors name it: the CPU and
// GPU stage benchmarks compare it with podm's monitors before timing. Plain C++17 (nvcc sees it).
#pragma once

struct StageLog {
  float phi = 0, relChange = 0, optError = 0, checkBound = 0;
  bool accepted = false;
};
