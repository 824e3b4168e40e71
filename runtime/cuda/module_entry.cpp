// The entry point of libpodm_cuda.so, the module the podm command opens when a run asks for a GPU
// (runtime/cuda_loader.cpp): the factory the tests link directly, behind a C name. It calls
// openCudaBackend, not makeCudaBackend: the executable exports its own makeCudaBackend (the
// loader), which would win the symbol lookup and open the module again.
#include "runtime/cuda/cuda_backend.h"

extern "C" __attribute__((visibility("default"))) podm::Backend*
podm_cuda_make_backend(std::string* whyNot) {
  return podm::cuda::openCudaBackend(whyNot).release();
}
