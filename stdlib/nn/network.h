// The learned prior A of a PODM stage: a feed-forward network described by a layer list
// (NetworkSpec, built by hand or by the named templates of the language: dilated_cnn, elu_cnn,
// residual, mlp), bound to weights from a file, and run on the CPU through oneDNN. oneDNN types
// stay in network.cpp: this header is what the compiler's lowering includes.
//
// Weight names follow PyTorch conventions so that files exported from PyTorch bind directly:
// the k-th convolution is "conv{k}.weight" (OIHW) and "conv{k}.bias", the k-th batch norm
// "bn{k}.weight|bias|running_mean|running_var", the k-th dense layer "fc{k}.weight" (out×in) and
// "fc{k}.bias" (k counts layers of that kind from 0). A layer's `name` overrides the prefix.
#pragma once

#include "runtime/network_provider.h"
#include "runtime/tensor.h"
#include "stdlib/nn/weights.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace podm::nn {

enum class LayerKind { Conv2d, BatchNorm, ReLU, ELU, LeakyReLU, Upsample, ConcatInput, Dense };

// Same: zero padding that keeps the spatial size at stride 1 (TensorFlow 'same': an odd total
// padding puts the extra pixel after). Valid: no padding. Replicate: the 'same' amounts, filled
// with the nearest border pixel (PyTorch padding_mode='replicate').
enum class Padding { Same, Valid, Replicate };

struct Layer {
  LayerKind kind = LayerKind::ReLU;
  std::string name;        // weight-name prefix; empty = automatic ("conv0", "bn1", ...)
  int64_t in = 0, out = 0; // channels (conv, batch norm: in == out) or features (dense)
  int64_t kernel = 3, dilation = 1, stride = 1;
  Padding padding = Padding::Same;
  bool bias = true;
  float alpha = 0;    // ELU alpha, LeakyReLU negative slope
  float eps = 1e-3f;  // batch norm epsilon (Keras default)
  int64_t factor = 2; // nearest upsampling factor

  static Layer conv(int64_t in, int64_t out, int64_t k = 3, int64_t dilation = 1,
                    int64_t stride = 1, Padding padding = Padding::Same, bool bias = true);
  static Layer relu();
  static Layer elu(float alpha = 1.0f);
  static Layer leakyRelu(float slope = 0.01f);
  static Layer batchNorm(int64_t channels, float eps = 1e-3f);
  static Layer upsample(int64_t factor);
  // Concatenates the network's input to the current features along channels (a skip
  // connection); `in` is the current channel count, `out` = in + input channels.
  static Layer concatInput(int64_t currentChannels, int64_t inputChannels);
  // Fully connected over the flattened C·H·W features; output shape N×out×1×1.
  static Layer dense(int64_t in, int64_t out, bool bias = true);
};

struct NetworkSpec {
  std::vector<Layer> layers;
  int64_t inChannels = 1;
  bool residual = false;   // output x − net(x) (needs out channels == in channels)
  std::string str() const; // one line per layer, for --emit and error messages
};

// The IRCNN / PODM denoiser: `depth` 3×3 convs in→channels→…→in with the given dilations (one
// per layer), ReLU after all but the last.
NetworkSpec dilatedCnn(int64_t depth, int64_t channels, const std::vector<int64_t>& dilations,
                       int64_t in = 1);
// The Sec. 5.2 CNN: `depth` 3×3 convs, ELU after all but the last.
NetworkSpec eluCnn(int64_t depth, int64_t channels, int64_t in = 1);
NetworkSpec residual(NetworkSpec net);
// A small MLP on the flattened input (in features → hidden… → out), ReLU between layers.
NetworkSpec mlp(int64_t in, const std::vector<int64_t>& hidden, int64_t out);

// Arithmetic of the convolutions. BF16: activations and weights in bfloat16 with f32
// accumulation (oneDNN on AVX512_BF16 / AMX CPUs), about twice the throughput; inputs, outputs,
// biases and the residual stay f32.
enum class Precision { F32, BF16 };

// Whether this CPU runs bf16 convolutions natively (otherwise oneDNN would emulate them slowly).
bool bf16Supported();

class Network {
public:
  // Validates the layer chain (channel counts, batch norm directly after a convolution, residual
  // shapes) and throws WeightsError naming the layer on a mismatch.
  explicit Network(NetworkSpec spec);
  ~Network();
  Network(Network&&) noexcept;
  Network& operator=(Network&&) noexcept;
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  const NetworkSpec& spec() const;
  // The tensors bind() expects: name, dtype "F32", shape.
  std::vector<TensorInfo> expectedWeights() const;
  // Binds weights named `prefix` + expected name. Missing, extra (under the prefix) or
  // mis-shaped tensors throw WeightsError naming the layer and both shapes. Batch norms are
  // folded into the preceding convolution here. Rebinding drops cached primitives.
  void bind(const TensorMap& weights, const std::string& prefix = "");
  bool bound() const;

  // Output shape for an N×C×H×W input (throws WeightsError when the input does not fit).
  Shape outputShape(const Shape& in) const;
  // Runs the network on a batch. `out` is reused when it already has the output shape (so the
  // executor can pass a view of its arena), otherwise it is reallocated. oneDNN primitives and
  // intermediate buffers are created on the first call for each input shape and cached.
  // Not thread-safe: one Network per concurrent caller.
  void forward(const Tensor& in, Tensor& out);
  // Selects the convolutions' arithmetic (drops cached primitives). BF16 throws WeightsError when
  // the CPU lacks it (bf16Supported) or the network concatenates its input (ConcatInput layers
  // stay f32-only).
  void setPrecision(Precision p);
  Precision precision() const;
  // Creates the primitives and reorders the weights for inputs of shape `in` now (forward would
  // do it on its first call with that shape).
  void prepare(const Shape& in);
  // Bytes of the bound weights (the primitives hold one more copy in their own layouts).
  size_t weightBytes() const;
  // Number of distinct input shapes with cached primitives (for tests).
  size_t cachedShapes() const;
  // Multiply-accumulate count ×2 of one forward pass on `in` (convolutions and dense layers).
  double flops(const Shape& in) const;
  // The bound layers as the runtime's plain description (runtime/network_provider.h), for a
  // backend that runs them itself: batch norms folded, each activation that follows a convolution
  // or dense layer (a batch norm in between) moved into it, weights pointing at this network's
  // host copy (valid while it lives and is not rebound). Always the f32 weights, whatever
  // precision() says. Throws WeightsError before bind().
  std::vector<NetLayer> plainLayers() const;

  struct Impl; // internal to stdlib/nn (network_impl.h); public only so its helpers can name it

private:
  std::unique_ptr<Impl> impl_;
};

// The layers of `spec` as the runtime's plain description without weights (pointers null): what
// Network::plainLayers describes, for a network whose weights live elsewhere (training's).
// sourceLayer, when given, gets for each plain layer the index of the spec layer it came from.
std::vector<NetLayer> plainArchitecture(const NetworkSpec& spec,
                                        std::vector<size_t>* sourceLayer = nullptr);

// Bytes of the two activation buffers every network of the process shares (onednn_exec.cpp).
size_t sharedActivationBytes();

// Builds `spec` and binds the weights of `path` (any format loadWeights reads) under `prefix`.
Network loadNetwork(NetworkSpec spec, const std::string& path, const std::string& prefix = "");

} // namespace podm::nn
