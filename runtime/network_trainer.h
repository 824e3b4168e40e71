// A network trained on a backend that runs the layers itself (runtime/cuda on cuDNN) rather than
// through the CPU's oneDNN primitives (stdlib/nn/trainable_network.h). The architecture is the
// plain layer list of network_provider.h; the weights stay in the caller's host memory (the
// optimizer updates them there) and are handed over at every forward, and the gradients are added
// into the caller's host memory at every backward, so a trainer holds no copy that could go
// stale. Inputs and outputs are host tensors: a training step moves its batch and the weights
// (under 1 MB for the paper's denoisers) each way once.
#pragma once

#include "runtime/network_provider.h"
#include "runtime/tensor.h"

#include <span>

namespace podm {

// One layer's current values (NetLayer's layouts: conv OIHW, dense out x in, `out` biases); null
// where the layer has none (activations, or a layer without a bias).
struct LayerWeights {
  const float* weight = nullptr;
  const float* bias = nullptr;
};

// Where one layer's gradients are added; null where the layer has none or none is wanted.
struct LayerGrads {
  float* weight = nullptr;
  float* bias = nullptr;
};

class NetworkTrainer {
public:
  virtual ~NetworkTrainer() = default;
  // out = net(in) for an N x C x H x W batch with these weights (one entry per layer of the
  // architecture), keeping every activation for backward. `out` is reused when it has the output
  // shape, else reallocated. Throws std::runtime_error when the input does not fit the network.
  virtual void forward(const Tensor& in, std::span<const LayerWeights> weights, Tensor& out) = 0;
  // Backward of the last forward: adds d<dOut, out>/dθ into `grads` (one entry per layer) and,
  // when dIn is given, writes d<dOut, out>/d in into it (reallocated unless it has the input's
  // shape). Throws std::runtime_error when no forward preceded it or dOut has another shape.
  virtual void backward(const Tensor& dOut, std::span<const LayerGrads> grads, Tensor* dIn) = 0;
};

} // namespace podm
