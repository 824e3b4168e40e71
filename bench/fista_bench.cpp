// podm_bench_fista: one FISTA stage of bench/models/fista_l1_deblur.podm (l1 + nonneg periodic
// deconvolution, 9x9 Gaussian) compiled as `podm run` does, against the tight hand loop of issue
// 18, measured in one run, without monitors and with `phi, rel_change`. Never a pass/fail on time.
//
// The hand loop does what podm does at its best: |K^|^2 and K'o once; per stage one r2c + c2r
// pair for grad f(y) = F^-1(|K^|^2 F y) - K'o, then one fused loop for the gradient step, soft
// thresholding, the projection on x >= 0 and the momentum y+ = x+ + beta (x+ - x); FFTW plans with
// podm's flags and threads. With monitors it adds rel_change's sums to the fused loop and phi =
// 0.5 ||K x+ - o||^2 + lambda ||x+||_1 from one more r2c of x+ (Parseval on the half spectrum).
// Stage time = (L-stage run - 1-stage run) / (L - 1), median of interleaved repetitions; x after
// L stages is compared first. Memory: podm's planned arena and the hand loop's buffers, in float
// planes per pixel.
//
//   podm_bench_fista [--sizes 256,512,1024,2048,4096]
#include "bench/hand_side.h"
#include "bench/harness.h"
#include "engine/stdlib_prox_provider.h"
#include "numerics/fft.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/io/degrade.h"

#include <cmath>
#include <complex>
#include <cstring>
#include <regex>
#include <unistd.h>

#ifndef PODM_BENCH_FISTA_MODEL
#define PODM_BENCH_FISTA_MODEL "bench/models/fista_l1_deblur.podm"
#endif

using namespace podm;
using bench::FftwFloats;

namespace {

constexpr float kLambda = 1e-3f;
constexpr int kKernelSize = 9;
constexpr double kKernelSigma = 2.0, kNoise = 2.55 / 255.0;

ir::Graph compileModel(const std::string& modelText, int stages, int64_t n, bool monitors) {
  std::string text = std::regex_replace(modelText, std::regex(R"(stages\s+\d+\s+fista)"),
                                        "stages " + std::to_string(stages) + " fista");
  text = std::regex_replace(text, std::regex(R"(\nmonitor[^\n]*)"),
                            monitors ? "\nmonitor phi, rel_change" : "");
  return bench::compileModelText(text, {{"o", {n, n}}, {"k", {kKernelSize, kKernelSize}}});
}

class HandFista {
public:
  HandFista(const float* o, const float* k, int64_t n)
      : n_(n), np_(static_cast<size_t>(n * n)), half_(static_cast<size_t>(n * (n / 2 + 1))),
        o_(np_), kto_(np_), x_(np_), xn_(np_), y_(np_), g_(np_), spec_(2 * half_), nk2_(half_),
        khat_(2 * half_), ohat_(2 * half_) {
    bench::planHandPair(n, g_.p, spec_.c(), fwd_, inv_);
    std::memcpy(o_.p, o, np_ * sizeof(float));
    bench::placeKernelAtOrigin(k, kKernelSize, n, g_.p);
    auto* kh = reinterpret_cast<std::complex<float>*>(khat_.p);
    fftwf_execute_dft_r2c(fwd_, g_.p, khat_.c());
    float lf = 0;
    for (size_t q = 0; q < half_; ++q) {
      lf = std::max(lf, std::norm(kh[q]));
      nk2_.p[q] = std::norm(kh[q]) / static_cast<float>(np_);
    }
    gamma_ = 1.0f / lf;
    fftwf_execute_dft_r2c(fwd_, o_.p, ohat_.c());
    auto* s = reinterpret_cast<std::complex<float>*>(spec_.p);
    const auto* oh = reinterpret_cast<const std::complex<float>*>(ohat_.p);
    for (size_t q = 0; q < half_; ++q)
      s[q] = oh[q] * std::conj(kh[q]) / static_cast<float>(np_);
    fftwf_execute_dft_c2r(inv_, spec_.c(), kto_.p);
  }
  ~HandFista() {
    fftwf_destroy_plan(fwd_);
    fftwf_destroy_plan(inv_);
  }
  HandFista(const HandFista&) = delete;
  HandFista& operator=(const HandFista&) = delete;
  const float* x() const { return x_.p; }
  // Float planes per pixel the loop holds (its work buffers, spectra included).
  double planesPerPixel() const {
    size_t floats = 0;
    for (const FftwFloats* b : {&o_, &kto_, &x_, &xn_, &y_, &g_, &spec_, &nk2_, &khat_, &ohat_})
      floats += b->count;
    return static_cast<double>(floats) / static_cast<double>(np_);
  }

  // Runs `stages` stages from x = y = o; returns the last phi (0 without monitors).
  double run(int stages, bool monitors) {
    std::memcpy(x_.p, o_.p, np_ * sizeof(float));
    std::memcpy(y_.p, o_.p, np_ * sizeof(float));
    double t = 1, phi = 0;
    const float g = gamma_, thr = gamma_ * kLambda;
    auto* s = reinterpret_cast<std::complex<float>*>(spec_.p);
    for (int l = 0; l < stages; ++l) {
      const double tn = (1 + std::sqrt(1 + 4 * t * t)) / 2;
      const float beta = static_cast<float>((t - 1) / tn);
      t = tn;
      fftwf_execute_dft_r2c(fwd_, y_.p, spec_.c());
      for (size_t q = 0; q < half_; ++q)
        s[q] *= nk2_.p[q];
      fftwf_execute_dft_c2r(inv_, spec_.c(), g_.p);
      double change2 = 0, prev2 = 0, l1 = 0;
      fusedStep(g, thr, beta, monitors, change2, prev2, l1);
      std::swap(x_.p, xn_.p);
      if (monitors) {
        // 0.5 ||K x - o||^2 = 0.5 / (h w) sum over the full spectrum of |K^ X^ - O^|^2.
        fftwf_execute_dft_r2c(fwd_, x_.p, spec_.c());
        const auto* kh = reinterpret_cast<const std::complex<float>*>(khat_.p);
        const auto* oh = reinterpret_cast<const std::complex<float>*>(ohat_.p);
        const int64_t hw = n_ / 2 + 1;
        double r2 = 0;
        for (int64_t i = 0; i < n_; ++i)
          for (int64_t j = 0; j < hw; ++j) {
            const size_t q = static_cast<size_t>(i * hw + j);
            const double e = std::norm(kh[q] * s[q] - oh[q]);
            r2 += (j == 0 || 2 * j == n_) ? e : 2 * e; // the half spectrum's mirrored columns
          }
        phi = 0.5 * r2 / static_cast<double>(np_) + kLambda * l1;
        (void)(std::sqrt(change2) / std::max(std::sqrt(prev2), 1e-30)); // rel_change
      }
    }
    return phi;
  }

private:
  // x+ = max(soft(y - g grad, thr), 0); y+ = x+ + beta (x+ - x); optionally the monitor sums.
  void fusedStep(float g, float thr, float beta, bool monitors, double& change2, double& prev2,
                 double& l1) {
    const float* __restrict y = y_.p, * __restrict grad = g_.p, * __restrict kto = kto_.p, * __restrict x = x_.p;
    float* __restrict xn = xn_.p, * __restrict yn = y_.p;
    constexpr int64_t kRow = 4096;
    for (int64_t base = 0; base < static_cast<int64_t>(np_); base += kRow) {
      const int64_t end = std::min<int64_t>(base + kRow, static_cast<int64_t>(np_));
      float c2 = 0, p2 = 0, a1 = 0;
      for (int64_t i = base; i < end; ++i) {
        const float v = y[i] - g * (grad[i] - kto[i]);
        const float xv =
            std::max(std::max(std::fabs(v) - thr, 0.0f) * (v > 0 ? 1.0f : -1.0f), 0.0f);
        xn[i] = xv;
        yn[i] = xv + beta * (xv - x[i]);
        if (monitors) {
          const float d = xv - x[i];
          c2 += d * d;
          p2 += x[i] * x[i];
          a1 += xv;
        }
      }
      change2 += c2;
      prev2 += p2;
      l1 += a1;
    }
  }

  int64_t n_;
  size_t np_, half_;
  FftwFloats o_, kto_, x_, xn_, y_, g_, spec_, nk2_, khat_, ohat_;
  fftwf_plan fwd_ = nullptr, inv_ = nullptr;
  float gamma_ = 0;
};

} // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes{256, 512, 1024, 2048, 4096};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--sizes" && i + 1 < argc) {
      sizes = bench::parseSizes(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: podm_bench_fista [--sizes 256,512,...]\n");
      return 2;
    }
  }
  const std::string modelText = bench::readFile(PODM_BENCH_FISTA_MODEL);
  engine::installStdlibProxProvider();
  cpu::CpuBackend cpuBackend;
  bench::initPodmFft(); // before the hand sides plan
  std::printf("podm_bench_fista: %s, %ld hardware threads, %s\n", PODM_BENCH_FISTA_MODEL,
              sysconf(_SC_NPROCESSORS_ONLN), fftwf_version);
  std::printf("%6s %9s %4s %11s %11s %7s %14s %16s\n", "size", "monitors", "L", "podm ms",
              "hand ms", "ratio", "max|x diff|", "planes/px p/h");
  for (int64_t n : sizes) {
    const int longStages = n <= 512 ? 21 : (n <= 1024 ? 11 : 6), reps = n <= 1024 ? 9 : 5;
    Tensor gt = io::syntheticImage("scene", n, n, 1);
    Tensor k = io::gaussianKernel(kKernelSize, kKernelSigma);
    Tensor o = io::addGaussianNoise(io::blur(gt, k, numerics::Boundary::Periodic), kNoise, 7);
    std::map<std::string, Tensor> inputs{{"o", o}, {"k", k}};
    HandFista hand(o.data(), k.data(), n);
    for (bool monitors : {false, true}) {
      ir::Graph g1 = compileModel(modelText, 1, n, monitors);
      ir::Graph gL = compileModel(modelText, longStages, n, monitors);
      Executor e1(g1, cpuBackend), eL(gL, cpuBackend);
      RunResult rL = eL.run(inputs);
      e1.run(inputs);
      hand.run(longStages, monitors);
      float diff = 0;
      for (size_t i = 0; i < static_cast<size_t>(n * n); ++i)
        diff = std::max(diff, std::fabs(rL.outputs.at("x").data()[i] - hand.x()[i]));
      const bench::StageTimes t = bench::stageTimesByDifference(
          reps, longStages, [&](int stages) { (stages == 1 ? e1 : eL).run(inputs); },
          [&](int stages) { hand.run(stages, monitors); });
      const double p = t.podm, h = t.hand;
      // podm's memory: the executor's planned arena (every value, spectra and loop state included).
      const double podmPlanes = static_cast<double>(eL.memory().backends.at(0).plannedBytes) /
                                (sizeof(float) * static_cast<double>(n * n));
      std::printf("%5lld² %9s %4d %11.3f %11.3f %7.2f %14.3g %8.2f/%.2f\n",
                  static_cast<long long>(n), monitors ? "phi,rel" : "none", longStages, p, h, p / h,
                  diff, podmPlanes, hand.planesPerPixel());
      std::fflush(stdout);
    }
  }
  return 0;
}
