// podm_bench_gpu_stage: what one PODM stage costs on the CUDA executor, against the same stage
// written by hand with cuFFT and plain kernels (hand_stage.cu), measured in one run on one GPU
// (issue 12's target: <= 1.2x at 512^2-4096^2). Never a pass/fail on time. Without a visible GPU
// it prints one line saying why and exits 0.
//
// The podm side compiles examples/deblur_podm.podm as `podm run --device cuda` does (engine's model
// loader, lowering and passes; Executor with the CUDA backend as primary and the CPU as fallback,
// the stdlib proxes), with only the stage count changed; inputs are bench/stage_bench.cpp's
// (synthetic scene, 9x9 Gaussian blur, sigma 1.6, periodic, noise 2/255). The hand side is the
// stage of stage_bench.cpp's HandStage on the GPU: 8 transforms per accepted stage, 10 per feedback
// stage, the gradient step and prox fused, the check's and the monitors' sums in one reduction
// each, read back to decide.
//
// Stage time = (time of a run with L stages - time of a run with 1 stage) / (L - 1) on each side,
// which removes the Pre region, the uploads of the inputs and the download of the result; the four
// runs are interleaved per repetition, each ends synchronized (the executor downloads its outputs,
// the hand side reads its sums every stage), and the median over repetitions is reported. Before
// timing, x after one and after L stages, the stage-1 monitors and the accept/feedback sequence of
// both sides are compared.
//
//   podm_bench_gpu_stage [--sizes 512,1024,2048,4096] [--model PATH] [--profile-size N]
#include "bench/cuda/hand_stage.h"
#include "bench/hand_side.h"
#include "bench/harness.h"
#include "bench/stage_check.h"
#include "engine/stdlib_prox_provider.h"
#include "runtime/backend_factory.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/io/degrade.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef PODM_BENCH_MODEL
#define PODM_BENCH_MODEL "examples/deblur_podm.podm"
#endif

using namespace podm;
using bench::gpu::HandStageGpu;

namespace {

// The settings of examples/deblur_podm.podm; the verification below shows it if they drift.
constexpr bench::gpu::StageSettings kSettings{
    .mu = 0.5f, .c = 0.2f, .lambda = 1e-3f, .gammaFactor = 0.9f, .stopBelow = 1e-5f};
constexpr int kKernelSize = 9;
constexpr double kKernelSigma = 1.6, kNoise = 2.0 / 255.0;
constexpr double kTarget = 1.2;

ir::Graph compileModel(const std::string& modelText, int stages, int64_t n) {
  static const std::regex stagesLine(R"(stages\s+\d+\s+podm)");
  if (!std::regex_search(modelText, stagesLine))
    throw std::runtime_error("the model has no 'stages N podm' line");
  std::string text =
      std::regex_replace(modelText, stagesLine, "stages " + std::to_string(stages) + " podm");
  return bench::compileModelText(text, {{"o", {n, n}}, {"k", {kKernelSize, kKernelSize}}});
}

struct SizePlan {
  int64_t n;
  int longStages; // L: the second run has L stages
  int reps;
};

// A GPU stage takes about a millisecond at 1024^2: enough stages and repetitions that the
// difference of two runs is well above the launch jitter, few enough to stay within seconds.
SizePlan planFor(int64_t n) {
  if (n <= 1024)
    return {n, 11, 15};
  if (n <= 2048)
    return {n, 9, 11};
  return {n, 7, 9};
}

float rel(float a, float b) {
  return std::fabs(a - b) / std::max(std::fabs(b), 1e-30f);
}

struct Row {
  int64_t n;
  double podmMs, handMs;
  size_t fallbackNodes;
  size_t podmBytes, handBytes;
};

// Where podm's time goes on the GPU: per-op totals over one L-stage run (tracing synchronizes
// after every node, so the total exceeds the untraced run's).
void printProfile(const ir::Graph& gL, Backend& cuda, Backend& cpu,
                  const std::map<std::string, Tensor>& inputs, const SizePlan& plan) {
  ExecutorOptions traced;
  traced.trace = true;
  Executor prof(gL, cuda, &cpu, traced);
  prof.run(inputs);
  prof.trace().reset();
  prof.run(inputs);
  std::printf("  profile of one %d-stage podm run at %lld² (per op, all regions, synchronized):\n",
              plan.longStages, static_cast<long long>(plan.n));
  std::ostringstream table;
  prof.trace().printByOp(table);
  std::istringstream lines(table.str());
  for (std::string line; std::getline(lines, line);)
    std::printf("    %s\n", line.c_str());
}

void printSummary(const std::vector<Row>& rows) {
  std::printf("stage time on the GPU (median of interleaved repetitions; ratio = podm / hand, < 1 "
              "means podm is faster; target <= %.1f)\n",
              kTarget);
  std::printf("%6s %11s %11s %7s %14s %14s %9s %11s %11s\n", "size", "podm ms", "hand ms", "ratio",
              "podm ns/NlgN", "hand ns/NlgN", "on cpu", "podm MiB", "hand MiB");
  for (const Row& r : rows) {
    const double nlogn = static_cast<double>(r.n * r.n) * std::log2(static_cast<double>(r.n * r.n));
    std::printf("%5lld² %11.3f %11.3f %7.2f %14.4f %14.4f %9zu %11.1f %11.1f\n",
                static_cast<long long>(r.n), r.podmMs, r.handMs, r.podmMs / r.handMs,
                r.podmMs * 1e6 / nlogn, r.handMs * 1e6 / nlogn, r.fallbackNodes,
                static_cast<double>(r.podmBytes) / (1 << 20),
                static_cast<double>(r.handBytes) / (1 << 20));
  }
  std::printf("(on cpu = nodes of the L-stage graph the CUDA backend left to the CPU fallback; "
              "podm MiB = the executor's device arena, hand MiB = the hand loop's buffers)\n");
  // One line for scripts/gpu-check.sh's summary.
  std::printf("\npodm_bench_gpu_stage summary: podm/hand stage time");
  for (const Row& r : rows)
    std::printf(" %lld² %.2f", static_cast<long long>(r.n), r.podmMs / r.handMs);
  std::printf(" (target <= %.1f)\n", kTarget);
}

} // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes{512, 1024, 2048, 4096};
  std::string modelPath = PODM_BENCH_MODEL;
  int64_t profileSize = 1024;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--sizes" && i + 1 < argc) {
      sizes = bench::parseSizes(argv[++i]);
    } else if (a == "--model" && i + 1 < argc) {
      modelPath = argv[++i];
    } else if (a == "--profile-size" && i + 1 < argc) {
      profileSize = std::stoll(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: podm_bench_gpu_stage [--sizes 512,1024,...] [--model PATH] "
                           "[--profile-size N (0: none)]\n");
      return 2;
    }
  }
  std::string why;
  std::unique_ptr<Backend> cuda = makeCudaBackend(&why);
  if (!cuda) {
    std::printf("podm_bench_gpu_stage: skipped: %s\n", why.c_str());
    return 0;
  }
  const std::string modelText = bench::readFile(modelPath);
  engine::installStdlibProxProvider();
  cpu::CpuBackend cpuBackend;
  std::printf("podm_bench_gpu_stage: %s on %s\n", modelPath.c_str(),
              bench::gpu::deviceSummary().c_str());
  std::printf("inputs: synthetic scene, %dx%d Gaussian kernel (sigma %.1f), periodic blur, noise "
              "%.4f; A = identity, x^0 = o\n\n",
              kKernelSize, kKernelSize, kKernelSigma, kNoise);

  std::vector<Row> rows;
  const double t0 = bench::nowMs();
  for (int64_t n : sizes) {
    const SizePlan plan = planFor(n);
    Tensor gt = io::syntheticImage("scene", n, n, 1);
    Tensor k = io::gaussianKernel(kKernelSize, kKernelSigma);
    Tensor o = io::addGaussianNoise(io::blur(gt, k, numerics::Boundary::Periodic), kNoise, 7);
    const std::map<std::string, Tensor> inputs{{"o", o}, {"k", k}};
    const size_t pixels = static_cast<size_t>(n * n);

    const double tc = bench::nowMs();
    ir::Graph g1 = compileModel(modelText, 1, n), gL = compileModel(modelText, plan.longStages, n);
    Executor e1(g1, *cuda, &cpuBackend), eL(gL, *cuda, &cpuBackend);
    HandStageGpu hand(o.data(), k.data(), kKernelSize, n, kSettings);
    std::printf("%lld²: set-up (compile x2, executors, hand plans and spectra) %.0f ms\n",
                static_cast<long long>(n), bench::nowMs() - tc);
    if (!eL.notes().empty()) {
      std::printf("  %zu node(s) of the %d-stage graph run on the CPU fallback:\n",
                  eL.notes().size(), plan.longStages);
      for (const std::string& note : eL.notes())
        std::printf("    %s\n", note.c_str());
    }

    // Same numbers? One stage, then L stages.
    const RunResult r1 = e1.run(inputs), rL = eL.run(inputs);
    std::vector<StageLog> log1, logL;
    const int handStages1 = hand.run(1, &log1);
    std::vector<float> hand1(pixels), handL(pixels);
    hand.downloadX(hand1.data());
    const int handStagesL = hand.run(plan.longStages, &logL);
    hand.downloadX(handL.data());
    std::printf("  verification (podm vs hand)\n");
    std::printf("  stage 1: max|x diff| %.3g; phi %.7g vs %.7g (rel %.2g); opt_error %.6g vs %.6g "
                "(rel %.2g); check_bound %.6g vs %.6g (rel %.2g); branch %s vs %s\n",
                maxAbsDiff(r1.outputs.at("x").data(), hand1.data(), pixels),
                monitorAt(r1, "phi", 0), log1[0].phi, rel(monitorAt(r1, "phi", 0), log1[0].phi),
                monitorAt(r1, "opt_error", 0), log1[0].optError,
                rel(monitorAt(r1, "opt_error", 0), log1[0].optError),
                monitorAt(r1, "check_bound", 0), log1[0].checkBound,
                rel(monitorAt(r1, "check_bound", 0), log1[0].checkBound),
                monitorAt(r1, "branch", 0) != 0 ? "accept" : "feedback",
                log1[0].accepted ? "accept" : "feedback");
    const std::string bp = branches(rL.monitors.find("branch")), bh = branches(logL);
    std::printf("  %d stages: max|x diff| %.3g; stages run %lld vs %d; branches %s vs %s%s\n",
                plan.longStages, maxAbsDiff(rL.outputs.at("x").data(), handL.data(), pixels),
                static_cast<long long>(rL.stages), handStagesL, bp.c_str(), bh.c_str(),
                bp == bh ? "" : "  <-- DIFFERENT");
    if (r1.stages != 1 || handStages1 != 1 || rL.stages != plan.longStages ||
        handStagesL != plan.longStages)
      std::printf("  warning: a run stopped early; the stage time below mixes run lengths\n");

    // Timing, after the runs above as warm-up: podm 1, podm L, hand 1, hand L per repetition.
    // Each hand run ends with the download podm's run does too.
    const bench::StageTimes t = bench::stageTimesByDifference(
        plan.reps, plan.longStages, [&](int stages) { (stages == 1 ? e1 : eL).run(inputs); },
        [&](int stages) {
          hand.run(stages, nullptr);
          hand.downloadX(handL.data());
        });
    size_t podmBytes = 0;
    for (const MemoryReport::PerBackend& b : eL.memory().backends)
      if (b.backend == cuda->name())
        podmBytes = b.plannedBytes;
    rows.push_back({n, t.podm, t.hand, eL.notes().size(), podmBytes, hand.deviceBytes()});
    std::printf("  timing: L = %d, %d repetitions; podm stage %.3f ms, hand stage %.3f ms, ratio "
                "%.2f\n",
                plan.longStages, plan.reps, t.podm, t.hand, t.podm / t.hand);
    if (n == profileSize)
      printProfile(gL, *cuda, cpuBackend, inputs, plan);
    std::printf("\n");
    std::fflush(stdout);
  }

  printSummary(rows);
  std::printf("\ntotal %.1f s\n", (bench::nowMs() - t0) / 1000.0);
  return 0;
}
