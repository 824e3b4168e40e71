// podm_bench_admm: one ADMM stage of examples/admm_tv_deblur.podm (TV deconvolution, periodic)
// compiled as `podm run` does, against a hand-written C++ ADMM with raw FFTW doing the same
// arithmetic, measured in one run (issue #13: target <= 1.2x per iteration at 512² and 2048²).
// Never a pass/fail on time.
//
// Both sides solve min 0.5 ||k * x - o||^2 + lambda ||D x||_{2,1} + nonneg(x) by scaled ADMM on the
// splits z1 = D x (periodic forward differences) and z2 = x, from x = o, z1 = D o, z2 = o, u = 0:
// clang-format off
//   x   = F^-1[ F(K'o + rho (D'(z1 - u1) + z2 - u2)) / (|K^|^2 + rho (|Dx^|^2 + |Dy^|^2 + 1)) ]
//   z1+ = shrink_{lambda/rho}(D x + u1),  u1+ = D x + u1 - z1+;   z2+ = max(x + u2, 0),  u2+ = x + u2 - z2+
// clang-format on
// The hand side is what a researcher would write: the denominator and K'o computed once, the
// right-hand side (with D' inline) in one loop, one r2c/c2r pair, and the whole z/u update with
// rel_change in one fused loop; FFTW plans with the flags and thread counts of podm's plan cache.
// The model's monitors are replaced by rel_change (both sides compute it) and its stop rule
// removed, so both run exactly L stages.
//
// Stage time = (time of an L-stage run - time of a 1-stage run) / (L - 1) on each side, the
// median over interleaved repetitions; before timing, x after L stages is compared.
//
//   podm_bench_admm [--sizes 512,2048] [--profile-size N]
#include "bench/hand_side.h"
#include "bench/harness.h"
#include "engine/graph_build.h"
#include "engine/model_loader.h"
#include "engine/stdlib_prox_provider.h"
#include "numerics/fft.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/io/degrade.h"

#include <cmath>
#include <complex>
#include <cstring>
#include <fftw3.h>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <unistd.h>

#ifndef PODM_BENCH_ADMM_MODEL
#define PODM_BENCH_ADMM_MODEL "examples/admm_tv_deblur.podm"
#endif

using namespace podm;
using bench::FftwFloats;
using bench::readFile;

namespace {

// The settings of examples/admm_tv_deblur.podm; the verification fails loudly if they drift.
constexpr float kRho = 0.05f, kLambda = 2e-3f;
constexpr int kKernelSize = 9;
constexpr double kKernelSigma = 2.0, kNoise = 2.55 / 255.0;

ir::Graph compileModel(const std::string& modelText, int stages, int64_t n) {
  std::string text = std::regex_replace(modelText, std::regex(R"(stages\s+\d+\s+admm)"),
                                        "stages " + std::to_string(stages) + " admm");
  text = std::regex_replace(text, std::regex(R"(\n\s*stop[^\n]*)"), "");
  text = std::regex_replace(text, std::regex(R"(\nmonitor[^\n]*)"), "\nmonitor rel_change");
  return bench::compileModelText(text, {{"o", {n, n}}, {"k", {kKernelSize, kKernelSize}}});
}

class HandAdmm {
public:
  HandAdmm(const float* o, const float* k, int64_t n)
      : n_(n), np_(static_cast<size_t>(n * n)), half_(static_cast<size_t>(n * (n / 2 + 1))),
        o_(np_), kto_(np_), x_(np_), rhs_(np_), z1_(2 * np_), u1_(2 * np_), z2_(np_), u2_(np_),
        spec_(2 * half_), den_(half_) {
    bench::planHandPair(n, rhs_.p, spec_.c(), fwd_, inv_);
    std::memcpy(o_.p, o, np_ * sizeof(float));
    // psf2otf of the kernel, then |K^|^2 and the denominator with the TV and identity splits:
    // |Dx^|^2 = 4 sin^2(pi v / n) along x (columns), likewise along y.
    std::vector<std::complex<float>> khat(half_);
    bench::placeKernelAtOrigin(k, kKernelSize, n, rhs_.p);
    fftwf_execute_dft_r2c(fwd_, rhs_.p, reinterpret_cast<fftwf_complex*>(khat.data()));
    const int64_t hw = n / 2 + 1;
    const double pi = 3.14159265358979323846;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j) {
        const double sy = std::sin(pi * double(i) / double(n)),
                     sx = std::sin(pi * double(j) / double(n));
        const double dd = 4 * sx * sx + 4 * sy * sy;
        const size_t q = static_cast<size_t>(i * hw + j);
        den_.p[q] =
            static_cast<float>(1.0 / (double(np_) * (std::norm(khat[q]) + kRho * (dd + 1))));
      }
    // K'o = F^-1(conj(K^) O).
    fftwf_execute_dft_r2c(fwd_, o_.p, spec_.c());
    auto* s = reinterpret_cast<std::complex<float>*>(spec_.p);
    for (size_t q = 0; q < half_; ++q)
      s[q] *= std::conj(khat[q]) / static_cast<float>(np_);
    fftwf_execute_dft_c2r(inv_, spec_.c(), kto_.p);
  }
  ~HandAdmm() {
    fftwf_destroy_plan(fwd_);
    fftwf_destroy_plan(inv_);
  }
  HandAdmm(const HandAdmm&) = delete;
  HandAdmm& operator=(const HandAdmm&) = delete;
  const float* x() const { return x_.p; }

  // Runs `stages` stages from the start point; returns the last rel_change.
  float run(int stages) {
    const int64_t n = n_;
    std::memcpy(x_.p, o_.p, np_ * sizeof(float));
    gradient(x_.p, z1_.p);
    std::memcpy(z2_.p, o_.p, np_ * sizeof(float));
    std::fill(u1_.p, u1_.p + 2 * np_, 0.0f);
    std::fill(u2_.p, u2_.p + np_, 0.0f);
    float relChange = 0;
    const float thr = kLambda / kRho;
    for (int l = 0; l < stages; ++l) {
      float *x = x_.p, *rhs = rhs_.p, *z1 = z1_.p, *u1 = u1_.p, *z2 = z2_.p, *u2 = u2_.p;
      const float *kto = kto_.p, *px = z1, *py = z1 + np_, *qx = u1, *qy = u1 + np_;
      // rhs = K'o + rho (D'(z1 - u1) + z2 - u2); D'p = p_x[j-1] - p_x[j] + p_y[i-1] - p_y[i].
      // Rows with the wrapped neighbour passed in, so that the inner loops vectorize.
      for (int64_t i = 0; i < n; ++i) {
        const int64_t row = i * n, up = (i == 0 ? n - 1 : i - 1) * n;
        auto at = [&](int64_t c, int64_t left) {
          const float dtp = (px[left] - qx[left]) - (px[c] - qx[c]) +
                            (py[c - row + up] - qy[c - row + up]) - (py[c] - qy[c]);
          rhs[c] = kto[c] + kRho * (dtp + z2[c] - u2[c]);
        };
        at(row, row + n - 1);
        for (int64_t c = row + 1; c < row + n; ++c)
          at(c, c - 1);
      }
      fftwf_execute_dft_r2c(fwd_, rhs, spec_.c());
      auto* s = reinterpret_cast<std::complex<float>*>(spec_.p);
      for (size_t q = 0; q < half_; ++q)
        s[q] *= den_.p[q];
      // x^{l-1} is still in x: rel_change needs it, so the inverse lands in rhs and the fused
      // loop below moves it.
      fftwf_execute_dft_c2r(inv_, spec_.c(), rhs);
      double change2 = 0, prev2 = 0;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t row = i * n, down = (i + 1 == n ? 0 : i + 1) * n;
        float change = 0, prev = 0;
        splitRow(rhs + row, rhs + down, x + row, z1 + row, z1 + np_ + row, u1 + row, u1 + np_ + row,
                 z2 + row, u2 + row, n, thr, change, prev);
        change2 += change;
        prev2 += prev;
      }
      std::swap(x_.p, rhs_.p);
      relChange = static_cast<float>(std::sqrt(change2) / std::max(std::sqrt(prev2), 1e-30));
    }
    return relChange;
  }

private:
  // One row of the z/u update: x the new row, below the next row (periodic), prev the old x.
  static void splitRow(const float* __restrict x, const float* __restrict below,
                       const float* __restrict prev, float* __restrict z1x, float* __restrict z1y,
                       float* __restrict u1x, float* __restrict u1y, float* __restrict z2,
                       float* __restrict u2, int64_t n, float thr, float& change, float& prevSq) {
    float c2 = 0, p2 = 0;
    for (int64_t j = 0; j < n; ++j) {
      const float xc = x[j], right = x[j + 1 == n ? 0 : j + 1];
      const float wx = right - xc + u1x[j], wy = below[j] - xc + u1y[j];
      const float norm = std::sqrt(wx * wx + wy * wy);
      const float shrink = std::max(1.0f - thr / std::max(norm, 1e-30f), 0.0f);
      const float zx = shrink * wx, zy = shrink * wy;
      z1x[j] = zx;
      z1y[j] = zy;
      u1x[j] = wx - zx;
      u1y[j] = wy - zy;
      const float w2 = xc + u2[j], z = std::max(w2, 0.0f);
      z2[j] = z;
      u2[j] = w2 - z;
      const float d = xc - prev[j];
      c2 += d * d;
      p2 += prev[j] * prev[j];
    }
    change = c2;
    prevSq = p2;
  }

  void gradient(const float* x, float* g) const {
    const int64_t n = n_;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const int64_t c = i * n + j;
        g[c] = x[i * n + (j + 1) % n] - x[c];
        g[np_ + c] = x[((i + 1) % n) * n + j] - x[c];
      }
  }

  int64_t n_;
  size_t np_, half_;
  FftwFloats o_, kto_, x_, rhs_, z1_, u1_, z2_, u2_, spec_, den_;
  fftwf_plan fwd_ = nullptr, inv_ = nullptr;
};

} // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes{512, 2048};
  int64_t profileSize = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--sizes" && i + 1 < argc) {
      sizes = bench::parseSizes(argv[++i]);
    } else if (a == "--profile-size" && i + 1 < argc) {
      profileSize = std::stoll(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: podm_bench_admm [--sizes 512,2048] [--profile-size N]\n");
      return 2;
    }
  }
  const std::string modelText = readFile(PODM_BENCH_ADMM_MODEL);
  engine::installStdlibProxProvider();
  cpu::CpuBackend cpuBackend;
  bench::initPodmFft(); // before the hand sides plan
  std::printf("podm_bench_admm: %s, %ld hardware threads, %s\n", PODM_BENCH_ADMM_MODEL,
              sysconf(_SC_NPROCESSORS_ONLN), fftwf_version);
  std::printf("%6s %4s %11s %11s %7s %14s\n", "size", "L", "podm ms", "hand ms", "ratio",
              "max|x diff|");
  for (int64_t n : sizes) {
    const int longStages = n <= 512 ? 21 : 8, reps = 9;
    Tensor gt = io::syntheticImage("scene", n, n, 1);
    Tensor k = io::gaussianKernel(kKernelSize, kKernelSigma);
    Tensor o = io::addGaussianNoise(io::blur(gt, k, numerics::Boundary::Periodic), kNoise, 7);
    std::map<std::string, Tensor> inputs{{"o", o}, {"k", k}};
    ir::Graph g1 = compileModel(modelText, 1, n), gL = compileModel(modelText, longStages, n);
    Executor e1(g1, cpuBackend), eL(gL, cpuBackend);
    RunResult rL = eL.run(inputs);
    e1.run(inputs);
    HandAdmm hand(o.data(), k.data(), n);
    hand.run(longStages);
    float diff = 0;
    for (size_t i = 0; i < static_cast<size_t>(n * n); ++i)
      diff = std::max(diff, std::fabs(rL.outputs.at("x").data()[i] - hand.x()[i]));
    const bench::StageTimes t = bench::stageTimesByDifference(
        reps, longStages, [&](int stages) { (stages == 1 ? e1 : eL).run(inputs); },
        [&](int stages) { hand.run(stages); });
    const double p = t.podm, h = t.hand;
    std::printf("%5lld² %4d %11.3f %11.3f %7.2f %14.3g\n", static_cast<long long>(n), longStages, p,
                h, p / h, diff);
    if (n == profileSize) {
      ExecutorOptions traced;
      traced.trace = true;
      Executor prof(gL, cpuBackend, nullptr, traced);
      prof.run(inputs);
      prof.trace().reset();
      prof.run(inputs);
      std::ostringstream table;
      prof.trace().printByOp(table);
      std::printf("%s", table.str().c_str());
    }
    std::fflush(stdout);
  }
  return 0;
}
