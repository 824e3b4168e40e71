// Fused programs compiled at run time (see fused_nvrtc.h): NVRTC for the source, the CUDA
// runtime's library API to load it (no driver API, so the module still loads on machines without
// a GPU driver), and a process-wide cache keyed by the source text: two nodes with the same
// program and operand classes share one kernel.
#include "runtime/cuda/fused_nvrtc.h"

#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/fused_codegen.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <nvrtc.h>
#include <stdexcept>

namespace podm::cuda::fused {
namespace {

// The standard and CUDA headers the podm headers include, as NVRTC sees them: NVRTC has the CUDA
// built-ins (vector types, math functions) without includes and no standard library.
const char* const kCstdint = R"(#pragma once
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
namespace std {
using ::int8_t; using ::uint8_t; using ::int16_t; using ::uint16_t;
using ::int32_t; using ::uint32_t; using ::int64_t; using ::uint64_t;
}
)";

void checkNvrtc(nvrtcResult r, const char* what) {
  if (r != NVRTC_SUCCESS)
    throw std::runtime_error(std::string("nvrtc: ") + what + ": " + nvrtcGetErrorString(r));
}

struct Program {
  nvrtcProgram p = nullptr;
  ~Program() {
    if (p)
      nvrtcDestroyProgram(&p);
  }
};

struct KernelCache {
  std::mutex mutex;
  std::map<std::string, cudaKernel_t> kernels;
};

KernelCache& cache() {
  static KernelCache* c = new KernelCache; // lives as long as the loaded libraries
  return *c;
}

} // namespace

std::vector<char> compileKernel(const std::string& source, int arch) {
  std::vector<const char*> names{"cstdint", "cmath", "cuda_runtime.h"};
  std::vector<const char*> texts{kCstdint, "#pragma once\n", "#pragma once\n"};
  for (const EmbeddedHeader& h : embeddedHeaders()) {
    names.push_back(h.name);
    texts.push_back(h.text);
  }
  Program program;
  checkNvrtc(nvrtcCreateProgram(&program.p, source.c_str(), "podm_fused.cu",
                                static_cast<int>(names.size()), texts.data(), names.data()),
             "nvrtcCreateProgram");
  const std::string archOption = "--gpu-architecture=sm_" + std::to_string(arch);
  // nvcc's defaults for the interpreter: float contraction on, IEEE division and square root.
  const char* options[] = {archOption.c_str(), "--std=c++17", "--fmad=true"};
  const nvrtcResult compiled = nvrtcCompileProgram(program.p, 3, options);
  if (compiled != NVRTC_SUCCESS) {
    size_t size = 0;
    nvrtcGetProgramLogSize(program.p, &size);
    std::string log(size, '\0');
    nvrtcGetProgramLog(program.p, log.data());
    throw std::runtime_error(std::string("nvrtc: the fused program does not compile (") +
                             nvrtcGetErrorString(compiled) + "):\n" + log);
  }
  size_t size = 0;
  checkNvrtc(nvrtcGetCUBINSize(program.p, &size), "nvrtcGetCUBINSize");
  std::vector<char> cubin(size);
  checkNvrtc(nvrtcGetCUBIN(program.p, cubin.data()), "nvrtcGetCUBIN");
  return cubin;
}

bool compiledProgramsWanted() {
  const char* v = std::getenv("PODM_CUDA_FUSED");
  return v && std::strcmp(v, "nvrtc") == 0;
}

const void* loadedKernel(const std::string& source) {
  KernelCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (auto it = c.kernels.find(source); it != c.kernels.end())
    return it->second;
  int device = 0;
  cudaDeviceProp props{};
  checkCuda(cudaGetDevice(&device), "cudaGetDevice");
  checkCuda(cudaGetDeviceProperties(&props, device), "cudaGetDeviceProperties");
  const std::vector<char> cubin = compileKernel(source, props.major * 10 + props.minor);
  cudaLibrary_t library = nullptr;
  checkCuda(cudaLibraryLoadData(&library, cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0),
            "cudaLibraryLoadData");
  cudaKernel_t kernel = nullptr;
  checkCuda(cudaLibraryGetKernel(&kernel, library, kCompiledKernelName), "cudaLibraryGetKernel");
  c.kernels.emplace(source, kernel); // the library stays loaded for the process
  return kernel;
}

void launchCompiled(const void* kernel, const Buffers& buffers, int64_t n, double* partials,
                    const LaunchInfo& info) {
  Buffers b = buffers;
  long long count = n;
  void* args[] = {&b, &count, &partials};
  checkCuda(cudaLaunchKernel(kernel, dim3(programGrid(n, info.accumulators)), dim3(kBlockThreads),
                             args, 0, nullptr),
            "fused program kernel (compiled)");
  if (info.accumulators > 0)
    finishReductions(partials, buffers, info);
}

} // namespace podm::cuda::fused
