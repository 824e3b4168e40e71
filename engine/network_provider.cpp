// StdlibNetworkProvider: a `network` node bound to an nn::NetworkSchedule (see network_provider.h).
#include "engine/network_provider.h"

#include "ir/attr.h"
#include "stdlib/nn/schedule.h"
#include "stdlib/nn/spec_text.h"

#include <stdexcept>

namespace podm::engine {
namespace {

class ScheduledNetwork final : public NetworkOperator {
public:
  explicit ScheduledNetwork(std::shared_ptr<nn::NetworkSchedule> schedule)
      : schedule_(std::move(schedule)) {}
  void apply(const Tensor& in, int64_t stage, Tensor& out) override {
    // One weight file serves every stage; otherwise stage l uses file l.
    size_t l = schedule_->stages() == 1 ? 0 : static_cast<size_t>(stage);
    if (l >= schedule_->stages())
      throw std::runtime_error("stage " + std::to_string(stage + 1) + " has no weight file (" +
                               std::to_string(schedule_->stages()) + " given)");
    schedule_->at(l).forward(in, out);
  }
  void prepare(const Shape& in) override {
    for (size_t l = 0; l < schedule_->stages(); ++l)
      schedule_->at(l).prepare(in); // a network shared by several stages plans once
  }
  NetworkDescription describe() override { return schedule_->describe(); }

private:
  std::shared_ptr<nn::NetworkSchedule> schedule_;
};

} // namespace

StdlibNetworkProvider::Footprint StdlibNetworkProvider::footprint() const {
  Footprint f;
  for (const auto& [key, schedule] : schedules_) {
    f.networks += schedule->distinctNetworks();
    f.weightBytes += schedule->weightBytes();
  }
  f.activationBytes = nn::sharedActivationBytes();
  return f;
}

std::unique_ptr<NetworkOperator> StdlibNetworkProvider::make(const NetworkDesc& desc) const {
  nn::NetworkSpec spec = nn::decodeSpec(desc.spec);
  std::vector<nn::WeightSource> sources;
  for (const std::string& p : desc.weights) {
    std::filesystem::path path(p);
    if (path.is_relative())
      path = baseDir_ / path;
    sources.push_back({path.string(), desc.prefix});
  }
  if (sources.empty())
    throw std::runtime_error("no weight file");
  std::shared_ptr<nn::NetworkSchedule>& schedule =
      schedules_[desc.spec + '\0' + ir::joinWeightPaths(desc.weights) + '\0' + desc.prefix];
  if (!schedule)
    schedule = std::make_shared<nn::NetworkSchedule>(
        spec, sources, bf16_ ? nn::Precision::BF16 : nn::Precision::F32);
  return std::make_unique<ScheduledNetwork>(schedule);
}

} // namespace podm::engine
