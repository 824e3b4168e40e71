// The hand-written GPU baseline of podm_bench_gpu_nn: a chain of 3x3 convolutions (the dilated
// denoiser) called on cuDNN directly (hand_cudnn.cu). Plain C++ without CUDA types, so the
// benchmark's host side compiles like the rest of podm and only hand_cudnn.cu sees cuDNN.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace podm::bench::gpu {

// One 'same' 3x3 convolution with bias, optionally followed by a ReLU. OIHW weights (out x in x 3
// x 3) and `out` biases in host memory, read once by the constructor.
struct HandConvLayer {
  int64_t in = 1, out = 1, dilation = 1;
  bool relu = false;
  const float* weight = nullptr;
  const float* bias = nullptr;
};

class HandDenoiserGpu {
public:
  // The chain on 1 x layers[0].in x size x size inputs; residual: the output is x - net(x) (the
  // last layer's channels must be the input's). Uploads the weights, allocates the activations
  // and picks each convolution's algorithm as podm's CUDA network does (the fastest cuDNN
  // measures among those without tensor-core math, workspace at most 1 GiB).
  HandDenoiserGpu(const std::vector<HandConvLayer>& layers, int64_t size, bool residual);
  ~HandDenoiserGpu();
  HandDenoiserGpu(const HandDenoiserGpu&) = delete;
  HandDenoiserGpu& operator=(const HandDenoiserGpu&) = delete;

  // Uploads x (host), applies the network `stages` times on the device (x_{l+1} = net(x_l)) and
  // downloads the result into y (host); synchronous.
  void run(const float* x, float* y, int stages);
  // The algorithm chosen for each layer, e.g. "1 1 1 1 1 1 1" (cudnnConvolutionFwdAlgo_t values).
  std::string algorithms() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace podm::bench::gpu
