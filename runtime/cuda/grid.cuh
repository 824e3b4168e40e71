// The launch shape of every grid-stride kernel in the backend: kBlock threads a block and at most
// 4096 blocks, each thread walking the range from its first index by the grid's stride (a grid no
// larger than that keeps every SM busy on an H100 without launching millions of short blocks).
// nvcc only.
#pragma once

#include <cstdint>
#include <cuda_runtime.h>

namespace podm::cuda::grid {

constexpr int kBlock = 256;
constexpr int64_t kMaxBlocks = 4096;

// Blocks for n elements with `block` threads each: at least 1, at most kMaxBlocks.
inline int blocksFor(int64_t n, int block = kBlock) {
  const int64_t blocks = (n + block - 1) / block;
  return static_cast<int>(blocks < 1 ? 1 : blocks > kMaxBlocks ? kMaxBlocks : blocks);
}

__device__ inline int64_t firstIndex() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t stride() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

} // namespace podm::cuda::grid
