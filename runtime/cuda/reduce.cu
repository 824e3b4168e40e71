// CUDA reductions to one scalar, in two deterministic passes: a fixed grid writes one partial per
// block into the node's workspace, one block combines them. Sums accumulate in double (as on the
// CPU: the optimality check compares norms of small differences); maxima are exact in float.
#include "runtime/cuda/cuda_kernels.h"

#include <cuda_runtime.h>

namespace podm::cuda {
namespace {

constexpr int kBlock = 256;
constexpr int kBlocks = 512;

struct DotTerm {
  const float* a;
  const float* b;
  __device__ double operator()(int64_t i) const { return static_cast<double>(a[i]) * b[i]; }
};
struct SumTerm {
  const float* a;
  __device__ double operator()(int64_t i) const { return a[i]; }
};
struct SquareTerm {
  const float* a;
  __device__ double operator()(int64_t i) const { return static_cast<double>(a[i]) * a[i]; }
};
struct AbsTerm {
  const float* a;
  __device__ float operator()(int64_t i) const { return fabsf(a[i]); }
};
struct ComplexAbsTerm {
  const float* a;
  __device__ float operator()(int64_t i) const {
    return sqrtf(a[2 * i] * a[2 * i] + a[2 * i + 1] * a[2 * i + 1]);
  }
};

struct Plus {
  template <class T>
  __device__ T operator()(T a, T b) const {
    return a + b;
  }
};
// The CPU kernels' `m = v > m ? v : m`: a NaN term never replaces the running maximum.
struct Maximum {
  template <class T>
  __device__ T operator()(T a, T b) const {
    return b > a ? b : a;
  }
};

template <class T, class Combine>
__device__ T blockCombine(T v, Combine combine) {
  __shared__ T shared[kBlock];
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s /= 2) {
    if (threadIdx.x < s)
      shared[threadIdx.x] = combine(shared[threadIdx.x], shared[threadIdx.x + s]);
    __syncthreads();
  }
  return shared[0];
}

template <class T, class Term, class Combine>
__global__ void partialKernel(Term term, int64_t n, T* partial) {
  T acc = T(0);
  Combine combine;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * kBlock)
    acc = combine(acc, term(i));
  T total = blockCombine<T>(acc, combine);
  if (threadIdx.x == 0)
    partial[blockIdx.x] = total;
}

template <class T, class Combine>
__global__ void finishKernel(const T* partial, int count, float* out) {
  T acc = T(0);
  Combine combine;
  for (int i = threadIdx.x; i < count; i += kBlock)
    acc = combine(acc, partial[i]);
  T total = blockCombine<T>(acc, combine);
  if (threadIdx.x == 0)
    out[0] = static_cast<float>(total);
}

template <class T, class Term, class Combine>
void reduce(Term term, const LaunchArgs& x) {
  T* partial = static_cast<T*>(x.workspace);
  partialKernel<T, Term, Combine><<<kBlocks, kBlock>>>(term, x.n, partial);
  checkLaunch("reduction kernel");
  finishKernel<T, Combine><<<1, kBlock>>>(partial, kBlocks, static_cast<float*>(x.out));
  checkLaunch("reduction kernel");
}

const float* in(const LaunchArgs& x, int i) {
  return static_cast<const float*>(x.in[i]);
}

void dotLaunch(const LaunchArgs& x) {
  reduce<double, DotTerm, Plus>({in(x, 0), in(x, 1)}, x);
}
void sumLaunch(const LaunchArgs& x) {
  reduce<double, SumTerm, Plus>({in(x, 0)}, x);
}
void squaresLaunch(const LaunchArgs& x) {
  reduce<double, SquareTerm, Plus>({in(x, 0)}, x);
}
void maxAbsLaunch(const LaunchArgs& x) {
  reduce<float, AbsTerm, Maximum>({in(x, 0)}, x);
}
void maxAbsComplexLaunch(const LaunchArgs& x) {
  reduce<float, ComplexAbsTerm, Maximum>({in(x, 0)}, x);
}

// Indexed by Reduce.
constexpr Launch kReduce[] = {dotLaunch, sumLaunch, squaresLaunch, maxAbsLaunch,
                              maxAbsComplexLaunch};

} // namespace

Launch reduceLaunch(Reduce f) {
  return kReduce[static_cast<int>(f)];
}
int64_t reduceWorkspaceDoubles() {
  return kBlocks;
}

} // namespace podm::cuda
