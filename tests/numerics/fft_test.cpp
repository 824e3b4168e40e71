// FFT kernels: agreement with a naive DFT, round trips, unaligned planes, plan reuse, threads.
#include "numerics/fft.h"
#include "tests/numerics/kernel_test_util.h"

#include <complex>
#include <doctest/doctest.h>
#include <numbers>
#include <thread>
#include <vector>

using namespace podm::numerics;
using podm::numerics::test::randomVector;

namespace {

std::complex<double> naiveDft(const std::vector<float>& x, int64_t h, int64_t w, int64_t k,
                              int64_t l) {
  std::complex<double> s = 0.0;
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      double angle = -2.0 * std::numbers::pi *
                     (static_cast<double>(k * i) / h + static_cast<double>(l * j) / w);
      s += static_cast<double>(x[static_cast<size_t>(i * w + j)]) * std::polar(1.0, angle);
    }
  return s;
}

} // namespace

TEST_CASE("fftForward matches a naive DFT on odd and even sizes") {
  for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 7}, {8, 6}, {1, 9}, {6, 1}}) {
    CAPTURE(h);
    CAPTURE(w);
    auto x = randomVector(static_cast<size_t>(h * w), 1);
    std::vector<std::complex<float>> spectrum(static_cast<size_t>(h * halfSpectrumWidth(w)));
    fftForward(x.data(), spectrum.data(), h, w);
    for (int64_t k = 0; k < h; ++k)
      for (int64_t l = 0; l < halfSpectrumWidth(w); ++l) {
        auto expected = naiveDft(x, h, w, k, l);
        auto got = spectrum[static_cast<size_t>(k * halfSpectrumWidth(w) + l)];
        CHECK(std::abs(std::complex<double>(got) - expected) < 1e-4 * (1.0 + std::abs(expected)));
      }
  }
}

TEST_CASE("fftInverse undoes fftForward up to the factor h*w") {
  for (auto [h, w] : {std::pair<int64_t, int64_t>{1, 1}, {3, 5}, {64, 48}, {130, 131}}) {
    CAPTURE(h);
    CAPTURE(w);
    auto x = randomVector(static_cast<size_t>(h * w), 2);
    std::vector<std::complex<float>> spectrum(static_cast<size_t>(h * halfSpectrumWidth(w)));
    std::vector<float> back(x.size());
    fftForward(x.data(), spectrum.data(), h, w);
    fftInverse(spectrum.data(), back.data(), h, w);
    for (float& v : back)
      v /= static_cast<float>(h * w);
    CHECK(podm::numerics::test::relativeMaxError(back, x) < 1e-5);
  }
}

TEST_CASE("unaligned planes give the same transform as aligned ones") {
  const int64_t h = 9, w = 10;
  auto x = randomVector(static_cast<size_t>(h * w), 3);
  std::vector<float> shifted(x.size() + 1);
  std::copy(x.begin(), x.end(), shifted.begin() + 1); // one float off any SIMD alignment
  const size_t n = static_cast<size_t>(h * halfSpectrumWidth(w));
  std::vector<std::complex<float>> a(n), b(n + 1);
  fftForward(x.data(), a.data(), h, w);
  fftForward(shifted.data() + 1, b.data() + 1, h, w);
  for (size_t i = 0; i < n; ++i)
    CHECK(std::abs(a[i] - b[i + 1]) <= 1e-5f * (1.0f + std::abs(a[i])));
}

TEST_CASE("plans are made once per size and reused") {
  const int64_t h = 12, w = 20;
  auto x = randomVector(static_cast<size_t>((h + 1) * w), 4);
  std::vector<std::complex<float>> spectrum(static_cast<size_t>((h + 1) * halfSpectrumWidth(w)));
  fftForward(x.data(), spectrum.data(), h, w);
  size_t plans = fftPlanCacheSize();
  for (int i = 0; i < 5; ++i)
    fftForward(x.data(), spectrum.data(), h, w);
  CHECK(fftPlanCacheSize() == plans);
  fftForward(x.data(), spectrum.data(), h + 1, w);
  CHECK(fftPlanCacheSize() == plans + 1);
}

TEST_CASE("the plan cache serves concurrent callers on different sizes") {
  std::vector<std::thread> threads;
  std::vector<double> errors(4, 1.0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &errors] {
      const int64_t h = 20 + t, w = 17 + 2 * t;
      double worst = 0.0;
      for (int rep = 0; rep < 20; ++rep) {
        auto x = randomVector(static_cast<size_t>(h * w), static_cast<uint64_t>(100 * t + rep));
        std::vector<std::complex<float>> spectrum(static_cast<size_t>(h * halfSpectrumWidth(w)));
        std::vector<float> back(x.size());
        fftForward(x.data(), spectrum.data(), h, w);
        fftInverse(spectrum.data(), back.data(), h, w);
        for (float& v : back)
          v /= static_cast<float>(h * w);
        worst = std::max(worst, podm::numerics::test::relativeMaxError(back, x));
      }
      errors[static_cast<size_t>(t)] = worst;
    });
  for (auto& th : threads)
    th.join();
  for (double e : errors)
    CHECK(e < 1e-5);
}

TEST_CASE("the thread policy uses one thread for small planes and all cores for large ones") {
  CHECK(fftThreadsFor(64 * 64) == 1);
  CHECK(fftThreadsFor(kThreadedPixels) >= 1);
  unsigned cores = std::thread::hardware_concurrency();
  if (cores > 1)
    CHECK(fftThreadsFor(kThreadedPixels) == static_cast<int>(cores));
}
