// The CLI's NetworkProvider: `network` nodes run stdlib/nn networks. The node's architecture text
// is decoded (stdlib/nn/spec_text.h), each relative weight path is resolved against a base
// folder (the model file's folder, or `podm run --weights-dir DIR`), and the stages share one
// nn::NetworkSchedule, so a file used by several stages is loaded once.
#pragma once

#include "runtime/network_provider.h"

#include <filesystem>

namespace podm::cli {

class StdlibNetworkProvider final : public NetworkProvider {
public:
  explicit StdlibNetworkProvider(std::filesystem::path baseDir) : baseDir_(std::move(baseDir)) {}
  std::unique_ptr<NetworkOperator> make(const NetworkDesc& desc) const override;

private:
  std::filesystem::path baseDir_;
};

} // namespace podm::cli
