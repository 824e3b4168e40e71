// The NetworkProvider used for training: `network` nodes get operators whose weights are
// nn::TrainableNetworks, so the autodiff Tape can call NetworkOperator::backward and an optimizer
// can update NetworkOperator::parameters. One TrainableNetwork per distinct weight file of a node
// (stages sharing a file share the network and its parameters). A network starts from its file
// when the file exists (safetensors or the authors' Keras HDF5, as nn::loadWeights reads), else
// from He initialisation with a seed derived from the provider's seed, the node's name and the
// file name as written in the model (so it does not depend on the order nodes are made in).
//
// The provider keeps the networks it made: make() for the same node (name, spec, files, prefix)
// returns an operator on the same networks, so an executor and a Tape built on one provider see
// one set of parameters, and save() writes the trained state.
//
// Parameter names: the node's prefix, then "stage{l}." (l = the first stage using that file)
// when the node has more than one distinct file, then the layer weight name. With one file for
// all stages the saved names are exactly what `podm run` binds with the node's prefix.
#pragma once

#include "runtime/backend.h"
#include "runtime/network_provider.h"
#include "stdlib/nn/weights.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace podm::nn {
class TrainableNetwork;
}

namespace podm::engine {

class TrainableNetworkProvider final : public NetworkProvider {
public:
  // Relative weight paths resolve against `baseDir` (as StdlibNetworkProvider does).
  explicit TrainableNetworkProvider(std::filesystem::path baseDir, uint64_t seed = 1);
  ~TrainableNetworkProvider() override;

  std::unique_ptr<NetworkOperator> make(const NetworkDesc& desc) const override;

  // Networks made from now on run forward and backward on `device` (a GPU through cuDNN,
  // nn::TrainableNetwork::trainOn); null, the default: the CPU. make() throws when a network
  // cannot train there. `device` must outlive the provider.
  void setDevice(Backend* device) { device_ = device; }

  // Every parameter of every network made so far, in creation order (node, file, layer).
  ParameterList parameters() const;
  // Which networks started from a file and which from He init: one line per network,
  // "A stages 0-3: nets/n1.safetensors (loaded)" / "(He init, seed 7)".
  std::vector<std::string> describe() const;

  // Writes every network's current weights under their parameter names into one safetensors
  // file, atomically (runtime/io/atomic_file.h), with metadata naming each network's stages and
  // source file. Throws std::runtime_error when two nodes' parameter names collide or the file
  // cannot be written.
  void save(const std::string& path) const;
  // Writes each network to its own resolved weight file (safetensors, atomically) under the
  // node's prefix: what `podm run` with the same model reads back.
  void saveWeightFiles() const;
  // One network's weight file as `podm run` reads it: the weights under the node's prefix, and
  // the path as the model writes it (relative to the model's folder when relative).
  struct WeightFile {
    std::string modelPath;
    nn::TensorMap tensors;
  };
  // Every network made so far, in creation order (for a model with per-stage files, stage order).
  std::vector<WeightFile> weightFiles() const;
  // Binds the parameters from a file written by save() (e.g. to resume); every network made so
  // far must find all its tensors there. Throws nn::WeightsError naming what is missing.
  void load(const std::string& path) const;

  struct Entry; // one node's networks (internal)

private:
  std::filesystem::path baseDir_;
  Backend* device_ = nullptr;
  uint64_t seed_;
  mutable std::mutex mutex_;
  mutable std::vector<std::shared_ptr<Entry>> entries_;
};

} // namespace podm::engine
