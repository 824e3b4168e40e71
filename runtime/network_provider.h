// The hook through which `network` nodes reach the network library (stdlib/nn) without the
// runtime depending on stdlib (docs/architecture.md), like prox_provider.h for prox nodes. A node
// names its network, carries the architecture as text (stdlib/nn/spec_text.h) and one weight file
// per stage; the provider binds them once at prepare time and the kernel runs stage l's network.
// The CLI installs a provider built on nn::NetworkSchedule; runtime tests install their own.
#pragma once

#include "runtime/parameter.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace podm {

// What a `network` node says about its network (its attributes, decoded).
struct NetworkDesc {
  std::string name;                 // the model's net (e.g. "A"), for messages
  std::string spec;                 // architecture, one layer per line (stdlib/nn/spec_text.h)
  std::vector<std::string> weights; // weight file per stage, or one file for every stage
  std::string prefix;               // tensor-name prefix inside the files
};

// A bound network as plain data, for a backend that runs the layers itself (runtime/cuda on
// cuDNN) instead of calling NetworkOperator::apply. It is the layer list of stdlib/nn/network.h
// after binding: batch norms folded into the convolution before them, and the activation that
// directly follows a convolution or dense layer (a folded batch norm in between) moved into it.
enum class NetLayerKind : uint8_t { Conv, Dense, Activation, Upsample, ConcatInput };
enum class NetActivation : uint8_t { None, ReLU, LeakyReLU, ELU };
// Same: zero padding that keeps the size at stride 1 (an odd total puts the extra pixel after, as
// TensorFlow does); Valid: none; Replicate: the Same amounts filled with the nearest border pixel.
enum class NetPadding : uint8_t { Same, Valid, Replicate };

struct NetLayer {
  NetLayerKind kind = NetLayerKind::Conv;
  // Conv: channels. Dense: features, `in` = C*H*W of what it reads (flattened in NCHW order).
  // ConcatInput: `in` = the current channels, `out` = in + the network input's channels.
  int64_t in = 0, out = 0;
  int64_t kernel = 1, dilation = 1, stride = 1; // conv: square kernel
  NetPadding padding = NetPadding::Same;        // conv
  int64_t factor = 1;                           // upsample (nearest neighbour)
  // Conv and dense: the activation applied to their output (None: none). Activation layers: their
  // function. alpha: ELU's alpha, LeakyReLU's negative slope.
  NetActivation activation = NetActivation::None;
  float alpha = 0;
  // Conv: out x in x kernel x kernel (OIHW); dense: out x in (row-major). fp32 in host memory that
  // the operator owns. bias: `out` values (zeros when the layer has none).
  const float* weight = nullptr;
  const float* bias = nullptr;
};

struct NetworkDescription {
  int64_t inChannels = 0;
  bool residual = false; // output x - net(x)
  // One layer list per distinct weight set (a file shared by several stages appears once); all
  // share one architecture and differ only in their weight pointers.
  std::vector<std::vector<NetLayer>> networks;
  // The network of each stage (an index into `networks`); a single entry serves every stage.
  std::vector<int64_t> stageNetwork;
  std::string unavailable; // when `networks` is empty: why the operator cannot describe itself

  bool available() const { return !networks.empty(); }
};

// A bound network: out = net_l(in) for stage l. `out` has in's shape and never aliases it.
class NetworkOperator {
public:
  virtual ~NetworkOperator() = default;
  virtual void apply(const Tensor& in, int64_t stage, Tensor& out) = 0;
  // Plans every stage's network for inputs of shape `in` now, so the stage loop only runs them
  // (the executor calls it while it builds its kernels). Optional: apply() plans on first use.
  virtual void prepare(const Shape& in) { (void)in; }

  // Training (runtime/autodiff). Operators bound from fixed weight files are not trainable and
  // throw std::runtime_error from both.
  // The learnable tensors of stage `stage`'s network: the same objects on every call.
  virtual ParameterList parameters(int64_t stage);
  // dIn = (d net_l(in) / d in)^T dOut, and adds d<dOut, net_l(in)>/d theta to the grads of
  // parameters(stage). Recomputes the forward pass on `in`, so callers keep no activations.
  virtual void backward(const Tensor& in, int64_t stage, const Tensor& dOut, Tensor& dIn);

  // Every stage's network as plain data, for a backend that runs the layers itself. The weight
  // pointers stay valid while this operator lives and its weights are not rebound, so such a
  // backend copies them when it prepares the node. Optional: the default is an unavailable
  // description saying why, and such a backend then runs apply() on the host instead. Operators
  // whose weights change (training) keep the default, since a copy would go stale.
  virtual NetworkDescription describe();
};

class NetworkProvider {
public:
  virtual ~NetworkProvider() = default;
  // Builds and binds the network; throws std::exception with a message (bad spec, missing or
  // mismatched weights).
  virtual std::unique_ptr<NetworkOperator> make(const NetworkDesc& desc) const = 0;
  // Whether every operator it makes answers describe() with its layers, so that a device backend
  // can run them itself. Asked when the executor assigns backends (Backend::supports); false, the
  // default, keeps this provider's network nodes on the host backend, which calls apply().
  virtual bool describesLayers() const { return false; }
};

// The process default, used when an executor is given none. Not owned; install once at startup.
void setDefaultNetworkProvider(const NetworkProvider* provider);
const NetworkProvider* defaultNetworkProvider();

// The per-stage weight files are stored on the node joined by newlines; these convert.

} // namespace podm
