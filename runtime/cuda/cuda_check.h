// The one check of a CUDA runtime call's status in the backend: a failure becomes a
// std::runtime_error "cuda: WHAT: <CUDA's message>", which the executor prefixes with the node.
// (Kernel launches use cuda_kernels.h's checkLaunch, which reads the last error through this.)
#pragma once

#include <cuda_runtime.h>

namespace podm::cuda {

void checkCuda(cudaError_t status, const char* what); // in cuda_backend.cpp

} // namespace podm::cuda
