// Fused elementwise programs compiled at run time: the source from fused_codegen.h compiled by
// NVRTC and loaded through the CUDA runtime's library API (cudaLibraryLoadData), one kernel per
// distinct program per process. The alternative to the interpreter kernel (fused.cu), chosen per
// process with PODM_CUDA_FUSED=nvrtc (docs/performance.md: which is faster is measured by
// podm_bench_gpu_fused on a GPU). Host declarations without CUDA types.
#pragma once

#include "runtime/cuda/fused_math.h"

#include <cstdint>
#include <string>
#include <vector>

namespace podm::cuda::fused {

// A header the generated source includes, by include name, with its text.
struct EmbeddedHeader {
  const char* name;
  const char* text;
};
// The podm headers the generated kernels include (generated at build time from the source tree:
// runtime/elementwise_math.h, runtime/cuda/cuda_kernels.h, runtime/cuda/fused_math.h).
const std::vector<EmbeddedHeader>& embeddedHeaders();

// The CUBIN of `source` for compute capability `arch` (90 = sm_90), compiled by NVRTC with the
// embedded headers and nvcc's default float contraction. Throws std::runtime_error with NVRTC's
// log when it does not compile. Needs no GPU.
std::vector<char> compileKernel(const std::string& source, int arch);

// Whether this process runs fused programs through compiled kernels (PODM_CUDA_FUSED=nvrtc)
// rather than the interpreter (unset, or PODM_CUDA_FUSED=interpreter). Read at every call, so a
// benchmark may switch between executors.
bool compiledProgramsWanted();

// The loaded kernel of `source` on the current device, compiled on first use and kept for the
// life of the process (a cudaKernel_t). Throws std::runtime_error when compiling or loading fails.
const void* loadedKernel(const std::string& source);

// Runs a loaded program kernel over n elements: kBlockThreads threads on programGrid(n,
// accumulators) blocks, then finishReductions when it has reductions.
void launchCompiled(const void* kernel, const Buffers& buffers, int64_t n, double* partials,
                    const LaunchInfo& info);

} // namespace podm::cuda::fused
