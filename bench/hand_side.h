// What the benchmarks' hand-written baselines and podm sides share: FFTW-aligned float buffers
// for the hand loops; reading a model file and compiling a (edited) model text for given input
// shapes exactly as `podm run` does, for the podm side.
#pragma once

#include "engine/graph_build.h"
#include "engine/model_loader.h"

#include <cstddef>
#include <fftw3.h>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace podm::bench {

struct FftwFloats {
  explicit FftwFloats(size_t n)
      : p(static_cast<float*>(fftwf_malloc(n * sizeof(float)))), count(n) {
    if (!p)
      throw std::bad_alloc();
  }
  ~FftwFloats() { fftwf_free(p); }
  FftwFloats(const FftwFloats&) = delete;
  FftwFloats& operator=(const FftwFloats&) = delete;
  fftwf_complex* c() { return reinterpret_cast<fftwf_complex*>(p); }
  float* p;
  size_t count;
};

inline std::string readFile(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The model text compiled as `podm run` compiles a model file (sema, lowering for these input
// shapes, the optimizing passes).
inline ir::Graph compileModelText(const std::string& text,
                                  const std::map<std::string, lower::InputShape>& shapes) {
  auto path =
      std::filesystem::temp_directory_path() / ("podm_bench_" + std::to_string(getpid()) + ".podm");
  std::ofstream(path) << text;
  std::optional<engine::LoadedModel> m = engine::loadModel(path.string(), engine::Stop::AfterSema);
  std::filesystem::remove(path);
  if (!m || !m->checked)
    throw std::runtime_error("the model did not pass sema");
  engine::GraphInputs in;
  in.shapes = shapes;
  std::optional<lower::LowerResult> lowered = engine::lowerLoaded(*m, in);
  if (!lowered)
    throw std::runtime_error("the model did not lower");
  return engine::optimizeGraph(lowered->graph, nullptr);
}

} // namespace podm::bench
