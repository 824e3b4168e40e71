// Helpers for the podm_io tests: a scratch directory per test, file byte access, and test images.
#pragma once

#include "runtime/io/image.h"
#include "runtime/tensor.h"
#include "tests/support/scratch_dir.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace podm::io::test {

// Each test's files live in its own scratch folder (tests/support/scratch_dir.h).
using podm::test::ScratchDir;

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// A deterministic smooth-plus-edges test image with values in [0,1].
inline Tensor testImage(int64_t c, int64_t h, int64_t w, uint64_t seed = 1) {
  Tensor t(Shape{1, c, h, w});
  float* d = t.data();
  uint64_t s = seed;
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double noise = double(s >> 40) / double(1ull << 24);
        double v = 0.5 + 0.3 * std::sin(0.2 * x + 0.1 * ch) * std::cos(0.15 * y) +
                   (x > w / 2 ? 0.1 : -0.1) + 0.05 * (noise - 0.5);
        d[(ch * h + y) * w + x] = float(std::clamp(v, 0.0, 1.0));
      }
  return t;
}

// What readImage says about a file it refuses ("" when it reads it).
inline std::string errorOf(const std::string& path) {
  try {
    readImage(path);
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

inline double maxAbsDiff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::abs(double(a.data()[i]) - b.data()[i]));
  return m;
}

} // namespace podm::io::test
