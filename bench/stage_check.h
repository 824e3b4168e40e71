// The checks both stage benchmarks (CPU: stage_bench.cpp, GPU: cuda/stage_gpu_bench.cpp) make
// before timing: the hand loop's result and per-stage monitors against podm's.
#pragma once

#include "bench/stage_log.h"
#include "runtime/executor.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

inline float maxAbsDiff(const float* a, const float* b, size_t count) {
  float m = 0;
  for (size_t i = 0; i < count; ++i)
    m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// The check's decision per stage as a string, 'A' accepted, 'F' feedback: podm's `branch`
// monitor, or the hand loop's log.
inline std::string branches(const std::vector<float>* podmBranch) {
  std::string s;
  if (podmBranch)
    for (float b : *podmBranch)
      s += b != 0 ? 'A' : 'F';
  return s;
}

inline std::string branches(const std::vector<StageLog>& log) {
  std::string s;
  for (const StageLog& l : log)
    s += l.accepted ? 'A' : 'F';
  return s;
}

inline float monitorAt(const podm::RunResult& r, const char* name, size_t stage) {
  const std::vector<float>* v = r.monitors.find(name);
  if (!v || v->size() <= stage)
    throw std::runtime_error(std::string("podm did not record monitor ") + name);
  return (*v)[stage];
}
