// The CUDA backend factory of builds without nvcc (PODM_CUDA off): there is no CUDA backend.
#include "runtime/backend_factory.h"

namespace podm {

std::unique_ptr<Backend> makeCudaBackend(std::string* whyNot) {
  if (whyNot)
    *whyNot = "this podm was built without CUDA";
  return nullptr;
}

bool cudaCompiledIn() {
  return false;
}

} // namespace podm
