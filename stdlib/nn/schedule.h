// Per-stage networks: the PODM authors switch denoisers by stage (net_idx[l]); a NetworkSchedule
// maps each stage to a weight source (file, optionally a tensor-name prefix inside it) and holds
// one loaded Network per distinct source, so a file used by ten stages is read and bound once.
#pragma once

#include "stdlib/nn/network.h"

#include <cstddef>
#include <string>
#include <vector>

namespace podm::nn {

struct WeightSource {
  std::string path;
  std::string prefix; // tensor-name prefix inside the file ("" = whole file)
  bool operator==(const WeightSource&) const = default;
};

class NetworkSchedule {
public:
  // Loads every distinct source eagerly (errors surface before the first stage runs, naming the
  // stage and the file). All stages share the architecture `spec`.
  NetworkSchedule(const NetworkSpec& spec, const std::vector<WeightSource>& stages,
                  Precision precision = Precision::F32);

  size_t stages() const { return stageToNet_.size(); }
  size_t distinctNetworks() const { return nets_.size(); }
  size_t weightBytes() const; // of the distinct networks
  // The network of stage `l` (0-based); throws std::out_of_range past the last stage.
  Network& at(size_t stage);
  const WeightSource& source(size_t stage) const;
  // Every stage's network as the runtime's plain description: one layer list per distinct
  // network (Network::plainLayers), and the network of each stage.
  NetworkDescription describe() const;

private:
  std::vector<Network> nets_;
  std::vector<WeightSource> sources_; // per distinct network
  std::vector<size_t> stageToNet_;
};

// Expands a weight-path pattern with a `{name[l]}`-style placeholder already resolved by the
// caller into one path per stage: replaces the first "{…}" in `pattern` by `values[l]`.
std::vector<WeightSource> expandPattern(const std::string& pattern,
                                        const std::vector<long long>& values);

} // namespace podm::nn
