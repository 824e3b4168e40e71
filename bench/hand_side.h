// What the benchmarks' hand-written baselines and podm sides share: FFTW-aligned float buffers
// for the hand loops; reading a model file and compiling a (edited) model text for given input
// shapes exactly as `podm run` does, for the podm side.
#pragma once

#include "bench/harness.h"
#include "engine/graph_build.h"
#include "engine/model_loader.h"
#include "numerics/fft.h"

#include <algorithm>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <fftw3.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

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

// r2c and c2r plans of an n x n plane for the hand loops, with the planner flags and thread count
// of podm's plan cache (FFTW_MEASURE overwrites `real` and `spec`: plan before filling them).
inline void planHandPair(int64_t n, float* real, fftwf_complex* spec, fftwf_plan& fwd,
                         fftwf_plan& inv) {
  const unsigned flags = n * n >= numerics::kMeasurePixels ? FFTW_MEASURE : FFTW_ESTIMATE;
  fftwf_plan_with_nthreads(numerics::fftThreadsFor(n * n));
  const int ni = static_cast<int>(n);
  fwd = fftwf_plan_dft_r2c_2d(ni, ni, real, spec, flags);
  inv = fftwf_plan_dft_c2r_2d(ni, ni, spec, real, flags);
}

// The size x size kernel k centred at the origin of an n x n plane, periodically (the input of
// psf2otf: its r2c is the kernel's transfer function).
inline void placeKernelAtOrigin(const float* k, int64_t size, int64_t n, float* plane) {
  std::fill(plane, plane + n * n, 0.0f);
  for (int64_t a = 0; a < size; ++a)
    for (int64_t b = 0; b < size; ++b) {
      const int64_t r = ((a - size / 2) % n + n) % n, c = ((b - size / 2) % n + n) % n;
      plane[r * n + c] += k[a * size + b];
    }
}

// podm's FFT plan cache set up first (it initialises FFTW's threads) before a hand side plans.
inline void initPodmFft() {
  std::vector<float> in(4, 1.0f);
  std::vector<std::complex<float>> out(4);
  numerics::fftForward(in.data(), out.data(), 2, 2);
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
