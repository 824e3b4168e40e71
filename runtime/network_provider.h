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
};

class NetworkProvider {
public:
  virtual ~NetworkProvider() = default;
  // Builds and binds the network; throws std::exception with a message (bad spec, missing or
  // mismatched weights).
  virtual std::unique_ptr<NetworkOperator> make(const NetworkDesc& desc) const = 0;
};

// The process default, used when an executor is given none. Not owned; install once at startup.
void setDefaultNetworkProvider(const NetworkProvider* provider);
const NetworkProvider* defaultNetworkProvider();

// The per-stage weight files are stored on the node joined by newlines; these convert.

} // namespace podm
