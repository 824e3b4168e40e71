// Internal to stdlib/nn: the state behind TrainableNetwork, shared by trainable_network.cpp
// (validation, names, initialisation, binding) and onednn_backward.cpp (the oneDNN forward and
// backward primitives). Not installed.
#pragma once

#include "stdlib/nn/network.h"
#include "stdlib/nn/trainable_network.h"

#include <memory>
#include <string>
#include <vector>

namespace podm::nn {

struct TrainState; // oneDNN engine, stream and the per-shape plans (onednn_backward.cpp)

struct TrainableNetwork::Impl {
  NetworkSpec spec;
  Network oracle; // the inference network of the same spec: validation, names, output shapes
  std::vector<std::unique_ptr<Parameter>> params; // stable addresses: optimizers hold pointers
  std::vector<Parameter*> weight, bias;           // per layer; null where the layer has none
  std::unique_ptr<TrainState> dnnl;
  // Set by trainOn: the backend's trainer, its name, and for each plain layer of the architecture
  // (plainArchitecture) the spec layer whose parameters it uses.
  std::unique_ptr<NetworkTrainer> device;
  std::string deviceName = "cpu";
  std::vector<size_t> plainSource;

  explicit Impl(NetworkSpec s);
  ~Impl();
};

std::unique_ptr<TrainState> makeTrainState();
// Runs the plan for in's shape (building it on first use) and keeps its activations.
void trainForward(TrainableNetwork::Impl& net, const Tensor& in, Tensor& out,
                  const Shape& outShape);
// Backward through the plan of the last forward; dIn may be null.
void trainBackward(TrainableNetwork::Impl& net, const Tensor& dOut, Tensor* dIn);
size_t trainCachedShapes(const TrainState& state);

} // namespace podm::nn
