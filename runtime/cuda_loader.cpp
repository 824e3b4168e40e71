// The CUDA backend factory of podm (the command and the Python module): the backend lives in a
// module (libpodm_cuda.so, built from runtime/cuda when nvcc is found) that is opened only when a
// run asks for a GPU. The CUDA libraries it needs (cudart, cuFFT, cuBLAS, cuDNN) take about 100 ms
// to load, and a run on the CPU must not pay that at every start (docs/performance.md, start-up).
// Tests link the backend directly (podm_cuda) and never see this file.
#include "runtime/backend_factory.h"

#include <dlfcn.h>
#include <filesystem>
#include <system_error>
#include <vector>

namespace podm {
namespace {

// The module's one entry point (runtime/cuda/module_entry.cpp).
using MakeBackend = Backend* (*)(std::string* whyNot);

// Next to the executable first (an installed or copied podm), then the build tree's copy.
std::vector<std::filesystem::path> moduleCandidates() {
  std::vector<std::filesystem::path> paths;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec)
    paths.push_back(self.parent_path() / "libpodm_cuda.so");
#ifdef PODM_CUDA_MODULE
  paths.emplace_back(PODM_CUDA_MODULE);
#endif
  return paths;
}

} // namespace

std::unique_ptr<Backend> makeCudaBackend(std::string* whyNot) {
  if (!cudaCompiledIn()) {
    if (whyNot)
      *whyNot = "this podm was built without CUDA (nvcc was not found when it was configured)";
    return nullptr;
  }
  std::string tried;
  for (const std::filesystem::path& path : moduleCandidates()) {
    if (!std::filesystem::exists(path))
      continue;
    // RTLD_LOCAL: the module carries its own copy of the podm code it needs (and links FFTW), so
    // it loads the same from the podm command and from the Python extension.
    void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!module) {
      tried += std::string(tried.empty() ? "" : "; ") + dlerror();
      continue;
    }
    auto make = reinterpret_cast<MakeBackend>(dlsym(module, "podm_cuda_make_backend"));
    if (!make) {
      tried += (tried.empty() ? "" : "; ") + path.string() + ": no podm_cuda_make_backend";
      continue;
    }
    // The module stays loaded for the life of the process: the backend's code lives in it.
    return std::unique_ptr<Backend>(make(whyNot));
  }
  if (whyNot)
    *whyNot = "the CUDA backend module libpodm_cuda.so could not be loaded" +
              (tried.empty() ? std::string(" (not found next to podm)") : " (" + tried + ")");
  return nullptr;
}

bool cudaCompiledIn() {
#ifdef PODM_CUDA_MODULE
  return true;
#else
  return false;
#endif
}

} // namespace podm
