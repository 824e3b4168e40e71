// How the CLI and tests obtain backends, in every build: the CPU backend always exists; the CUDA
// backend exists when the build found nvcc and a GPU is visible at run time. No #ifdef is needed
// by callers: a build without CUDA links a stub (runtime/cuda_stub.cpp) behind the same target
// name, podm_cuda.
#pragma once

#include "runtime/backend.h"

#include <memory>
#include <string>

namespace podm {

std::unique_ptr<Backend> makeCpuBackend(); // in podm_cpu

// nullptr when this build has no CUDA backend or no GPU is visible; *whyNot (if given) then says
// which, e.g. "no CUDA device visible (cudaGetDeviceCount: no CUDA-capable device is detected)".
std::unique_ptr<Backend> makeCudaBackend(std::string* whyNot = nullptr); // in podm_cuda
bool cudaCompiledIn();                                                   // in podm_cuda

} // namespace podm
