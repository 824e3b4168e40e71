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
  // bf16: run the networks' convolutions in bfloat16 (`--precision bf16`); the caller checks
  // nn::bf16Supported() first. A network that cannot take it (one concatenating its input) is
  // refused with a message rather than run in another precision than asked.
  explicit StdlibNetworkProvider(std::filesystem::path baseDir, bool bf16 = false)
      : baseDir_(std::move(baseDir)), bf16_(bf16) {}
  std::unique_ptr<NetworkOperator> make(const NetworkDesc& desc) const override;
  bool describesLayers() const override { return true; } // networks bound from weight files

  // What the networks it made hold, for `--profile`.
  struct Footprint {
    size_t networks = 0;        // distinct weight sources loaded
    size_t weightBytes = 0;     // their weights (host copy)
    size_t activationBytes = 0; // the activation buffers all networks share
  };
  Footprint footprint() const;

private:
  std::filesystem::path baseDir_;
  bool bf16_ = false;
  mutable std::map<std::string, std::shared_ptr<nn::NetworkSchedule>> schedules_;
};

} // namespace podm::engine
