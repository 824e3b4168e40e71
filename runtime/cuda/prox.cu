// CUDA kernels of the standard library's built-in prox functions. The arithmetic is
// runtime/prox_math.h's, the functions the CPU implementations (stdlib/prox) call, so the stdlib's
// property tests check it on every machine. gamma and the run-time arguments are read on the
// device; the host never waits for them.
//  - l1, l0, nonneg, box, hardthre_box with `threshold`, lp: one thread per element.
//  - l21: one thread per pixel, its channel vector summed in channel order like the CPU's.
//  - hardthre_box with `count`: one block per sample selects the count-th largest gain by radix
//    select, then keeps the entries above it and the ties at it in index order (the CPU's rule).
//  - tv_iso, tv_aniso (with the box): FGP on all planes at once, one kernel per phase of an
//    iteration (primal, dual step with its reductions, the per-plane restart / stopping decision),
//    each plane stopping on its own when the CPU's would.
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/grid.cuh"
#include "runtime/cuda/prox_launch.h"
#include "runtime/prox_math.h"
#include "runtime/run_scope.h"

#include <cstddef>
#include <cuda_runtime.h>
#include <stdexcept>
#include <string>

namespace podm::cuda {
namespace {

constexpr int kBlock = 256;

int gridFor(int64_t n) {
  return grid::blocksFor(n, kBlock);
}

using grid::firstIndex;
using grid::stride;

// An argument as a kernel reads it: a run-time operand from device memory, else the constant.
struct DeviceArg {
  const float* at;
  double value;
  __device__ double get() const { return at ? static_cast<double>(*at) : value; }
};

DeviceArg deviceArg(const LaunchArgs& x, const ProxArg& a) {
  return {a.operand >= 0 ? static_cast<const float*>(x.in[a.operand]) : nullptr, a.value};
}

const float* input(const LaunchArgs& x) {
  return static_cast<const float*>(x.in[0]);
}
const float* gammaOf(const LaunchArgs& x) {
  return static_cast<const float*>(x.in[1]);
}

// ---- separable proxes: each functor binds gamma and its arguments once per thread.

struct L1Fn {
  float gamma;
  __device__ L1Fn(float g, DeviceArg, DeviceArg, DeviceArg) : gamma(g) {}
  __device__ float operator()(float x) const { return proxmath::softThreshold(x, gamma); }
};
struct L0Fn {
  float cutoffSquared;
  __device__ L0Fn(float g, DeviceArg, DeviceArg, DeviceArg)
      : cutoffSquared(proxmath::l0CutoffSquared(g)) {}
  __device__ float operator()(float x) const { return proxmath::hardThreshold(x, cutoffSquared); }
};
struct NonnegFn {
  __device__ NonnegFn(float, DeviceArg, DeviceArg, DeviceArg) {}
  __device__ float operator()(float x) const { return proxmath::nonnegative(x); }
};
// The CPU's factory rounds the bounds to float; so does this.
struct BoxFn {
  float lo, hi;
  __device__ BoxFn(float, DeviceArg lo, DeviceArg hi, DeviceArg)
      : lo(static_cast<float>(lo.get())), hi(static_cast<float>(hi.get())) {}
  __device__ float operator()(float x) const { return proxmath::clampToBox(x, lo, hi); }
};
struct HardThreBoxThresholdFn {
  float lo, hi, minimumGain;
  __device__ HardThreBoxThresholdFn(float g, DeviceArg lo, DeviceArg hi, DeviceArg threshold)
      : lo(static_cast<float>(lo.get())), hi(static_cast<float>(hi.get())),
        minimumGain(proxmath::hardThreBoxMinimumGain(g, static_cast<float>(threshold.get()))) {}
  __device__ float operator()(float x) const {
    return proxmath::hardThreBoxWithThreshold(x, lo, hi, minimumGain);
  }
};
// p stays double, as in the CPU's LpProx.
struct LpFn {
  proxmath::LpShrinkage shrinkage;
  __device__ LpFn(float g, DeviceArg p, DeviceArg, DeviceArg) {
    const double exponent = p.get();
    shrinkage = proxmath::lpShrinkage(exponent, g, proxmath::lpIterationBound(exponent));
  }
  __device__ float operator()(float x) const { return proxmath::lpShrink(x, shrinkage); }
};

template <class Fn>
__global__ void separableKernel(const float* v, const float* gamma, DeviceArg a, DeviceArg b,
                                DeviceArg c, float* out, int64_t n) {
  const Fn fn(*gamma, a, b, c);
  for (int64_t i = firstIndex(); i < n; i += stride())
    out[i] = fn(v[i]);
}

template <class Fn>
void separableLaunchImpl(const LaunchArgs& x) {
  const auto& params = *static_cast<const SeparableProxParams*>(x.state);
  separableKernel<Fn><<<gridFor(x.n), kBlock>>>(input(x), gammaOf(x), deviceArg(x, params.a),
                                                deviceArg(x, params.b), deviceArg(x, params.c),
                                                static_cast<float*>(x.out), x.n);
  checkLaunch("prox kernel");
}

// Indexed by SeparableProx.
constexpr Launch kSeparable[] = {separableLaunchImpl<L1Fn>,
                                 separableLaunchImpl<L0Fn>,
                                 separableLaunchImpl<NonnegFn>,
                                 separableLaunchImpl<BoxFn>,
                                 separableLaunchImpl<HardThreBoxThresholdFn>,
                                 separableLaunchImpl<LpFn>};

// ---- l21: a thread per pixel group; out may be v (a thread reads its group before writing it).

__global__ void groupShrinkKernel(const float* v, const float* gamma, float* out, int64_t samples,
                                  int64_t channels, int64_t plane) {
  const float g = *gamma;
  const int64_t groups = samples * plane;
  for (int64_t i = firstIndex(); i < groups; i += stride()) {
    const int64_t sample = i / plane;
    const int64_t first = sample * channels * plane + (i - sample * plane);
    float sumOfSquares = 0.0f;
    for (int64_t c = 0; c < channels; ++c)
      sumOfSquares = proxmath::addSquare(sumOfSquares, v[first + c * plane]);
    const float factor = proxmath::groupShrinkFactor(sumOfSquares, g);
    for (int64_t c = 0; c < channels; ++c)
      out[first + c * plane] = v[first + c * plane] * factor;
  }
}

void groupShrinkLaunchImpl(const LaunchArgs& x) {
  const auto& params = *static_cast<const GroupShrinkParams*>(x.state);
  groupShrinkKernel<<<gridFor(params.samples * params.plane), kBlock>>>(
      input(x), gammaOf(x), static_cast<float*>(x.out), params.samples, params.channels,
      params.plane);
  checkLaunch("l21 prox kernel");
}

// ---- hardthre_box with count: one block per sample.

constexpr int kSelectBlock = 512; // a multiple of the warp size
constexpr int kWarps = kSelectBlock / 32;

struct Selection {
  float cutoff;
  int64_t tiesToKeep;
};

// The count-th largest ranking gain of the sample (1 <= count < n) by a most-significant-digit
// radix select, and how many ties at it survive (count minus the gains strictly above it).
__device__ Selection selectCutoff(const float* v, int64_t n, float lo, float hi, int64_t count) {
  __shared__ unsigned int histogram[256];
  __shared__ uint32_t prefix, mask;
  __shared__ int64_t remaining, above;
  if (threadIdx.x == 0) {
    prefix = 0;
    mask = 0;
    remaining = count;
    above = 0;
  }
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int d = threadIdx.x; d < 256; d += blockDim.x)
      histogram[d] = 0;
    __syncthreads();
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      const uint32_t key = proxmath::gainKey(proxmath::hardThreBoxRankingGain(v[i], lo, hi));
      if ((key & mask) == prefix)
        atomicAdd(&histogram[(key >> shift) & 255u], 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      prefix |= proxmath::selectKeyByte(histogram, remaining, above) << shift;
      mask |= 255u << shift;
    }
    __syncthreads();
  }
  return {proxmath::keyGain(prefix), count - above};
}

// Of the flags of this block's threads, how many lie before this thread's (in thread order), and
// the block's total; every thread of the block calls it.
__device__ int exclusiveCount(bool flag, int& total) {
  __shared__ int warpTotals[kWarps + 1];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const unsigned ballot = __ballot_sync(0xffffffffu, flag);
  if (lane == 0)
    warpTotals[warp] = __popc(ballot);
  __syncthreads();
  if (threadIdx.x == 0) {
    int sum = 0;
    for (int w = 0; w < kWarps; ++w) {
      const int t = warpTotals[w];
      warpTotals[w] = sum;
      sum += t;
    }
    warpTotals[kWarps] = sum;
  }
  __syncthreads();
  const int before = warpTotals[warp] + __popc(ballot & ((1u << lane) - 1u));
  total = warpTotals[kWarps];
  __syncthreads(); // warpTotals is reused by the next call
  return before;
}

__global__ void hardThreBoxCountKernel(const float* v, float* out, DeviceArg loArg, DeviceArg hiArg,
                                       DeviceArg countArg, int64_t sampleSize) {
  const float lo = static_cast<float>(loArg.get()), hi = static_cast<float>(hiArg.get());
  const double countValue = countArg.get();
  const int64_t count = countValue > 0 ? static_cast<int64_t>(countValue) : 0;
  const float* in = v + static_cast<int64_t>(blockIdx.x) * sampleSize;
  float* result = out + static_cast<int64_t>(blockIdx.x) * sampleSize;
  // count 0 keeps nothing; count >= n keeps every positive gain.
  Selection selection{INFINITY, 0};
  if (count >= sampleSize)
    selection = {-INFINITY, 0};
  else if (count > 0)
    selection = selectCutoff(in, sampleSize, lo, hi, count);
  int64_t tiesBefore = 0;
  // Chunks in index order, so ties are numbered in index order; every thread runs every chunk.
  for (int64_t start = 0; start < sampleSize; start += blockDim.x) {
    const int64_t i = start + threadIdx.x;
    const bool inside = i < sampleSize;
    const float x = inside ? in[i] : 0.0f;
    const float gain = proxmath::hardThreBoxRankingGain(x, lo, hi);
    const bool tie = inside && proxmath::hardThreBoxAtCutoff(gain, selection.cutoff);
    int ties = 0;
    const int rank = exclusiveCount(tie, ties);
    const bool keep = proxmath::hardThreBoxAboveCutoff(gain, selection.cutoff) ||
                      (tie && tiesBefore + rank < selection.tiesToKeep);
    if (inside)
      result[i] = proxmath::hardThreBoxRankedOutput(x, lo, hi, keep);
    tiesBefore += ties;
  }
}

void hardThreBoxCountLaunchImpl(const LaunchArgs& x) {
  const auto& params = *static_cast<const HardThreBoxCountParams*>(x.state);
  if (params.samples == 0)
    return;
  hardThreBoxCountKernel<<<static_cast<unsigned>(params.samples), kSelectBlock>>>(
      input(x), static_cast<float*>(x.out), deviceArg(x, params.lo), deviceArg(x, params.hi),
      deviceArg(x, params.count), params.sampleSize);
  checkLaunch("hardthre_box prox kernel");
}

// ---- TV by FGP: grids of (blocks per plane, planes); a stopped plane's blocks return at once.

constexpr int64_t kMaxTvBlocksPerPlane = 1024;
// Iterations between the host's checks whether every plane has stopped (one 4-byte download);
// the iterations launched past a plane's stop do nothing.
constexpr int kTvCheckEvery = 8;

struct TvPlanes {
  float *p, *q, *r, *s, *u;
  int64_t h, w, pixels;
};

TvPlanes tvPlanes(const TvProxParams& t) {
  const int64_t n = t.planes * t.h * t.w;
  float* b = t.buffers;
  return {b, b + n, b + 2 * n, b + 3 * n, b + 4 * n, t.h, t.w, t.h * t.w};
}

// Compares this call's run-time arguments with the previous call's (bits, as the CPU's re-binding
// test): changed ones start cold. Then resets every plane's control.
__global__ void tvStartKernel(TvPlaneControl* planes, TvNodeControl* node, int64_t planeCount,
                              int hostCold, DeviceArg tolerance, DeviceArg lo, DeviceArg hi) {
  const int64_t i = firstIndex();
  if (i == 0) {
    const DeviceArg args[3] = {tolerance, lo, hi};
    bool changed = !node->hasBound;
    for (int k = 0; k < 3; ++k) {
      if (!args[k].at)
        continue;
      const float value = *args[k].at;
      changed = changed || __float_as_uint(value) != __float_as_uint(node->bound[k]);
      node->bound[k] = value;
    }
    node->hasBound = 1;
    node->cold = hostCold || changed;
    node->active = static_cast<int>(planeCount);
  }
  if (i < planeCount) {
    TvPlaneControl c;
    c.fgp = proxmath::TvControl{};
    c.momentum = c.fgp.nextMomentum();
    c.done = 0;
    c.iterations = 0;
    c.change = 0;
    planes[i] = c;
  }
}

// A cold start zeroes the dual and its extrapolation; a warm one keeps the dual and restarts the
// extrapolation at it.
__global__ void tvResetKernel(TvPlanes d, const TvNodeControl* node, int64_t n) {
  const bool cold = node->cold;
  for (int64_t i = firstIndex(); i < n; i += stride()) {
    if (cold) {
      d.p[i] = d.q[i] = d.r[i] = d.s[i] = 0.0f;
    } else {
      d.r[i] = d.p[i];
      d.s[i] = d.q[i];
    }
  }
}

// u = P_box(v - gamma D^T (r, s)), from (p, q) after a restart, which also resets (r, s) to them
// (u at a pixel reads only p, q then, so the writes race with nothing).
__global__ void tvPrimalKernel(const float* v, TvPlanes d, const TvPlaneControl* planes,
                               const float* gamma, DeviceArg loArg, DeviceArg hiArg) {
  const TvPlaneControl c = planes[blockIdx.y];
  if (c.done)
    return;
  const float g = *gamma;
  const float lo = static_cast<float>(loArg.get()), hi = static_cast<float>(hiArg.get());
  const int64_t base = static_cast<int64_t>(blockIdx.y) * d.pixels;
  const bool restarted = c.fgp.restarted;
  const float* rr = (restarted ? d.p : d.r) + base;
  const float* ss = (restarted ? d.q : d.s) + base;
  for (int64_t at = firstIndex(); at < d.pixels; at += stride()) {
    const int64_t i = at / d.w, j = at - i * d.w;
    d.u[base + at] = proxmath::tvPrimalAt(v + base, rr, ss, i, j, d.w, g, lo, hi);
    if (restarted) {
      d.r[base + at] = d.p[base + at];
      d.s[base + at] = d.q[base + at];
    }
  }
}

template <int Count>
__device__ void blockSum(double (&values)[Count]) {
  __shared__ double shared[Count][kBlock];
  for (int k = 0; k < Count; ++k)
    shared[k][threadIdx.x] = values[k];
  __syncthreads();
  for (int half = kBlock / 2; half > 0; half /= 2) {
    if (threadIdx.x < half)
      for (int k = 0; k < Count; ++k)
        shared[k][threadIdx.x] += shared[k][threadIdx.x + half];
    __syncthreads();
  }
  for (int k = 0; k < Count; ++k)
    values[k] = shared[k][0];
}

// The projected gradient step at every dual entry, the extrapolation, and this block's sums of
// the squared change, the squared norm and the restart signal (summed in double; the CPU sums
// each row in float first, so the sums, not the entries, differ in their last bits).
template <bool Isotropic>
__global__ void tvDualKernel(TvPlanes d, const TvPlaneControl* planes, const float* gamma,
                             double* partials) {
  const TvPlaneControl c = planes[blockIdx.y];
  if (c.done)
    return;
  const float step = proxmath::tvStep(*gamma);
  const int64_t base = static_cast<int64_t>(blockIdx.y) * d.pixels;
  double sums[3] = {0, 0, 0};
  for (int64_t at = firstIndex(); at < d.pixels; at += stride()) {
    const int64_t i = at / d.w, j = at - i * d.w, e = base + at;
    const float a = i + 1 < d.h ? proxmath::tvDualTarget(d.r[e], step, d.u[e + d.w], d.u[e]) : 0.0f;
    const float b = j + 1 < d.w ? proxmath::tvDualTarget(d.s[e], step, d.u[e + 1], d.u[e]) : 0.0f;
    const proxmath::TvDualStep t =
        proxmath::tvDualStep<Isotropic>(a, b, d.p[e], d.q[e], d.r[e], d.s[e], c.momentum);
    sums[0] += t.change2;
    sums[1] += t.norm2;
    sums[2] += t.restartSignal;
  }
  blockSum(sums);
  if (threadIdx.x == 0) {
    double* out = partials + (static_cast<int64_t>(blockIdx.y) * gridDim.x + blockIdx.x) * 3;
    for (int k = 0; k < 3; ++k)
      out[k] = sums[k];
  }
}

// One block per plane: the iteration's sums, then the CPU's decisions: restart when the momentum
// pointed uphill, stop when the relative dual change reaches the tolerance, else the next momentum.
__global__ void tvFinishKernel(TvPlaneControl* planes, TvNodeControl* node, const double* partials,
                               int64_t blocksPerPlane, DeviceArg tolerance, int iteration) {
  TvPlaneControl& c = planes[blockIdx.x];
  if (c.done)
    return;
  double sums[3] = {0, 0, 0};
  const double* mine = partials + static_cast<int64_t>(blockIdx.x) * blocksPerPlane * 3;
  for (int64_t b = threadIdx.x; b < blocksPerPlane; b += blockDim.x)
    for (int k = 0; k < 3; ++k)
      sums[k] += mine[b * 3 + k];
  blockSum(sums);
  if (threadIdx.x != 0)
    return;
  c.change = c.fgp.finish(sums[0], sums[1], sums[2]);
  c.iterations = iteration + 1;
  if (c.change <= tolerance.get()) {
    c.done = 1;
    atomicSub(&node->active, 1);
  } else {
    c.momentum = c.fgp.nextMomentum();
  }
}

// out = P_box(v - gamma D^T (p, q)); out may be v (a pixel reads only its own v).
__global__ void tvOutputKernel(const float* v, TvPlanes d, const float* gamma, DeviceArg loArg,
                               DeviceArg hiArg, float* out) {
  const float g = *gamma;
  const float lo = static_cast<float>(loArg.get()), hi = static_cast<float>(hiArg.get());
  const int64_t base = static_cast<int64_t>(blockIdx.y) * d.pixels;
  for (int64_t at = firstIndex(); at < d.pixels; at += stride()) {
    const int64_t i = at / d.w, j = at - i * d.w;
    out[base + at] = proxmath::tvPrimalAt(v + base, d.p + base, d.q + base, i, j, d.w, g, lo, hi);
  }
}

void tvLaunchImpl(const LaunchArgs& x) {
  const auto& t = *static_cast<const TvProxParams*>(x.state);
  const TvPlanes d = tvPlanes(t);
  const int64_t n = t.planes * d.pixels;
  const int64_t blocksPerPlane = tvBlocksPerPlane(d.pixels);
  const dim3 planeGrid(static_cast<unsigned>(blocksPerPlane), static_cast<unsigned>(t.planes));
  const float* v = input(x);
  const float* gamma = gammaOf(x);
  const DeviceArg tolerance = deviceArg(x, t.tolerance), lo = deviceArg(x, t.lo),
                  hi = deviceArg(x, t.hi);
  // Warm within a run only (runtime/run_scope.h), as the CPU's TvProx.
  const uint64_t run = currentRunId();
  const bool hostCold = !(t.warmStart && run != 0 && t.dualRun == run);
  tvStartKernel<<<gridFor(t.planes), kBlock>>>(t.planeControl, t.nodeControl, t.planes,
                                               hostCold ? 1 : 0, tolerance, lo, hi);
  checkLaunch("tv prox start kernel");
  tvResetKernel<<<gridFor(n), kBlock>>>(d, t.nodeControl, n);
  checkLaunch("tv prox reset kernel");
  for (int k = 0; k < t.maxIterations; ++k) {
    tvPrimalKernel<<<planeGrid, kBlock>>>(v, d, t.planeControl, gamma, lo, hi);
    checkLaunch("tv prox primal kernel");
    if (t.isotropic)
      tvDualKernel<true><<<planeGrid, kBlock>>>(d, t.planeControl, gamma, t.partials);
    else
      tvDualKernel<false><<<planeGrid, kBlock>>>(d, t.planeControl, gamma, t.partials);
    checkLaunch("tv prox dual kernel");
    tvFinishKernel<<<static_cast<unsigned>(t.planes), kBlock>>>(
        t.planeControl, t.nodeControl, t.partials, blocksPerPlane, tolerance, k);
    checkLaunch("tv prox finish kernel");
    if ((k + 1) % kTvCheckEvery == 0 && k + 1 < t.maxIterations) {
      int active = 0;
      const char* node = reinterpret_cast<const char*>(t.nodeControl);
      checkCuda(cudaMemcpy(&active, node + offsetof(TvNodeControl, active), sizeof active,
                           cudaMemcpyDeviceToHost),
                "tv prox stopping check");
      if (active == 0)
        break;
    }
  }
  tvOutputKernel<<<planeGrid, kBlock>>>(v, d, gamma, lo, hi, static_cast<float*>(x.out));
  checkLaunch("tv prox output kernel");
  t.dualRun = t.warmStart && run != 0 ? run : 0;
}

} // namespace

int64_t tvBlocksPerPlane(int64_t planePixels) {
  const int64_t blocks = (planePixels + kBlock - 1) / kBlock;
  return blocks < 1 ? 1 : blocks > kMaxTvBlocksPerPlane ? kMaxTvBlocksPerPlane : blocks;
}

Launch separableProxLaunch(SeparableProx f) {
  return kSeparable[static_cast<int>(f)];
}
Launch hardThreBoxCountLaunch() {
  return hardThreBoxCountLaunchImpl;
}
Launch groupShrinkLaunch() {
  return groupShrinkLaunchImpl;
}
Launch tvProxLaunch() {
  return tvLaunchImpl;
}

} // namespace podm::cuda
