// podm_bench_gpu_nn: the 7-layer 64-channel dilated denoiser (IRCNN / PODM prior, as
// bench/nn_bench.cpp) through podm's CUDA `network` node, against the same cuDNN calls chained by
// hand (hand_cudnn.cu), in one run on one GPU (issue 12's target: <= 1.1x). Never a pass/fail on
// time. Without a visible GPU it prints one line saying why and exits 0.
//
// The podm side is a graph x_{l+1} = A(x_l) over L stages (one `network` node in the stage loop)
// run by the Executor with the CUDA backend (CPU fallback), the network bound to random N(0, 0.05)
// weights through a NetworkProvider that describes it as plain layers, so the node runs on cuDNN
// as `podm run --device cuda` does. The hand side applies the same weights L times on the device
// with the same algorithm rule and arithmetic (fp32, FMA math, no TF32). Two times per size:
//  - per pass: (run with L stages - run with 1 stage) / (L - 1) on each side, which removes the
//    upload, the download and the executor's per-run set-up: the cost of one network application;
//  - one run: one pass with the host input uploaded and the output downloaded, interleaved, median.
// Before timing, both sides' outputs after one and after L passes are compared (and, up to 512²,
// podm's against the CPU network on oneDNN).
//
//   podm_bench_gpu_nn [--sizes 256,512,1024,2048]
#include "bench/cuda/hand_cudnn.h"
#include "bench/harness.h"
#include "ir/builder.h"
#include "runtime/backend_factory.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/network_provider.h"
#include "stdlib/nn/network.h"
#include "stdlib/nn/spec_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace podm;

namespace {

constexpr double kTarget = 1.1;
const std::vector<int64_t> kDilations = {1, 2, 3, 4, 3, 2, 1};

// The bench's one network, bound once, for every `network` node: described as plain layers so the
// CUDA backend runs it on cuDNN (apply() is there for a backend that cannot).
class BenchNetworks final : public NetworkProvider {
public:
  explicit BenchNetworks(nn::Network& net) : net_(net) {}
  std::unique_ptr<NetworkOperator> make(const NetworkDesc&) const override {
    return std::make_unique<Bound>(net_);
  }
  bool describesLayers() const override { return true; }

private:
  class Bound final : public NetworkOperator {
  public:
    explicit Bound(nn::Network& net) : net_(net) {}
    void apply(const Tensor& in, int64_t, Tensor& out) override { net_.forward(in, out); }
    void prepare(const Shape& in) override { net_.prepare(in); }
    NetworkDescription describe() override {
      NetworkDescription d;
      d.inChannels = net_.spec().inChannels;
      d.residual = net_.spec().residual;
      d.networks = {net_.plainLayers()};
      d.stageNetwork = {0};
      return d;
    }

  private:
    nn::Network& net_;
  };
  nn::Network& net_;
};

// x_{l+1} = A(x_l) for `stages` stages on a size x size image; output "y".
ir::Graph denoiserGraph(int64_t size, int stages, const std::string& spec) {
  ir::Graph g("denoiser");
  ir::Builder b(g);
  const ir::ValueId x0 = b.input("x", ir::Type::real(ir::Dims{1, 1, size, size}));
  b.beginLoop(stages);
  const ir::ValueId x = b.loopState(x0, "x");
  const ir::Attrs attrs{{"net", std::string("A")},
                        {"spec", spec},
                        {"weights", std::string("random")},
                        {"prefix", std::string("")}};
  b.carry(x, b.op(ir::Op::Network, {x}, attrs));
  b.endLoop();
  b.output("y", b.loopResult(x));
  return g;
}

// The hand chain's layers: the network's own plain description (same weight pointers).
std::vector<bench::gpu::HandConvLayer> handLayers(const nn::Network& net) {
  std::vector<bench::gpu::HandConvLayer> layers;
  for (const NetLayer& l : net.plainLayers()) {
    if (l.kind != NetLayerKind::Conv || l.kernel != 3 || l.stride != 1 ||
        l.padding != NetPadding::Same ||
        (l.activation != NetActivation::None && l.activation != NetActivation::ReLU))
      throw std::runtime_error("the hand chain takes 'same' 3x3 convolutions with ReLU only");
    layers.push_back(
        {l.in, l.out, l.dilation, l.activation == NetActivation::ReLU, l.weight, l.bias});
  }
  return layers;
}

// max |a - b| / max |b|.
double relDiff(const float* a, const float* b, int64_t count) {
  double diff = 0, scale = 1e-30;
  for (int64_t i = 0; i < count; ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  }
  return diff / scale;
}

struct Row {
  int64_t n;
  double podmPassMs, handPassMs;
  bench::PairTiming oneRun;
  double gflop;
};

} // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes{256, 512, 1024, 2048};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--sizes" && i + 1 < argc) {
      sizes = bench::parseSizes(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: podm_bench_gpu_nn [--sizes 256,512,...]\n");
      return 2;
    }
  }
  std::string why;
  std::unique_ptr<Backend> cuda = makeCudaBackend(&why);
  if (!cuda) {
    std::printf("podm_bench_gpu_nn: skipped: %s\n", why.c_str());
    return 0;
  }
  cpu::CpuBackend cpuBackend;
  nn::Network net(nn::residual(nn::dilatedCnn(7, 64, kDilations)));
  nn::TensorMap weights;
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0.0f, 0.05f);
  for (const nn::TensorInfo& t : net.expectedWeights()) {
    nn::HostTensor h{t.shape, std::vector<float>(size_t(nn::checkedNumel(t.shape)))};
    for (float& v : h.data)
      v = gauss(rng);
    weights[t.name] = std::move(h);
  }
  net.bind(weights);
  BenchNetworks networks(net);
  const std::string spec = nn::encodeSpec(net.spec());
  const std::vector<bench::gpu::HandConvLayer> layers = handLayers(net);
  std::printf(
      "podm_bench_gpu_nn: 7-layer 64-channel dilated denoiser (residual), fp32 on cuDNN\n\n");

  std::vector<Row> rows;
  const double t0 = bench::nowMs();
  for (int64_t s : sizes) {
    const int longStages = s <= 512 ? 6 : 4;
    const int reps = s <= 512 ? 9 : 5;
    Tensor x(Shape{1, 1, s, s});
    for (int64_t i = 0; i < x.numel(); ++i)
      x.data()[i] = float(i % 251) / 251.0f;
    const std::map<std::string, Tensor> inputs{{"x", x}};
    const double tc = bench::nowMs();
    ExecutorOptions options;
    options.network = &networks;
    Executor e1(denoiserGraph(s, 1, spec), *cuda, &cpuBackend, options),
        eL(denoiserGraph(s, longStages, spec), *cuda, &cpuBackend, options);
    bench::gpu::HandDenoiserGpu hand(layers, s, true);
    std::printf("%lld²: set-up (executors, hand chain with its algorithm search) %.0f ms; hand "
                "algorithms %s\n",
                static_cast<long long>(s), bench::nowMs() - tc, hand.algorithms().c_str());
    for (const std::string& note : eL.notes())
      std::printf("  on the CPU fallback: %s\n", note.c_str());

    // Same numbers? One pass and L passes (the first runs also pick podm's algorithms).
    const Tensor y1 = e1.run(inputs).outputs.at("y"), yL = eL.run(inputs).outputs.at("y");
    std::vector<float> h1(size_t(x.numel())), hL(size_t(x.numel()));
    hand.run(x.data(), h1.data(), 1);
    hand.run(x.data(), hL.data(), longStages);
    std::printf("  verification: podm vs hand max|diff|/max|y| %.2g after 1 pass, %.2g after %d",
                relDiff(y1.data(), h1.data(), x.numel()), relDiff(yL.data(), hL.data(), x.numel()),
                longStages);
    if (s <= 512) {
      Tensor yCpu;
      net.forward(x, yCpu);
      std::printf("; podm vs the CPU (oneDNN) %.2g", relDiff(y1.data(), yCpu.data(), x.numel()));
    }
    std::printf("\n");

    std::vector<float> scratch(size_t(x.numel()));
    const bench::StageTimes pass = bench::stageTimesByDifference(
        reps, longStages, [&](int stages) { (stages == 1 ? e1 : eL).run(inputs); },
        [&](int stages) { hand.run(x.data(), scratch.data(), stages); });
    const bench::PairTiming oneRun = bench::timePair(
        [&] { e1.run(inputs); }, [&] { hand.run(x.data(), scratch.data(), 1); }, 1500.0, 2, 5, 50);
    rows.push_back({s, pass.podm, pass.hand, oneRun, net.flops(x.shape()) * 1e-9});
    std::printf("  per pass (L = %d, %d repetitions): podm %.3f ms, hand %.3f ms, ratio %.3f; one "
                "run with upload and download: podm %.3f ms, hand %.3f ms, ratio %.3f\n\n",
                longStages, reps, pass.podm, pass.hand, pass.podm / pass.hand, oneRun.candidateMs,
                oneRun.baselineMs, oneRun.ratio());
    std::fflush(stdout);
  }

  std::printf("denoiser on the GPU (medians; ratio = podm / hand, < 1 means podm is faster; "
              "target <= %.1f)\n",
              kTarget);
  std::printf("%6s %10s %10s %7s %10s %10s %10s %7s\n", "size", "podm ms", "hand ms", "ratio",
              "podm GF/s", "run podm", "run hand", "ratio");
  for (const Row& r : rows)
    std::printf("%5lld² %10.3f %10.3f %7.3f %10.0f %10.3f %10.3f %7.3f\n",
                static_cast<long long>(r.n), r.podmPassMs, r.handPassMs,
                r.podmPassMs / r.handPassMs, r.gflop / (r.podmPassMs * 1e-3), r.oneRun.candidateMs,
                r.oneRun.baselineMs, r.oneRun.ratio());
  std::printf("(podm/hand ms: one network application, by stage difference; run: one pass with the "
              "input uploaded and the output downloaded)\n");
  std::printf("\npodm_bench_gpu_nn summary: podm/hand per pass");
  for (const Row& r : rows)
    std::printf(" %lld² %.3f", static_cast<long long>(r.n), r.podmPassMs / r.handPassMs);
  std::printf("; one run");
  for (const Row& r : rows)
    std::printf(" %lld² %.3f", static_cast<long long>(r.n), r.oneRun.ratio());
  std::printf(" (target <= %.1f)\n", kTarget);
  std::printf("\ntotal %.1f s\n", (bench::nowMs() - t0) / 1000.0);
  return 0;
}
