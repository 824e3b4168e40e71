// TrainableNetworkProvider (see trainable_network_provider.h): network nodes on
// nn::TrainableNetworks shared per weight file, with recompute-forward backward for the Tape.
#include "engine/trainable_network_provider.h"

#include "runtime/io/atomic_file.h"
#include "stdlib/nn/keras_hdf5.h"
#include "stdlib/nn/safetensors.h"
#include "stdlib/nn/spec_text.h"
#include "stdlib/nn/trainable_network.h"

#include <stdexcept>

namespace podm::engine {

struct TrainableNetworkProvider::Entry {
  NetworkDesc desc;
  struct Net {
    std::string path;            // resolved weight file
    std::string written;         // the path as the model writes it
    std::string paramPrefix;     // desc.prefix [+ "stage{l}."]
    std::vector<int64_t> stages; // the stages that use it (empty: every stage, one file)
    std::string origin;          // "loaded" or "He init, seed N"
    std::shared_ptr<nn::TrainableNetwork> net;
  };
  std::vector<Net> nets;
  std::vector<size_t> stageToNet; // one entry per listed file

  Net& at(int64_t stage) {
    if (stageToNet.size() == 1)
      return nets[0];
    if (stage < 0 || size_t(stage) >= stageToNet.size())
      throw std::runtime_error("network '" + desc.name + "': stage " + std::to_string(stage) +
                               " has no weight file (" + std::to_string(stageToNet.size()) +
                               " given)");
    return nets[stageToNet[size_t(stage)]];
  }
};

namespace {

// FNV-1a: a string hash that is the same on every platform, so seeds are reproducible.
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

// One splitmix64 round: decorrelates seeds that differ in few bits.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class TrainableOperator final : public NetworkOperator {
public:
  explicit TrainableOperator(std::shared_ptr<TrainableNetworkProvider::Entry> entry)
      : entry_(std::move(entry)) {}

  void apply(const Tensor& in, int64_t stage, Tensor& out) override {
    entry_->at(stage).net->forward(in, out);
  }
  ParameterList parameters(int64_t stage) override { return entry_->at(stage).net->parameters(); }
  void backward(const Tensor& in, int64_t stage, const Tensor& dOut, Tensor& dIn) override {
    nn::TrainableNetwork& net = *entry_->at(stage).net;
    // Recompute the forward on `in`: the caller keeps only the network inputs, not activations.
    net.forward(in, scratch_);
    net.backward(dOut, &dIn);
  }

private:
  std::shared_ptr<TrainableNetworkProvider::Entry> entry_;
  Tensor scratch_;
};

bool sameDesc(const NetworkDesc& a, const NetworkDesc& b) {
  return a.name == b.name && a.spec == b.spec && a.weights == b.weights && a.prefix == b.prefix;
}

} // namespace

TrainableNetworkProvider::TrainableNetworkProvider(std::filesystem::path baseDir, uint64_t seed)
    : baseDir_(std::move(baseDir)), seed_(seed) {
}
TrainableNetworkProvider::~TrainableNetworkProvider() = default;

std::unique_ptr<NetworkOperator> TrainableNetworkProvider::make(const NetworkDesc& desc) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& e : entries_)
    if (sameDesc(e->desc, desc))
      return std::make_unique<TrainableOperator>(e);
  if (desc.weights.empty())
    throw std::runtime_error("network '" + desc.name + "': no weight file");
  nn::NetworkSpec spec = nn::decodeSpec(desc.spec);
  auto entry = std::make_shared<Entry>();
  entry->desc = desc;
  std::vector<std::string> resolved;
  for (const std::string& p : desc.weights) {
    std::filesystem::path path(p);
    resolved.push_back((path.is_relative() ? baseDir_ / path : path).string());
  }
  size_t distinct = 0;
  for (size_t l = 0; l < resolved.size(); ++l) {
    bool seen = false;
    for (size_t k = 0; k < l && !seen; ++k)
      seen = resolved[k] == resolved[l];
    distinct += seen ? 0 : 1;
  }
  for (size_t l = 0; l < resolved.size(); ++l) {
    size_t k = 0;
    while (k < entry->nets.size() && entry->nets[k].path != resolved[l])
      ++k;
    if (k == entry->nets.size()) {
      Entry::Net n;
      n.path = resolved[l];
      n.written = desc.weights[l];
      n.paramPrefix = desc.prefix + (distinct > 1 ? "stage" + std::to_string(l) + "." : "");
      n.net = std::make_shared<nn::TrainableNetwork>(spec, n.paramPrefix);
      if (std::filesystem::exists(n.path)) {
        try {
          // A Keras file records its architecture; loadNetwork checks it against the spec
          // (other dilations have the same tensor shapes and would bind silently).
          if (nn::isHdf5File(n.path))
            nn::loadNetwork(spec, n.path, desc.prefix);
          n.net->bind(nn::loadWeights(n.path), desc.prefix);
        } catch (const nn::WeightsError& e) {
          std::string what = e.what();
          throw nn::WeightsError(what.rfind(n.path, 0) == 0 ? what : n.path + ": " + what);
        }
        n.origin = "loaded";
      } else {
        uint64_t seed = mix(seed_ ^ fnv1a(desc.name + "|" + desc.weights[l]));
        n.net->initialize(seed);
        n.origin = "He init, seed " + std::to_string(seed);
      }
      std::string why;
      if (device_ && !n.net->trainOn(*device_, &why))
        throw std::runtime_error("network '" + desc.name + "' cannot train on " + device_->name() +
                                 ": " + why);
      entry->nets.push_back(std::move(n));
    }
    if (resolved.size() > 1)
      entry->nets[k].stages.push_back(int64_t(l));
    entry->stageToNet.push_back(k);
  }
  entries_.push_back(entry);
  return std::make_unique<TrainableOperator>(entry);
}

ParameterList TrainableNetworkProvider::parameters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  ParameterList out;
  for (const auto& e : entries_)
    for (auto& n : e->nets)
      for (Parameter* p : n.net->parameters())
        out.push_back(p);
  return out;
}

namespace {

std::string stageText(const std::vector<int64_t>& stages) {
  if (stages.empty())
    return "all stages";
  std::string s = "stages ";
  for (size_t i = 0; i < stages.size(); ++i)
    s += (i ? "," : "") + std::to_string(stages[i]);
  return s;
}

} // namespace

std::vector<std::string> TrainableNetworkProvider::describe() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (const auto& e : entries_)
    for (const auto& n : e->nets)
      out.push_back(e->desc.name + " " + stageText(n.stages) + ": " + n.path + " (" + n.origin +
                    ")");
  return out;
}

void TrainableNetworkProvider::save(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  nn::TensorMap all;
  std::map<std::string, std::string> meta;
  size_t k = 0;
  for (const auto& e : entries_)
    for (const auto& n : e->nets) {
      for (auto& [name, t] : n.net->weights(n.paramPrefix))
        if (!all.emplace(name, std::move(t)).second)
          throw std::runtime_error(path + ": two networks both have a tensor named '" + name +
                                   "' (give the nets distinct weight prefixes)");
      meta["podm.network." + std::to_string(k++)] = e->desc.name + " " + stageText(n.stages) +
                                                    " prefix '" + n.paramPrefix + "' from " +
                                                    n.path;
    }
  io::writeFileAtomic(path, [&](const std::string& tmp) { nn::writeSafetensors(tmp, all, meta); });
}

void TrainableNetworkProvider::saveWeightFiles() const {
  for (const WeightFile& f : weightFiles()) {
    const std::filesystem::path p(f.modelPath);
    io::writeFileAtomic((p.is_relative() ? baseDir_ / p : p).string(),
                        [&](const std::string& tmp) { nn::writeSafetensors(tmp, f.tensors); });
  }
}

std::vector<TrainableNetworkProvider::WeightFile> TrainableNetworkProvider::weightFiles() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<WeightFile> out;
  for (const auto& e : entries_)
    for (const auto& n : e->nets)
      out.push_back({n.written, n.net->weights(e->desc.prefix)});
  return out;
}

void TrainableNetworkProvider::load(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  nn::TensorMap file = nn::loadWeights(path);
  for (const auto& e : entries_)
    for (const auto& n : e->nets) {
      // Only this network's tensors: the file holds the others too.
      nn::TensorMap mine;
      for (const nn::TensorInfo& t : n.net->expectedWeights()) {
        auto it = file.find(n.paramPrefix + t.name);
        if (it == file.end())
          throw nn::WeightsError(path + ": no tensor '" + n.paramPrefix + t.name +
                                 "' for network " + e->desc.name + " " + stageText(n.stages));
        mine.insert(*it);
      }
      n.net->bind(mine, n.paramPrefix);
    }
}

} // namespace podm::engine
