// The CLI's NetworkProvider: `network` nodes run stdlib/nn networks. The node's architecture text
// is decoded (stdlib/nn/spec_text.h), each relative weight path is resolved against a base
// folder (the model file's folder, or `podm run --weights-dir DIR`), and the stages share one
// nn::NetworkSchedule, so a file used by several stages is loaded once. The provider keeps the
// schedules it made: executors for other input shapes (`podm eval` over a folder of images)
// share the loaded weights instead of reading them again. Operators it made must run one at a
// time (nn::Network is not thread-safe).
#pragma once

#include "runtime/network_provider.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace podm::nn {
class NetworkSchedule;
}

namespace podm::engine {

class StdlibNetworkProvider final : public NetworkProvider {
public:
  explicit StdlibNetworkProvider(std::filesystem::path baseDir) : baseDir_(std::move(baseDir)) {}
  std::unique_ptr<NetworkOperator> make(const NetworkDesc& desc) const override;

private:
  std::filesystem::path baseDir_;
  mutable std::map<std::string, std::shared_ptr<nn::NetworkSchedule>> schedules_;
};

} // namespace podm::engine
