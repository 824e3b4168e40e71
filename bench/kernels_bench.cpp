// podm_bench_kernels: each CPU kernel against a raw FFTW call or a plain loop doing the same
// arithmetic, timed interleaved in the same run, as ratios (podm / baseline; below 1 = podm
// faster). Also the direct-vs-FFT convolution sweep behind the cost model in conv.cpp.
// Usage: podm_bench_kernels [--sizes 256,512,1024] [--no-sweep]
#include "bench/baselines.h"
#include "bench/harness.h"
#include "numerics/bicubic.h"
#include "numerics/conv.h"
#include "numerics/dct.h"
#include "numerics/dct_filters.h"
#include "numerics/elementwise.h"
#include "numerics/fft.h"
#include "numerics/finite_diff.h"
#include "numerics/haar.h"

#include <cmath>
#include <complex>
#include <cstdio>
#include <cstring>
#include <fftw3.h>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace podm;
using namespace podm::bench;

namespace {

std::vector<float> randomData(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v)
    x = u(rng);
  return v;
}

std::vector<float> gaussian(int64_t k) {
  std::vector<float> g(static_cast<size_t>(k * k));
  double sigma = k / 6.0, total = 0.0;
  for (int64_t a = 0; a < k; ++a)
    for (int64_t b = 0; b < k; ++b) {
      double dy = a - k / 2, dx = b - k / 2;
      total += g[static_cast<size_t>(a * k + b)] =
          static_cast<float>(std::exp(-(dy * dy + dx * dx) / (2 * sigma * sigma)));
    }
  for (float& v : g)
    v = static_cast<float>(v / total);
  return g;
}

// Keeps results observable so the optimizer cannot drop the work.
volatile double sink = 0.0;

void benchSize(int n) {
  const int64_t h = n, w = n, plane = h * w;
  auto x = randomData(static_cast<size_t>(plane), 1);
  std::vector<float> y(static_cast<size_t>(plane)), z(static_cast<size_t>(plane));

  {
    std::vector<std::complex<float>> spectrum(
        static_cast<size_t>(h * numerics::halfSpectrumWidth(w)));
    RawFftRoundTrip raw(h, w);
    std::memcpy(raw.input(), x.data(), static_cast<size_t>(plane) * sizeof(float));
    printRow("fft r2c+c2r vs raw fftwf_execute", n,
             timePair(
                 [&] {
                   numerics::fftForward(x.data(), spectrum.data(), h, w);
                   numerics::fftInverse(spectrum.data(), y.data(), h, w);
                 },
                 [&] { raw.run(); }));
  }
  for (auto boundary : {numerics::Boundary::Periodic, numerics::Boundary::Symmetric}) {
    auto k = gaussian(31);
    numerics::Convolution2d conv(k.data(), 31, 31, h, w, boundary, numerics::ConvMethod::Fft);
    RawFftConv raw(k.data(), 31, 31, h, w, boundary);
    std::string label =
        std::string("conv fft 31x31 ") + numerics::boundaryName(boundary) + " vs raw fftw";
    printRow(
        label, n,
        timePair([&] { conv.apply(x.data(), y.data(), 1); }, [&] { raw.run(x.data(), z.data()); }));
  }
  {
    auto k = gaussian(5);
    numerics::Convolution2d conv(k.data(), 5, 5, h, w, numerics::Boundary::Symmetric,
                                 numerics::ConvMethod::Direct);
    printRow("conv direct 5x5 symmetric vs naive loop", n,
             timePair([&] { conv.apply(x.data(), y.data(), 1); },
                      [&] {
                        naiveConv(x.data(), z.data(), h, w, k.data(), 5, 5,
                                  numerics::Boundary::Symmetric);
                      }));
    printRow("conv direct 5x5 symmetric adjoint vs naive", n,
             timePair([&] { conv.adjoint(x.data(), y.data(), 1); },
                      [&] {
                        naiveConvAdjoint(x.data(), z.data(), h, w, k.data(), 5, 5,
                                         numerics::Boundary::Symmetric);
                      }));
    auto k3 = gaussian(3);
    numerics::Convolution2d conv3(k3.data(), 3, 3, h, w, numerics::Boundary::Zero,
                                  numerics::ConvMethod::Direct);
    printRow("conv direct 3x3 zero vs naive loop", n,
             timePair([&] { conv3.apply(x.data(), y.data(), 1); },
                      [&] {
                        naiveConv(x.data(), z.data(), h, w, k3.data(), 3, 3,
                                  numerics::Boundary::Zero);
                      }));
  }
  {
    numerics::DctFilterBank2d bank(5, h, w, numerics::Boundary::Periodic,
                                   numerics::ConvMethod::Fft);
    RawFilterBank raw(bank.filters(), 5, h, w);
    std::vector<float> out(static_cast<size_t>(24 * plane)), out2(out.size());
    printRow("dct_filters 5x5 (24) periodic vs raw fftw", n,
             timePair([&] { bank.apply(x.data(), out.data(), 1); },
                      [&] { raw.run(x.data(), out2.data()); }));
  }
  {
    RawDct raw(h, w);
    std::memcpy(raw.input(), x.data(), static_cast<size_t>(plane) * sizeof(float));
    printRow(
        "dct2 orthonormal vs raw REDFT10 + scaling", n,
        timePair([&] { numerics::dctForward(x.data(), y.data(), 1, h, w); }, [&] { raw.run(); }));
  }
  printRow("haar 3 levels vs plain loop", n,
           timePair([&] { numerics::haarForward(x.data(), y.data(), 1, h, w, 3); },
                    [&] { naiveHaar(x.data(), z.data(), h, w, 3); }));
  {
    numerics::BicubicResize2d down(h, w, h / 4, w / 4, 0.25);
    std::vector<float> small(static_cast<size_t>(plane / 16)), scratch(static_cast<size_t>(plane));
    printRow("bicubic_down x4 vs plain loop", n,
             timePair([&] { down.apply(x.data(), small.data(), 1); },
                      [&] { naiveResize(down, x.data(), small.data(), scratch.data()); }));
    numerics::BicubicResize2d up(h / 4, w / 4, h, w, 4.0);
    std::vector<float> scratchUp(static_cast<size_t>(plane));
    printRow("bicubic_up x4 vs plain loop", n,
             timePair([&] { up.apply(small.data(), y.data(), 1); },
                      [&] { naiveResize(up, small.data(), z.data(), scratchUp.data()); }));
  }
  {
    std::vector<float> g(static_cast<size_t>(2 * plane));
    printRow("grad periodic vs plain loop", n,
             timePair(
                 [&] {
                   numerics::gradient(x.data(), g.data(), 1, h, w,
                                      numerics::DiffBoundary::Periodic);
                 },
                 [&] { naiveGradPeriodic(x.data(), g.data(), h, w); }));
    printRow("grad' periodic vs plain loop", n,
             timePair(
                 [&] {
                   numerics::gradientAdjoint(g.data(), y.data(), 1, h, w,
                                             numerics::DiffBoundary::Periodic);
                 },
                 [&] { naiveGradAdjointPeriodic(g.data(), z.data(), h, w); }));
  }
  printRow("axpy vs plain loop", n,
           timePair([&] { numerics::axpy(0.5f, x.data(), y.data(), plane); },
                    [&] { naiveAxpy(0.5f, x.data(), z.data(), plane); }));
  printRow("dot (double acc.) vs plain double loop", n,
           timePair([&] { sink = sink + numerics::dot(x.data(), y.data(), plane); },
                    [&] { sink = sink + naiveDot(x.data(), y.data(), plane); }));
}

// Direct vs FFT convolution by kernel size: the data behind the cost model's crossover.
void crossoverSweep(int n) {
  const int64_t h = n, w = n;
  auto x = randomData(static_cast<size_t>(h * w), 2);
  std::vector<float> y(x.size()), z(x.size());
  std::printf("\nconv crossover at %d² (direct ms / fft ms, and what Auto picks)\n", n);
  std::printf("%-10s %6s %10s %10s %8s %6s\n", "boundary", "kernel", "direct", "fft", "d/f",
              "auto");
  for (auto boundary : {numerics::Boundary::Periodic, numerics::Boundary::Symmetric})
    for (int64_t k : {3, 5, 7, 9, 11, 15, 21}) {
      auto kernel = gaussian(k);
      numerics::Convolution2d direct(kernel.data(), k, k, h, w, boundary,
                                     numerics::ConvMethod::Direct);
      numerics::Convolution2d fft(kernel.data(), k, k, h, w, boundary, numerics::ConvMethod::Fft);
      PairTiming t = timePair([&] { direct.apply(x.data(), y.data(), 1); },
                              [&] { fft.apply(x.data(), z.data(), 1); }, 250.0);
      bool autoFft = numerics::chooseConvMethod(k, k, h, w, boundary) == numerics::ConvMethod::Fft;
      std::printf("%-10s %3ldx%-2ld %10.3f %10.3f %8.2f %6s\n", numerics::boundaryName(boundary),
                  static_cast<long>(k), static_cast<long>(k), t.candidateMs, t.baselineMs,
                  t.ratio(), autoFft ? "fft" : "direct");
      std::fflush(stdout);
    }
}

} // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {256, 512, 1024};
  bool sweep = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--sizes" && i + 1 < argc) {
      const std::vector<int64_t> list = parseSizes(argv[++i]);
      sizes.assign(list.begin(), list.end());
    } else if (arg == "--no-sweep")
      sweep = false;
    else {
      std::fprintf(stderr, "usage: %s [--sizes 256,512,1024] [--no-sweep]\n", argv[0]);
      return 2;
    }
  }
  // Raw plans below share FFTW's global thread state with podm's plan cache.
  fftwf_init_threads();
  std::printf("podm_bench_kernels: %u hardware threads, FFTW %s; FFT threads: %d below %ld "
              "pixels, %d from there; FFTW_MEASURE from %ld pixels\n"
              "ratio = podm / baseline (median of interleaved runs; < 1 means podm is faster)\n\n",
              std::thread::hardware_concurrency(), fftwf_version, numerics::fftThreadsFor(1),
              static_cast<long>(numerics::kThreadedPixels),
              numerics::fftThreadsFor(numerics::kThreadedPixels),
              static_cast<long>(numerics::kMeasurePixels));
  printHeader();
  for (int n : sizes)
    benchSize(n);
  if (sweep)
    for (int n : {256, 512})
      crossoverSweep(n);
  return sink == 12345.0 ? 1 : 0;
}
