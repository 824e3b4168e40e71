// Device choice: the CPU backend always, the CUDA backend when asked for and a GPU is visible.
#include "engine/device.h"

#include "runtime/backend_factory.h"

#include <stdexcept>

namespace podm::engine {

bool parseDevice(const std::string& value, DeviceKind& kind) {
  if (value == "cpu")
    kind = DeviceKind::Cpu;
  else if (value == "cuda")
    kind = DeviceKind::Cuda;
  else if (value == "auto")
    kind = DeviceKind::Auto;
  else
    return false;
  return true;
}

RunDevice::RunDevice(DeviceKind kind, const std::string& option) : cpu_(makeCpuBackend()) {
  if (kind == DeviceKind::Cpu)
    return;
  std::string why;
  cuda_ = makeCudaBackend(&why);
  if (cuda_)
    return;
  if (kind == DeviceKind::Cuda)
    throw std::runtime_error(option + " cuda: " + why);
  note_ = option + " auto: running on the CPU: " + why;
}

// The GPU backend's memory is released before the module that holds its code could go.
RunDevice::~RunDevice() {
  cuda_.reset();
}

} // namespace podm::engine
