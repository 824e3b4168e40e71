// NetworkSchedule: one loaded network per distinct weight source, shared by the stages using it.
#include "stdlib/nn/schedule.h"

#include "stdlib/nn/keras_hdf5.h"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace podm::nn {

NetworkSchedule::NetworkSchedule(const NetworkSpec& spec, const std::vector<WeightSource>& stages,
                                 Precision precision) {
  // The Keras files of all stages are read together, in one isolated reader process.
  std::vector<std::string> hdf5;
  for (const WeightSource& s : stages)
    if (std::find(hdf5.begin(), hdf5.end(), s.path) == hdf5.end() && isHdf5File(s.path))
      hdf5.push_back(s.path);
  std::vector<KerasRead> reads = readKerasHdf5All(hdf5);
  std::map<std::string, const KerasRead*> readOf;
  for (size_t i = 0; i < hdf5.size(); ++i)
    readOf[hdf5[i]] = &reads[i];
  auto load = [&](const WeightSource& s) {
    auto it = readOf.find(s.path);
    if (it == readOf.end())
      return loadNetwork(spec, s.path, s.prefix);
    if (const std::string& e = it->second->error; !it->second->model)
      throw WeightsError(e.rfind(s.path, 0) == 0 ? e : s.path + ": " + e);
    return networkFromKeras(spec, *it->second->model, s.path, s.prefix);
  };
  for (size_t l = 0; l < stages.size(); ++l) {
    size_t k = 0;
    while (k < sources_.size() && !(sources_[k] == stages[l]))
      ++k;
    if (k == sources_.size()) {
      try {
        nets_.push_back(load(stages[l]));
        nets_.back().setPrecision(precision);
      } catch (const WeightsError& e) {
        // Stages are numbered from 1 wherever a user reads them (as in the trace).
        throw WeightsError("stage " + std::to_string(l + 1) + ": " + e.what());
      }
      sources_.push_back(stages[l]);
    }
    stageToNet_.push_back(k);
  }
}

size_t NetworkSchedule::weightBytes() const {
  size_t bytes = 0;
  for (const Network& net : nets_)
    bytes += net.weightBytes();
  return bytes;
}

Network& NetworkSchedule::at(size_t stage) {
  return nets_[stageToNet_.at(stage)];
}

const WeightSource& NetworkSchedule::source(size_t stage) const {
  return sources_[stageToNet_.at(stage)];
}

NetworkDescription NetworkSchedule::describe() const {
  NetworkDescription d;
  if (nets_.empty()) {
    d.unavailable = "the schedule has no network";
    return d;
  }
  d.inChannels = nets_[0].spec().inChannels;
  d.residual = nets_[0].spec().residual;
  for (const Network& net : nets_)
    d.networks.push_back(net.plainLayers());
  for (size_t k : stageToNet_)
    d.stageNetwork.push_back(static_cast<int64_t>(k));
  return d;
}

std::vector<WeightSource> expandPattern(const std::string& pattern,
                                        const std::vector<long long>& values) {
  size_t open = pattern.find('{');
  size_t close = open == std::string::npos ? std::string::npos : pattern.find('}', open);
  std::vector<WeightSource> out;
  for (long long v : values) {
    if (close == std::string::npos)
      out.push_back({pattern, ""});
    else
      out.push_back({pattern.substr(0, open) + std::to_string(v) + pattern.substr(close + 1), ""});
  }
  return out;
}

} // namespace podm::nn
