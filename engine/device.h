// Which backends run a graph, for every front door (`podm run|eval --device`, the Python module's
// `device=`): the CPU backend always, the CUDA backend when asked for and a GPU can be used, the
// CPU as the fallback for the nodes a GPU kernel does not cover, and what was used.
#pragma once

#include "runtime/backend.h"

#include <memory>
#include <string>

namespace podm::engine {

enum class DeviceKind { Cpu, Cuda, Auto };

// false when VALUE is none of cpu, cuda, auto.
bool parseDevice(const std::string& value, DeviceKind& kind);

// The backends of one run. `cuda` fails (std::runtime_error "OPTION cuda: why") when no GPU can
// be used; `auto` then stays on the CPU and says why in note(). OPTION is how the caller's user
// spells the choice ("--device" on the command line, "device" in Python).
class RunDevice {
public:
  explicit RunDevice(DeviceKind kind, const std::string& option = "--device");
  RunDevice(const RunDevice&) = delete;
  RunDevice& operator=(const RunDevice&) = delete;
  ~RunDevice();

  Backend& primary() { return cuda_ ? *cuda_ : *cpu_; }
  // The CPU, for the nodes the GPU has no kernel for; nullptr on the CPU.
  Backend* fallback() { return cuda_ ? cpu_.get() : nullptr; }
  bool onGpu() const { return cuda_ != nullptr; }
  // "cpu" or "cuda"; what the summary line prints.
  std::string name() const { return cuda_ ? "cuda" : "cpu"; }
  // Why `auto` stayed on the CPU; empty otherwise.
  const std::string& note() const { return note_; }

private:
  std::unique_ptr<Backend> cpu_;
  std::unique_ptr<Backend> cuda_;
  std::string note_;
};

} // namespace podm::engine
