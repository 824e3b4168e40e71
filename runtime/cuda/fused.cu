// CUDA kernel of fused elementwise programs: an interpreter. Each block stages the node's encoded
// program (fused_math.h, uploaded once by the builder) in shared memory; each thread runs the
// whole program on its elements in a grid-stride loop, writing tensor results as it goes. A
// program with reductions runs on a fixed grid and writes one double partial per block and per
// accumulator into the node's workspace; a second launch, one block per accumulator, combines
// them in a fixed order (deterministic, as reduce.cu) and writes each scalar result.
//
// The alternative is a straight-line kernel per program compiled at run time (fused_codegen.h,
// fused_nvrtc.cpp; PODM_CUDA_FUSED=nvrtc): the interpreter needs no run-time compiler and every
// program shares one kernel, at the cost of a switch per instruction on L1-resident registers;
// the compiled kernel pays NVRTC once per distinct program and process. podm_bench_gpu_fused
// measures both on a GPU; the interpreter stays the default until that has been run.
#include "runtime/cuda/fused_math.h"
#include "runtime/cuda/grid.cuh"

#include <cuda_runtime.h>

namespace podm::cuda::fused {
namespace {

constexpr int kBlock = kBlockThreads;

int gridFor(int64_t n) {
  return grid::blocksFor(n, kBlock);
}

// partials: [accumulator][block]; unused when there are no accumulators.
__global__ void programKernel(Buffers buffers, int64_t n, const LaunchInfo info, double* partials) {
  __shared__ Instruction code[kMaxInstructions];
  const int count = info.count;
  for (int k = threadIdx.x; k < count; k += blockDim.x)
    code[k] = info.code[k];
  __syncthreads();
  float registers[kRegisters];
  double acc[kMaxAccumulators];
  for (int a = 0; a < kMaxAccumulators; ++a)
    acc[a] = 0.0;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    runElement(code, count, buffers, i, registers, acc);
  for (int a = 0; a < info.accumulators; ++a) {
    const double total = blockCombine(info.accumulatorOp[a], acc[a]);
    if (threadIdx.x == 0)
      partials[a * gridDim.x + blockIdx.x] = total;
  }
}

// One block per accumulator: its partials in order, then the scalar result (if anyone reads it).
__global__ void finishKernel(const double* partials, int blocks, Buffers buffers,
                             const LaunchInfo info) {
  const int a = blockIdx.x;
  const Opcode op = info.accumulatorOp[a];
  double acc = 0.0;
  for (int i = threadIdx.x; i < blocks; i += kBlock)
    acc = combine(op, acc, partials[a * blocks + i]);
  const double total = blockCombine(op, acc);
  float* out = buffers.result[info.accumulatorResult[a]];
  if (threadIdx.x == 0 && out)
    out[0] = static_cast<float>(total);
}

void programLaunchImpl(const LaunchArgs& x) {
  const LaunchInfo& info = *static_cast<const LaunchInfo*>(x.state);
  const Buffers buffers = launchBuffers(x);
  if (info.accumulators == 0) {
    programKernel<<<programGrid(x.n, 0), kBlock>>>(buffers, x.n, info, nullptr);
    checkLaunch("fused program kernel");
    return;
  }
  double* partials = static_cast<double*>(x.workspace);
  programKernel<<<kPartialBlocks, kBlock>>>(buffers, x.n, info, partials);
  checkLaunch("fused program kernel");
  finishReductions(partials, buffers, info);
}

} // namespace

void finishReductions(const double* partials, const Buffers& buffers, const LaunchInfo& info) {
  finishKernel<<<info.accumulators, kBlock>>>(partials, kPartialBlocks, buffers, info);
  checkLaunch("fused program reduction");
}

Launch programLaunch() {
  return programLaunchImpl;
}

int programGrid(int64_t n, int accumulators) {
  return accumulators > 0 ? kPartialBlocks : gridFor(n);
}

int64_t partialDoubles(int accumulators) {
  return static_cast<int64_t>(accumulators) * kPartialBlocks;
}

} // namespace podm::cuda::fused
