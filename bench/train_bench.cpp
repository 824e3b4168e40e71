// Training-step benchmark: one step (forward keeping activations, L2 loss gradient, backward
// through oneDNN's backward primitives, weight gradients accumulated) of the 7-layer 64-channel
// dilated denoiser (IRCNN / PODM prior) on a batch of crops, against the forward pass alone in
// the same run (the ratio is what the backward costs), plus the inference nn::Network forward.
// GFLOP/s counts a step as 3× the forward's multiply-adds (forward, backward data, backward
// weights), the usual convention; the first layer's data gradient is not computed (no dIn).
// Usage: podm_bench_train [batch crop] (default 8 64).
#include "bench/harness.h"
#include "stdlib/nn/network.h"
#include "stdlib/nn/trainable_network.h"
#include "train/loss.h"

#include <cstdio>
#include <cstdlib>
#include <random>

using namespace podm;

int main(int argc, char** argv) {
  int64_t batch = argc > 1 ? std::atoll(argv[1]) : 8, crop = argc > 2 ? std::atoll(argv[2]) : 64;
  if (batch < 1 || crop < 8) {
    std::fprintf(stderr, "usage: podm_bench_train [batch >= 1] [crop >= 8]\n");
    return 2;
  }
  nn::NetworkSpec spec = nn::residual(nn::dilatedCnn(7, 64, {1, 2, 3, 4, 3, 2, 1}));
  nn::TrainableNetwork net(spec);
  net.initialize(1);
  nn::Network inference(spec);
  inference.bind(net.weights());
  Shape in{batch, 1, crop, crop};
  Tensor x(in), target(in), out, grad, inferOut;
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  for (int64_t i = 0; i < x.numel(); ++i) {
    target.data()[i] = u(rng);
    x.data()[i] = target.data()[i] + noise(rng);
  }
  auto step = [&] {
    net.forward(x, out);
    train::l2Loss(out, target, &grad);
    net.zeroGrad();
    net.backward(grad, nullptr);
  };
  auto forwardOnly = [&] { net.forward(x, out); };
  auto inferenceOnly = [&] { inference.forward(x, inferOut); };
  double flops = net.flops(in);
  bench::PairTiming t = bench::timePair(step, forwardOnly, 3000.0, 2, 5, 50);
  bench::PairTiming f = bench::timePair(forwardOnly, inferenceOnly, 2000.0, 2, 5, 50);
  std::printf("7-layer 64-channel dilated denoiser, batch %lld of %lldx%lld crops\n",
              static_cast<long long>(batch), static_cast<long long>(crop),
              static_cast<long long>(crop));
  std::printf("%-40s %10s %10s\n", "", "ms", "GFLOP/s");
  std::printf("%-40s %10.2f %10.1f\n", "training step (fwd + L2 + bwd)", t.candidateMs,
              3 * flops / t.candidateMs * 1e-6);
  std::printf("%-40s %10.2f %10.1f\n", "forward, training mode", t.baselineMs,
              flops / t.baselineMs * 1e-6);
  std::printf("%-40s %10.2f %10.1f\n", "forward, inference nn::Network", f.baselineMs,
              flops / f.baselineMs * 1e-6);
  std::printf("step / forward (same run): %.2f\n", t.ratio());
  std::printf("training-mode forward / inference forward: %.2f\n", f.ratio());
  return 0;
}
