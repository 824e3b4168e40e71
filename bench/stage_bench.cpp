// podm_bench_stage: what one PODM stage costs on the CPU executor, against a hand-written C++ loop
// with raw FFTW doing the same arithmetic, measured in one run (docs/performance.md: target
// <= 1.2x, n log n growth, planned memory close to live data). Never a pass/fail on time.
//
// The podm side compiles examples/deblur_podm.podm exactly as `podm run` does (engine::loadModel,
// engine::lowerLoaded, engine::optimizeGraph, Executor on the CPU backend with the stdlib proxes),
// with only the stage count changed; inputs are synthetic (io::syntheticImage "scene" blurred
// periodically by a 9x9 Gaussian, sigma 1.6, plus noise of 2/255). The hand side is the stage a
// researcher would write with FFTW: kernel spectrum, |K^|^2 and the F-step denominator computed
// once; per stage x~ by the closed-form FFT solve, grad f by one r2c/c2r pair through |K^|^2,
// gradient step and prox (l1 then box) fused into one loop, psi and both norms in one loop, the
// feedback step only when the check (Eq. 5) fails, then the monitors the model asks for (phi,
// rel_change) and the stop test. Plans use the same flags and thread counts as podm's plan cache.
// A "literal" variant of the hand loop does the arithmetic podm's graph did before the lowering and
// executor learned better (grad f as K then K', two FFT convolutions; the feedback computed every
// stage and selected): what the normal-operator spectrum and the lazy feedback arm save. podm's
// graph now does the hand loop's transforms (8 per accepted stage, 10 per feedback stage); what
// remains between the two is memory passes (the hand loop fuses prox, psi and the monitors into
// fewer loops than podm's fused nodes) and the executor.
//
// Stage time = (time of a run with L stages - time of a run with 1 stage) / (L - 1) on each side,
// which removes the Pre region (L(f), spectra), input binding and output download. The four runs
// are interleaved per repetition and the median of the per-repetition stage times is reported.
// Before timing, the one-stage and L-stage results of both sides are compared (max |difference|
// of x and of the stage-1 monitors, and the accept/feedback sequence).
//
//   podm_bench_stage [--sizes 256,512,1024,2048] [--model PATH] [--profile-size N]
#include "bench/hand_side.h"
#include "bench/harness.h"
#include "bench/stage_check.h"
#include "engine/graph_build.h"
#include "engine/model_loader.h"
#include "engine/stdlib_prox_provider.h"
#include "numerics/conv.h"
#include "numerics/fft.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/io/degrade.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstring>
#include <fftw3.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#ifndef PODM_BENCH_MODEL
#define PODM_BENCH_MODEL "examples/deblur_podm.podm"
#endif

using namespace podm;
using bench::FftwFloats;
using bench::readFile;

namespace {

// The settings of examples/deblur_podm.podm; the verification below fails loudly if they drift.
constexpr float kMu = 0.5f, kC = 0.2f, kLambda = 1e-3f, kGammaFactor = 0.9f, kStopBelow = 1e-5f;
constexpr int kKernelSize = 9;
constexpr double kKernelSigma = 1.6, kNoise = 2.0 / 255.0;

double mib(size_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

// Current resident set (VmRSS), for attributing memory to the two sides.
double currentRssMib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stod(line.substr(6)) / 1024.0; // kB
  return 0;
}

double peakRssMib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0; // Linux: KiB
}

// ---------------------------------------------------------------------------------------------
// podm side: the CLI's library calls on the model file with the stage count replaced.

ir::Graph compileModel(const std::string& modelText, int stages, int64_t n) {
  static const std::regex stagesLine(R"(stages\s+\d+\s+podm)");
  if (!std::regex_search(modelText, stagesLine))
    throw std::runtime_error("the model has no 'stages N podm' line");
  std::string text =
      std::regex_replace(modelText, stagesLine, "stages " + std::to_string(stages) + " podm");
  return bench::compileModelText(text, {{"o", {n, n}}, {"k", {kKernelSize, kKernelSize}}});
}

// ---------------------------------------------------------------------------------------------
// Hand side: raw FFTW and plain loops.

class HandStage {
public:
  HandStage(const float* o, const float* k, int64_t n)
      : n_(n), pixels_(static_cast<size_t>(n * n)), half_(static_cast<size_t>(n * (n / 2 + 1))),
        o_(pixels_), kto_(pixels_), x_(pixels_), xt_(pixels_), gt_(pixels_), xg_(pixels_),
        gg_(pixels_), tmp_(pixels_), fb_(pixels_), spec_(2 * half_), khat_(2 * half_), nk2_(half_),
        den_(half_) {
    // Plans first: FFTW_MEASURE overwrites the arrays it plans on.
    bench::planHandPair(n, tmp_.p, spec_.c(), fwd_, inv_);
    std::memcpy(o_.p, o, pixels_ * sizeof(float));
    // psf2otf: the kernel centred at the origin, periodically.
    bench::placeKernelAtOrigin(k, kKernelSize, n, tmp_.p);
    fftwf_execute_dft_r2c(fwd_, tmp_.p, khat_.c());
    float scale = 1.0f / static_cast<float>(pixels_), lf = 0;
    for (size_t j = 0; j < half_; ++j) {
      float re = khat_.p[2 * j], im = khat_.p[2 * j + 1], k2 = re * re + im * im;
      lf = std::max(lf, k2);
      nk2_.p[j] = k2 * scale;
      den_.p[j] = scale / (k2 + kMu);
      khat_.p[2 * j] *= scale;
      khat_.p[2 * j + 1] *= scale;
    }
    gamma_ = kGammaFactor / lf; // L_f = max |K^|^2, exact for a periodic convolution
    // K'o: conj(K^) O.
    fftwf_execute_dft_r2c(fwd_, o_.p, spec_.c());
    for (size_t j = 0; j < half_; ++j) {
      float kr = khat_.p[2 * j], ki = -khat_.p[2 * j + 1];
      float sr = spec_.p[2 * j], si = spec_.p[2 * j + 1];
      spec_.p[2 * j] = sr * kr - si * ki;
      spec_.p[2 * j + 1] = sr * ki + si * kr;
    }
    fftwf_execute_dft_c2r(inv_, spec_.c(), kto_.p);
  }
  ~HandStage() {
    fftwf_destroy_plan(fwd_);
    fftwf_destroy_plan(inv_);
  }
  HandStage(const HandStage&) = delete;
  HandStage& operator=(const HandStage&) = delete;

  size_t bytes() const {
    // Everything allocated: 9 planes (o, K'o, x, x~, x_G, 2 gradients, 1 scratch, and the feedback
    // plane only the literal variant uses), 2 complex and 2 real half spectra.
    return (9 * pixels_ + 4 * half_ + 2 * half_) * sizeof(float);
  }
  const float* x() const { return x_.p; }

  // Runs `stages` stages from x^0 = o, stopping early like the model (rel_change < 1e-5).
  // literal = true follows podm's former graph arithmetic instead: grad f as K then K' (two FFT
  // convolutions, four transforms) and the feedback step computed every stage, then selected.
  int run(int stages, std::vector<StageLog>* log, bool literal = false) {
    literal_ = literal;
    std::memcpy(x_.p, o_.p, pixels_ * sizeof(float));
    const float g = gamma_, thr = gamma_ * kLambda, invG = 1.0f / gamma_;
    const size_t np = pixels_;
    for (int l = 0; l < stages; ++l) {
      float *x = x_.p, *xt = xt_.p, *gt = gt_.p, *xg = xg_.p, *gg = gg_.p, *t = tmp_.p;
      const float* kto = kto_.p;
      // x~ = (K'K + mu)^-1 (K'o + mu x): closed-form FFT solve.
      for (size_t i = 0; i < np; ++i)
        t[i] = kto[i] + kMu * x[i];
      fftwf_execute_dft_r2c(fwd_, t, spec_.c());
      scaleSpectrum(den_.p);
      fftwf_execute_dft_c2r(inv_, spec_.c(), xt);
      // x_G = prox_{gamma g}(x~ - gamma (grad f(x~) + mu (x~ - x))).
      gradF(xt, gt);
      for (size_t i = 0; i < np; ++i)
        xg[i] = proxG(xt[i] - g * (gt[i] + kMu * (xt[i] - x[i])), thr);
      // psi (H = mu/2 I) and the check of Eq. (5).
      gradF(xg, gg);
      double psi2 = 0, step2 = 0;
      for (size_t i = 0; i < np; ++i) {
        float d = xg[i] - x[i];
        float psi = (xt[i] - xg[i]) * invG - 0.5f * kMu * (2.0f * xt[i] - xg[i] - x[i]) +
                    0.5f * kMu * d + (gg[i] - gt[i]);
        psi2 += static_cast<double>(psi) * psi;
        step2 += static_cast<double>(d) * d;
      }
      StageLog s;
      s.optError = static_cast<float>(std::sqrt(psi2));
      s.checkBound = kC * static_cast<float>(std::sqrt(step2));
      s.accepted = s.optError <= s.checkBound;
      if (literal) { // both branches, then select
        float* fb = fb_.p;
        gradF(x, gt);
        for (size_t i = 0; i < np; ++i)
          fb[i] = proxG(x[i] - g * gt[i], thr);
        if (!s.accepted)
          std::memcpy(xg, fb, np * sizeof(float));
      } else if (!s.accepted) { // feedback, Eq. (6): x+ = prox_{gamma g}(x - gamma grad f(x)).
        gradF(x, gt);
        for (size_t i = 0; i < np; ++i)
          xg[i] = proxG(x[i] - g * gt[i], thr);
      }
      // Monitors at x+ (= xg): rel_change, phi = 0.5 ||K x+ - o||^2 + lambda ||x+||_1.
      double change2 = 0, x2 = 0, l1 = 0, r2 = 0;
      for (size_t i = 0; i < np; ++i) {
        float d = xg[i] - x[i];
        change2 += static_cast<double>(d) * d;
        x2 += static_cast<double>(x[i]) * x[i];
        l1 += std::fabs(xg[i]);
      }
      fftwf_execute_dft_r2c(fwd_, xg, spec_.c());
      multiplySpectrum(khat_.p);
      fftwf_execute_dft_c2r(inv_, spec_.c(), t);
      const float* o = o_.p;
      for (size_t i = 0; i < np; ++i) {
        float r = t[i] - o[i];
        r2 += static_cast<double>(r) * r;
      }
      s.relChange = static_cast<float>(std::sqrt(change2) / std::max(std::sqrt(x2), 1e-30));
      s.phi = static_cast<float>(0.5 * r2 + kLambda * l1);
      std::swap(x_.p, xg_.p);
      if (log)
        log->push_back(s);
      if (s.relChange < kStopBelow)
        return l + 1;
    }
    return stages;
  }

private:
  static float proxG(float v, float thr) { // l1 soft threshold, then the box [0, 1]
    float s = v > thr ? v - thr : (v < -thr ? v + thr : 0.0f);
    return std::min(std::max(s, 0.0f), 1.0f);
  }
  void scaleSpectrum(const float* r) {
    float* s = spec_.p;
    for (size_t j = 0; j < half_; ++j) {
      s[2 * j] *= r[j];
      s[2 * j + 1] *= r[j];
    }
  }
  void multiplySpectrum(const float* k, float conj = 1.0f) {
    float* s = spec_.p;
    for (size_t j = 0; j < half_; ++j) {
      float sr = s[2 * j], si = s[2 * j + 1], kr = k[2 * j], ki = conj * k[2 * j + 1];
      s[2 * j] = sr * kr - si * ki;
      s[2 * j + 1] = sr * ki + si * kr;
    }
  }
  // g = K'(K v - o) = F^-1(|K^|^2 F v) - K'o.
  void gradF(const float* v, float* out) {
    if (literal_) { // K v - o into the scratch plane, then K' of it
      float* t = tmp_.p;
      fftwf_execute_dft_r2c(fwd_, const_cast<float*>(v), spec_.c());
      multiplySpectrum(khat_.p);
      fftwf_execute_dft_c2r(inv_, spec_.c(), t);
      for (size_t i = 0; i < pixels_; ++i)
        t[i] -= o_.p[i];
      fftwf_execute_dft_r2c(fwd_, t, spec_.c());
      multiplySpectrum(khat_.p, -1.0f);
      fftwf_execute_dft_c2r(inv_, spec_.c(), out);
      return;
    }
    fftwf_execute_dft_r2c(fwd_, const_cast<float*>(v), spec_.c());
    scaleSpectrum(nk2_.p);
    fftwf_execute_dft_c2r(inv_, spec_.c(), out);
    const float* kto = kto_.p;
    for (size_t i = 0; i < pixels_; ++i)
      out[i] -= kto[i];
  }

  int64_t n_;
  size_t pixels_, half_;
  FftwFloats o_, kto_, x_, xt_, gt_, xg_, gg_, tmp_, fb_, spec_, khat_, nk2_, den_;
  bool literal_ = false;
  fftwf_plan fwd_ = nullptr, inv_ = nullptr;
  float gamma_ = 0;
};

// ---------------------------------------------------------------------------------------------

struct SizePlan {
  int64_t n;
  int longStages; // L: the second run has L stages
  int reps;
};

SizePlan planFor(int64_t n) {
  if (n <= 256)
    return {n, 11, 15};
  if (n <= 512)
    return {n, 7, 9};
  if (n <= 1024)
    return {n, 5, 7};
  return {n, 4, 5};
}

struct Row {
  int64_t n;
  const char* conv;
  double podmMs, handMs, literalMs;
  MemoryReport::PerBackend mem;
  size_t handBytes;
  double rssMib;
};

// Where podm's stage time goes: per-op totals over one L-stage run (tracing on).
void printProfile(const ir::Graph& gL, cpu::CpuBackend& cpuBackend,
                  const std::map<std::string, Tensor>& inputs, const SizePlan& plan) {
  ExecutorOptions traced;
  traced.trace = true;
  Executor prof(gL, cpuBackend, nullptr, traced);
  prof.run(inputs);
  prof.trace().reset();
  prof.run(inputs);
  std::printf("  profile of one %d-stage podm run at %lld² (per op, all regions):\n",
              plan.longStages, static_cast<long long>(plan.n));
  std::ostringstream table;
  prof.trace().printByOp(table);
  std::istringstream lines(table.str());
  for (std::string line; std::getline(lines, line);)
    std::printf("    %s\n", line.c_str());
}

// The tables over all sizes: stage times against the hand loops, then memory.
void printSummary(const std::vector<Row>& rows) {
  std::printf("stage time (median of interleaved repetitions; ratio = podm / hand, < 1 means podm "
              "is faster)\n");
  std::printf("%6s %6s %11s %11s %7s %12s %9s %14s %14s\n", "size", "conv", "podm ms", "hand ms",
              "ratio", "literal ms", "podm/lit", "podm ns/NlgN", "hand ns/NlgN");
  for (const Row& r : rows) {
    double nlogn = static_cast<double>(r.n * r.n) * std::log2(static_cast<double>(r.n * r.n));
    std::printf("%5lld² %6s %11.3f %11.3f %7.2f %12.3f %9.2f %14.4f %14.4f\n",
                static_cast<long long>(r.n), r.conv, r.podmMs, r.handMs, r.podmMs / r.handMs,
                r.literalMs, r.podmMs / r.literalMs, r.podmMs * 1e6 / nlogn,
                r.handMs * 1e6 / nlogn);
  }
  std::printf(
      "(literal = the hand loop doing podm's former graph arithmetic: K and K' as separate "
      "FFT convolutions, feedback every stage; conv = podm's periodic 9x9 method for phi)\n");
  std::printf("\nmemory (MiB; one plane = N float32; podm = the executor's CPU arena plan of the "
              "L-stage graph)\n");
  std::printf("%6s %6s %10s %10s %10s %8s %10s %12s\n", "size", "slots", "naive", "planned",
              "peak live", "plane", "hand bufs", "peak RSS");
  for (const Row& r : rows)
    std::printf("%5lld² %6zu %10.1f %10.1f %10.1f %8.2f %10.1f %12.1f\n",
                static_cast<long long>(r.n), r.mem.slots, mib(r.mem.naiveBytes),
                mib(r.mem.plannedBytes), mib(r.mem.peakLiveBytes),
                mib(static_cast<size_t>(r.n * r.n) * sizeof(float)), mib(r.handBytes), r.rssMib);
  std::printf("(peak RSS is the process high-water mark after that size: two podm executors, the "
              "hand buffers, inputs, graph constants and FFTW plans of every size so far)\n");
}

} // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes{256, 512, 1024, 2048};
  std::string modelPath = PODM_BENCH_MODEL;
  int64_t profileSize = 512;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--sizes" && i + 1 < argc) {
      sizes = bench::parseSizes(argv[++i]);
    } else if (a == "--model" && i + 1 < argc) {
      modelPath = argv[++i];
    } else if (a == "--profile-size" && i + 1 < argc) {
      profileSize = std::stoll(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: podm_bench_stage [--sizes 256,512,...] [--model PATH] "
                           "[--profile-size N (0: none)]\n");
      return 2;
    }
  }
  const std::string modelText = readFile(modelPath);
  engine::installStdlibProxProvider();
  cpu::CpuBackend cpuBackend;
  bench::initPodmFft(); // before the hand sides plan
  std::printf("podm_bench_stage: %s, %u hardware threads, %s; FFT threads: 1 below %lld pixels, %d "
              "from there\n",
              modelPath.c_str(), std::max(1u, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN))),
              fftwf_version, static_cast<long long>(numerics::kThreadedPixels),
              numerics::fftThreadsFor(numerics::kThreadedPixels));
  std::printf("inputs: synthetic scene, %dx%d Gaussian kernel (sigma %.1f), periodic blur, noise "
              "%.4f; A = identity, x^0 = o\n\n",
              kKernelSize, kKernelSize, kKernelSigma, kNoise);

  std::vector<Row> rows;
  double t0 = bench::nowMs();
  for (int64_t n : sizes) {
    SizePlan plan = planFor(n);
    Tensor gt = io::syntheticImage("scene", n, n, 1);
    Tensor k = io::gaussianKernel(kKernelSize, kKernelSigma);
    Tensor o = io::addGaussianNoise(io::blur(gt, k, numerics::Boundary::Periodic), kNoise, 7);
    std::map<std::string, Tensor> inputs{{"o", o}, {"k", k}};
    const size_t pixels = static_cast<size_t>(n * n);

    double rss0 = currentRssMib(), tc = bench::nowMs();
    ir::Graph g1 = compileModel(modelText, 1, n), gL = compileModel(modelText, plan.longStages, n);
    Executor e1(g1, cpuBackend), eL(gL, cpuBackend);
    double rssGraphs = currentRssMib();
    double setupMs = 0; // filled below, after the hand side's plans

    // Same numbers? One stage, then L stages.
    RunResult r1 = e1.run(inputs), rL = eL.run(inputs);
    double rssExec = currentRssMib();
    HandStage hand(o.data(), k.data(), n);
    setupMs = bench::nowMs() - tc;
    std::vector<StageLog> log1, logL;
    int handStages1 = hand.run(1, &log1);
    std::vector<float> hand1(hand.x(), hand.x() + pixels);
    int handStagesL = hand.run(plan.longStages, &logL);
    float d1 = maxAbsDiff(r1.outputs.at("x").data(), hand1.data(), pixels);
    float dL = maxAbsDiff(rL.outputs.at("x").data(), hand.x(), pixels);
    auto rel = [](float a, float b) { return std::fabs(a - b) / std::max(std::fabs(b), 1e-30f); };
    std::printf("%lld²: verification (podm vs hand)\n", static_cast<long long>(n));
    std::printf("  stage 1: max|x diff| %.3g; phi %.7g vs %.7g (rel %.2g); opt_error %.6g vs %.6g "
                "(rel %.2g); check_bound %.6g vs %.6g (rel %.2g); branch %s vs %s\n",
                d1, monitorAt(r1, "phi", 0), log1[0].phi, rel(monitorAt(r1, "phi", 0), log1[0].phi),
                monitorAt(r1, "opt_error", 0), log1[0].optError,
                rel(monitorAt(r1, "opt_error", 0), log1[0].optError),
                monitorAt(r1, "check_bound", 0), log1[0].checkBound,
                rel(monitorAt(r1, "check_bound", 0), log1[0].checkBound),
                monitorAt(r1, "branch", 0) != 0 ? "accept" : "feedback",
                log1[0].accepted ? "accept" : "feedback");
    std::string bp = branches(rL.monitors.find("branch")), bh = branches(logL);
    std::printf("  %d stages: max|x diff| %.3g; stages run %lld vs %d; branches %s vs %s%s\n",
                plan.longStages, dL, static_cast<long long>(rL.stages), handStagesL, bp.c_str(),
                bh.c_str(), bp == bh ? "" : "  <-- DIFFERENT");
    std::vector<StageLog> logLit;
    hand.run(plan.longStages, &logLit, true);
    std::printf("  literal hand variant, %d stages: max|x diff| vs podm %.3g; branches %s\n",
                plan.longStages, maxAbsDiff(rL.outputs.at("x").data(), hand.x(), pixels),
                branches(logLit).c_str());
    if (r1.stages != 1 || handStages1 != 1 || rL.stages != plan.longStages ||
        handStagesL != plan.longStages)
      std::printf("  warning: a run stopped early; the stage time below mixes run lengths\n");

    // Timing: podm 1, podm L, hand 1, hand L per repetition (after the runs above as warm-up).
    double rssHand = currentRssMib();
    std::printf(
        "  resident MiB: %.1f before compiling, +%.1f two compiled graphs (constants), +%.1f "
        "two executors after one run each (arenas, plans), +%.1f hand side after its runs\n",
        rss0, rssGraphs - rss0, rssExec - rssGraphs, rssHand - rssExec);
    std::vector<double> podmStage, handStage, litStage;
    for (int rep = 0; rep < plan.reps; ++rep) {
      double a = bench::nowMs();
      e1.run(inputs);
      double b = bench::nowMs();
      eL.run(inputs);
      double c = bench::nowMs();
      hand.run(1, nullptr);
      double d = bench::nowMs();
      hand.run(plan.longStages, nullptr);
      double e = bench::nowMs();
      hand.run(1, nullptr, true);
      double f = bench::nowMs();
      hand.run(plan.longStages, nullptr, true);
      double h = bench::nowMs();
      podmStage.push_back(((c - b) - (b - a)) / (plan.longStages - 1));
      handStage.push_back(((e - d) - (d - c)) / (plan.longStages - 1));
      litStage.push_back(((h - f) - (f - e)) / (plan.longStages - 1));
    }
    Row row{n,
            numerics::chooseConvMethod(kKernelSize, kKernelSize, n, n,
                                       numerics::Boundary::Periodic) == numerics::ConvMethod::Fft
                ? "fft"
                : "direct",
            bench::median(podmStage),
            bench::median(handStage),
            bench::median(litStage),
            eL.memory().backends.at(0),
            hand.bytes(),
            peakRssMib()};
    rows.push_back(row);
    std::printf("  timing: L = %d, %d repetitions; setup (compile x2, executors + first runs, hand "
                "plans) %.0f ms; "
                "podm stage %.3f ms, hand stage %.3f ms, ratio %.2f; literal hand %.3f ms\n",
                plan.longStages, plan.reps, setupMs, row.podmMs, row.handMs,
                row.podmMs / row.handMs, row.literalMs);

    if (n == profileSize)
      printProfile(gL, cpuBackend, inputs, plan);
    std::printf("\n");
    std::fflush(stdout);
  }

  printSummary(rows);
  std::printf("\ntotal %.1f s\n", (bench::nowMs() - t0) / 1000.0);
  return 0;
}
