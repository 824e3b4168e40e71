// podm_bench_gpu_fused: a fused elementwise program on the GPU through the interpreter kernel
// (runtime/cuda/fused.cu, the default) against the same program compiled into its own kernel by
// NVRTC (runtime/cuda/fused_nvrtc.h, PODM_CUDA_FUSED=nvrtc), in one run on one GPU: issue 12 asks
// which is faster. Never a pass/fail on time. Without a visible GPU it prints why and exits 0.
//
// Each program is one fused_elementwise node in an L-stage loop (its first result carried as the
// loop state, the other operands fixed inputs), run by the Executor on the CUDA backend. Per
// application: (run with L stages - run with 1 stage) / (L - 1), interleaved, medians; the NVRTC
// side also reports what building its executor cost beyond the interpreter's (the compile, once
// per distinct program and process). Before timing, the two sides' outputs are compared.
//
//   podm_bench_gpu_fused [--sizes 512,2048,4096]
#include "bench/harness.h"
#include "ir/builder.h"
#include "runtime/backend_factory.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace podm;

namespace {

struct Program {
  const char* name;
  const char* text; // result 0 is a tensor of in0's shape: the loop state
  std::vector<bool> scalar;
};

// From the models: a relaxed-PODM step with its monitors (FISTA-like pass, 5 results, 3
// reductions), a long chain with literals (15 ops), a short axpy-like chain, and phi's sum of
// |c|^p (exp/log) as a second result.
const Program kPrograms[] = {
    {"step+prox+momentum, 3 sums",
     "t0 = add(in1, in2); t1 = mul(in3, t0); t2 = sub(in0, t1); t3 = sign(t2); t4 = abs(t2); "
     "t5 = sub(t4, in4); t6 = max(t5, 0); t7 = mul(t3, t6); t8 = sub(t7, in5); "
     "t9 = fma(in6, t8, t7); t10 = norm2sq(t8); t11 = norm2sq(t7); t12 = abs(t7); t13 = sum(t12); "
     "return t9, t7, t10, t11, t13",
     {false, false, false, true, true, false, true}},
    {"15-op chain with literals",
     "t0 = div(in0, in2); t1 = max(t0, in1); t2 = min(t1, 0.75); t3 = neg(t2); "
     "t4 = sign(in1); t5 = mul(t4, t3); t6 = abs(in0); t7 = add(t6, 0.5); t8 = sqrt(t7); "
     "t9 = log(t8); t10 = exp(t5); t11 = sub(t10, t9); t12 = axpby(in3, t11, 0.25, t8); "
     "t13 = clamp(t12, -2, 2); mul(t13, 0.5)",
     {false, false, true, true}},
    {"3-op chain", "t0 = sub(in0, in1); t1 = mul(in2, t0); add(in0, t1)", {false, false, true}},
    {"phi: sum |c|^p",
     "t0 = abs(in0); t1 = log(t0); t2 = mul(t1, 0.8); t3 = exp(t2); "
     "t4 = sum(t3); t5 = mul(in0, 0.999); return t5, t4",
     {false}},
};

ir::Graph programGraph(const Program& p, int64_t size, int stages) {
  ir::Graph g("fused");
  ir::Builder b(g);
  const ir::Type tensor = ir::Type::real(ir::Dims{1, 1, size, size});
  std::vector<ir::ValueId> in;
  for (size_t k = 0; k < p.scalar.size(); ++k)
    in.push_back(b.input("in" + std::to_string(k), p.scalar[k] ? ir::Type::scalar() : tensor));
  b.beginLoop(stages);
  const ir::ValueId x = b.loopState(in[0], "x");
  std::vector<ir::ValueId> operands = in;
  operands[0] = x;
  b.carry(x, b.create(ir::Op::FusedElementwise, operands, {{"program", std::string(p.text)}}));
  b.endLoop();
  b.output("y", b.loopResult(x));
  return g;
}

std::map<std::string, Tensor> programInputs(const Program& p, int64_t size) {
  std::map<std::string, Tensor> inputs;
  for (size_t k = 0; k < p.scalar.size(); ++k) {
    Tensor t(p.scalar[k] ? Shape{1, 1, 1, 1} : Shape{1, 1, size, size});
    for (int64_t i = 0; i < t.numel(); ++i)
      t.data()[i] = p.scalar[k] ? 0.1f * float(k + 1) : float((i * (k + 3)) % 97) / 97.0f + 0.01f;
    inputs.emplace("in" + std::to_string(k), std::move(t));
  }
  return inputs;
}

double relDiff(const Tensor& a, const Tensor& b) {
  double diff = 0, scale = 1e-30;
  for (int64_t i = 0; i < a.numel(); ++i) {
    diff = std::max(diff, std::fabs(double(a.data()[i]) - double(b.data()[i])));
    scale = std::max(scale, std::fabs(double(b.data()[i])));
  }
  return diff / scale;
}

void useCompiled(bool on) {
  if (on)
    setenv("PODM_CUDA_FUSED", "nvrtc", 1);
  else
    unsetenv("PODM_CUDA_FUSED");
}

} // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes{512, 2048, 4096};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--sizes" && i + 1 < argc) {
      sizes = bench::parseSizes(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: podm_bench_gpu_fused [--sizes 512,2048,...]\n");
      return 2;
    }
  }
  std::string why;
  std::unique_ptr<Backend> cuda = makeCudaBackend(&why);
  if (!cuda) {
    std::printf("podm_bench_gpu_fused: skipped: %s\n", why.c_str());
    return 0;
  }
  cpu::CpuBackend cpuBackend;
  const int stages = 20, reps = 7;
  std::printf("podm_bench_gpu_fused: fused programs, NVRTC-compiled kernel vs the interpreter\n");
  std::printf("%-28s %6s %12s %12s %7s %12s %9s\n", "program", "size", "nvrtc us", "interp us",
              "ratio", "compile ms", "max diff");
  std::string summary;
  const double t0 = bench::nowMs();
  for (const Program& p : kPrograms)
    for (int64_t s : sizes) {
      const std::map<std::string, Tensor> inputs = programInputs(p, s);
      useCompiled(false);
      double tb = bench::nowMs();
      Executor i1(programGraph(p, s, 1), *cuda, &cpuBackend),
          iL(programGraph(p, s, stages), *cuda, &cpuBackend);
      const double interpBuild = bench::nowMs() - tb;
      useCompiled(true);
      tb = bench::nowMs();
      Executor c1(programGraph(p, s, 1), *cuda, &cpuBackend),
          cL(programGraph(p, s, stages), *cuda, &cpuBackend);
      const double compiledBuild = bench::nowMs() - tb;
      useCompiled(false);
      for (const Executor* e : {&iL, &cL})
        for (const std::string& note : e->notes())
          std::printf("  on the CPU fallback: %s\n", note.c_str());
      const double diff = relDiff(cL.run(inputs).outputs.at("y"), iL.run(inputs).outputs.at("y"));
      const bench::StageTimes t = bench::stageTimesByDifference(
          reps, stages, [&](int n) { (n == 1 ? c1 : cL).run(inputs); },
          [&](int n) { (n == 1 ? i1 : iL).run(inputs); });
      std::printf("%-28s %5lld² %12.1f %12.1f %7.3f %12.1f %9.2g\n", p.name,
                  static_cast<long long>(s), t.podm * 1e3, t.hand * 1e3, t.podm / t.hand,
                  compiledBuild - interpBuild, diff);
      std::fflush(stdout);
      std::ostringstream item;
      item.precision(3);
      item << " " << s << "²:" << t.podm / t.hand;
      if (s == sizes.back())
        summary += std::string(summary.empty() ? "" : ";") + " " + p.name + item.str();
    }
  std::printf("(per application of the node, by stage difference over %d stages, medians of %d; "
              "ratio = nvrtc / interpreter, < 1 means the compiled kernel is faster; compile = "
              "building its executors minus the interpreter's)\n",
              stages, reps);
  std::printf("\npodm_bench_gpu_fused summary: nvrtc/interpreter at the largest size:%s\n",
              summary.c_str());
  std::printf("\ntotal %.1f s\n", (bench::nowMs() - t0) / 1000.0);
  return 0;
}
