// A network A whose weights are learned: the same layer list as nn::Network (convolutions with
// any dilation and Same/Replicate padding, ReLU/ELU/LeakyReLU, dense layers, residual output),
// run forward on oneDNN while keeping the activations, and backward through oneDNN's backward
// primitives (convolution / inner product backward data and weights, eltwise backward). The
// weights live in Parameters (runtime/parameter.h) that an optimizer updates in place; every
// forward reads their current values. oneDNN types stay in the .cpp files.
//
// Weight names are exactly those nn::Network::bind expects ("conv{k}.weight" OIHW,
// "conv{k}.bias", "fc{k}.weight" out×in, or the layer's `name`), so a file written from
// weights() is what `podm run` reads. Batch norms are refused: they exist only as folded
// inference-time layers, and training them would need batch statistics.
#pragma once

#include "runtime/backend.h"
#include "runtime/parameter.h"
#include "runtime/tensor.h"
#include "stdlib/nn/network.h"
#include "stdlib/nn/weights.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace podm::nn {

class TrainableNetwork {
public:
  // Validates the layer chain like Network does and throws WeightsError naming the layer for a
  // kind that cannot be trained (batch norm, upsample, concat_input). Parameters are named
  // `paramPrefix` + weight name ("stage3." + "conv0.weight") and start at zero until
  // initialize() or bind().
  explicit TrainableNetwork(NetworkSpec spec, std::string paramPrefix = "");
  ~TrainableNetwork();
  TrainableNetwork(TrainableNetwork&&) noexcept;
  TrainableNetwork& operator=(TrainableNetwork&&) noexcept;
  TrainableNetwork(const TrainableNetwork&) = delete;
  TrainableNetwork& operator=(const TrainableNetwork&) = delete;

  const NetworkSpec& spec() const;
  // The tensors bind() expects and weights() returns: name, "F32", shape.
  std::vector<TensorInfo> expectedWeights() const;

  // He-normal weights (std = sqrt(2 / fan_in), fan_in = in·k·k or dense inputs), zero biases;
  // the same seed gives the same weights on every platform (own Box–Muller on mt19937_64).
  void initialize(uint64_t seed);
  // Copies weights named `prefix` + expected name into the parameters. Missing, extra (under
  // the prefix) or mis-shaped tensors throw WeightsError exactly as Network::bind does.
  void bind(const TensorMap& weights, const std::string& prefix = "");
  // The current parameter values under `prefix` + expected name, ready for writeSafetensors.
  TensorMap weights(const std::string& prefix = "") const;

  // Output shape for an N×C×H×W input (throws WeightsError when the input does not fit).
  Shape outputShape(const Shape& in) const;
  // Runs the network on a batch and keeps what backward needs (a copy of `in` and every
  // activation). `out` is reused when it has the output shape, otherwise reallocated. Primitives
  // and activation buffers are built on the first call per input shape and cached.
  void forward(const Tensor& in, Tensor& out);
  // Backward of the last forward: adds d<dOut, out>/dθ to every parameter's grad and, when dIn
  // is given, writes d<dOut, out>/d in into it (reallocated unless it has the input's shape).
  // Throws WeightsError when no forward preceded it or dOut does not have the output's shape.
  void backward(const Tensor& dOut, Tensor* dIn);

  // From the next forward on, runs forward and backward on `backend` (a GPU: cuDNN through
  // runtime/network_trainer.h) instead of the CPU's oneDNN primitives; the parameters, their
  // gradients and every other call stay as they are (host memory, the same names and shapes).
  // Returns false, leaving the network on the CPU, with *whyNot when the backend cannot train
  // this architecture. `backend` must outlive the network.
  bool trainOn(Backend& backend, std::string* whyNot = nullptr);
  // Where forward and backward run: "cpu" or the backend's name.
  std::string device() const;

  // The learnable tensors, in layer order (weight, then bias): the same objects on every call.
  // value has the expected shape laid out in a Shape: conv OIHW as {O, I, k, k}, dense
  // {1, 1, out, in}, biases {1, 1, 1, out}.
  ParameterList parameters();
  void zeroGrad();

  // Multiply-accumulate count ×2 of one forward pass (as Network::flops).
  double flops(const Shape& in) const;
  // Number of input shapes with cached primitives (for tests).
  size_t cachedShapes() const;

  struct Impl; // internal to stdlib/nn

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace podm::nn
