// CUDA kernels of the learnable-parameter ops: per-stage slices, the small dense layers and their
// activations, filter banks with run-time filters, their filters' gradient, and the F-step
// spectrum of such filters with its gradient. One thread per output element (grid-stride) over
// learnable_math.h's functions, except the filters' gradient: one block per filter tap, each
// summing its pixels' terms in double and combining them in a fixed order (deterministic).
#include "runtime/cuda/grid.cuh"
#include "runtime/cuda/learnable_math.h"

#include <cuda_runtime.h>
#include <stdexcept>
#include <string>

namespace podm::cuda::learnable {
namespace {

constexpr int kBlock = 256;

int gridFor(int64_t n) {
  return grid::blocksFor(n, kBlock);
}

using grid::firstIndex;
using grid::stride;

const float* in(const LaunchArgs& x, int i) {
  return static_cast<const float*>(x.in[i]);
}
float* out(const LaunchArgs& x) {
  return static_cast<float*>(x.out);
}
template <class Geometry>
const Geometry& geometry(const LaunchArgs& x) {
  return *static_cast<const Geometry*>(x.state);
}

// --- per-stage slices ----------------------------------------------------------------------------

// The stage is a host value: a bad one is refused before launching, as the CPU kernel does.
bool stageInRange(const StageSlices& g, int64_t stage) {
  return stage >= 0 && stage < g.slices;
}

__global__ void pickStageKernel(const float* stacked, StageSlices g, int64_t stage, float* o) {
  for (int64_t i = firstIndex(); i < g.sliceFloats; i += stride())
    o[i] = pickStage(stacked, g, stage, i);
}
void pickStageImpl(const LaunchArgs& x) {
  const StageSlices& g = geometry<StageSlices>(x);
  if (!stageInRange(g, x.stage))
    throw std::out_of_range("pick_stage: stage " + std::to_string(x.stage) +
                            " has no slice (the parameter holds " + std::to_string(g.slices) + ")");
  pickStageKernel<<<gridFor(g.sliceFloats), kBlock>>>(in(x, 0), g, x.stage, out(x));
  checkLaunch("pick_stage kernel");
}

__global__ void placeStageKernel(const float* slice, StageSlices g, int64_t stage, float* o) {
  for (int64_t e = firstIndex(); e < g.slices * g.sliceFloats; e += stride())
    o[e] = placeStage(slice, g, stage, e);
}
void placeStageImpl(const LaunchArgs& x) {
  const StageSlices& g = geometry<StageSlices>(x);
  if (!stageInRange(g, x.stage))
    throw std::out_of_range("place_stage: stage " + std::to_string(x.stage) + " is outside the " +
                            std::to_string(g.slices) + " slices");
  placeStageKernel<<<gridFor(g.slices * g.sliceFloats), kBlock>>>(in(x, 0), g, x.stage, out(x));
  checkLaunch("place_stage kernel");
}

// --- dense layers
// ----------------------------------------------------------------------------------

__global__ void matvecKernel(const float* W, const float* v, Matrix g, float* o) {
  for (int64_t m = firstIndex(); m < g.rows; m += stride())
    o[m] = matvecRow(W, v, g, m);
}
void matvecImpl(const LaunchArgs& x) {
  const Matrix& g = geometry<Matrix>(x);
  matvecKernel<<<gridFor(g.rows), kBlock>>>(in(x, 0), in(x, 1), g, out(x));
  checkLaunch("matvec kernel");
}

__global__ void matvecTKernel(const float* W, const float* v, Matrix g, float* o) {
  for (int64_t j = firstIndex(); j < g.cols; j += stride())
    o[j] = matvecTColumn(W, v, g, j);
}
void matvecTImpl(const LaunchArgs& x) {
  const Matrix& g = geometry<Matrix>(x);
  matvecTKernel<<<gridFor(g.cols), kBlock>>>(in(x, 0), in(x, 1), g, out(x));
  checkLaunch("matvec_t kernel");
}

__global__ void outerKernel(const float* a, const float* b, Matrix g, float* o) {
  for (int64_t e = firstIndex(); e < g.rows * g.cols; e += stride())
    o[e] = outer(a, b, g, e);
}
void outerImpl(const LaunchArgs& x) {
  const Matrix& g = geometry<Matrix>(x);
  outerKernel<<<gridFor(g.rows * g.cols), kBlock>>>(in(x, 0), in(x, 1), g, out(x));
  checkLaunch("outer kernel");
}

// --- activations
// ----------------------------------------------------------------------------------

struct EluFn {
  __device__ static float f(float a) { return elu(a); }
};
struct SoftplusFn {
  __device__ static float f(float a) { return softplus(a); }
};
struct SigmoidFn {
  __device__ static float f(float a) { return sigmoid(a); }
};

template <class F>
__global__ void activationKernel(const float* a, float* o, int64_t n) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    o[i] = F::f(a[i]);
}
template <class F>
void activationImpl(const LaunchArgs& x) {
  activationKernel<F><<<gridFor(x.n), kBlock>>>(in(x, 0), out(x), x.n);
  checkLaunch("activation kernel");
}

template <bool SA, bool SD>
__global__ void eluGradKernel(const float* a, const float* d, float* o, int64_t n) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    o[i] = eluGrad(a[SA ? 0 : i], d[SD ? 0 : i]);
}
template <bool SA, bool SD>
void eluGradImpl(const LaunchArgs& x) {
  eluGradKernel<SA, SD><<<gridFor(x.n), kBlock>>>(in(x, 0), in(x, 1), out(x), x.n);
  checkLaunch("elu_grad kernel");
}

// --- filter banks
// ---------------------------------------------------------------------------------

__global__ void filterBankKernel(const float* x, const float* F, Bank g, float* y) {
  const int64_t n = g.planes * g.K * g.h * g.w;
  for (int64_t e = firstIndex(); e < n; e += stride())
    y[e] = filterBank(x, F, g, e);
}
void filterBankImpl(const LaunchArgs& x) {
  const Bank& g = geometry<Bank>(x);
  filterBankKernel<<<gridFor(g.planes * g.K * g.h * g.w), kBlock>>>(in(x, 0), in(x, 1), g, out(x));
  checkLaunch("filter_bank kernel");
}

__global__ void filterBankAdjointKernel(const float* y, const float* F, Bank g, float* x) {
  const int64_t n = g.planes * g.h * g.w;
  for (int64_t e = firstIndex(); e < n; e += stride())
    x[e] = filterBankAdjoint(y, F, g, e);
}
void filterBankAdjointImpl(const LaunchArgs& x) {
  const Bank& g = geometry<Bank>(x);
  filterBankAdjointKernel<<<gridFor(g.planes * g.h * g.w), kBlock>>>(in(x, 0), in(x, 1), g, out(x));
  checkLaunch("filter_bank_adjoint kernel");
}

// Block t sums tap t's terms over every pixel, then reduces its threads' sums in a fixed tree.
__global__ void filterBankGradKernel(const float* x, const float* dy, Bank g, float* dF) {
  __shared__ double shared[kBlock];
  const int64_t t = blockIdx.x, n = g.planes * g.h * g.w;
  double acc = 0;
  for (int64_t e = threadIdx.x; e < n; e += kBlock)
    acc += filterBankGradTerm(x, dy, g, t, e);
  shared[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s /= 2) {
    if (threadIdx.x < s)
      shared[threadIdx.x] += shared[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0)
    dF[t] = static_cast<float>(shared[0]);
}
void filterBankGradImpl(const LaunchArgs& x) {
  const Bank& g = geometry<Bank>(x);
  filterBankGradKernel<<<static_cast<unsigned>(g.K * g.s * g.s), kBlock>>>(in(x, 0), in(x, 1), g,
                                                                           out(x));
  checkLaunch("filter_bank_grad kernel");
}

// --- filter spectra
// -------------------------------------------------------------------------------

__global__ void filterSpectrumKernel(const float* F, Spectrum g, float* S) {
  for (int64_t e = firstIndex(); e < g.h * g.W; e += stride())
    S[e] = filterSpectrum(F, g, e);
}
void filterSpectrumImpl(const LaunchArgs& x) {
  const Spectrum& g = geometry<Spectrum>(x);
  filterSpectrumKernel<<<gridFor(g.h * g.W), kBlock>>>(in(x, 0), g, out(x));
  checkLaunch("filter_spectrum kernel");
}

__global__ void spectrumWeightKernel(const float* F, const float* dS, Spectrum g) {
  for (int64_t e = firstIndex(); e < g.K * g.h * g.W; e += stride())
    g.weights[e] = spectrumGradWeight(F, dS, g, e);
}
__global__ void spectrumRowKernel(Spectrum g) {
  for (int64_t e = firstIndex(); e < g.K * g.s * g.W; e += stride())
    g.rows[e] = spectrumGradRow(g.weights, g, e);
}
__global__ void spectrumTapKernel(Spectrum g, float* dF) {
  for (int64_t e = firstIndex(); e < g.K * g.s * g.s; e += stride())
    dF[e] = spectrumGradTap(g.rows, g, e);
}
void filterSpectrumGradImpl(const LaunchArgs& x) {
  const Spectrum& g = geometry<Spectrum>(x);
  spectrumWeightKernel<<<gridFor(g.K * g.h * g.W), kBlock>>>(in(x, 0), in(x, 1), g);
  checkLaunch("filter_spectrum_grad kernel");
  spectrumRowKernel<<<gridFor(g.K * g.s * g.W), kBlock>>>(g);
  checkLaunch("filter_spectrum_grad kernel");
  spectrumTapKernel<<<gridFor(g.K * g.s * g.s), kBlock>>>(g, out(x));
  checkLaunch("filter_spectrum_grad kernel");
}

// Indexed by Activation.
constexpr Launch kActivations[] = {activationImpl<EluFn>, activationImpl<SoftplusFn>,
                                   activationImpl<SigmoidFn>};
// Indexed by (scalar a) * 2 + (scalar d).
constexpr Launch kEluGrad[] = {eluGradImpl<false, false>, eluGradImpl<false, true>,
                               eluGradImpl<true, false>, eluGradImpl<true, true>};

} // namespace

Launch pickStageLaunch() {
  return pickStageImpl;
}
Launch placeStageLaunch() {
  return placeStageImpl;
}
Launch matvecLaunch() {
  return matvecImpl;
}
Launch matvecTLaunch() {
  return matvecTImpl;
}
Launch outerLaunch() {
  return outerImpl;
}
Launch filterBankLaunch() {
  return filterBankImpl;
}
Launch filterBankAdjointLaunch() {
  return filterBankAdjointImpl;
}
Launch filterBankGradLaunch() {
  return filterBankGradImpl;
}
Launch filterSpectrumLaunch() {
  return filterSpectrumImpl;
}
Launch filterSpectrumGradLaunch() {
  return filterSpectrumGradImpl;
}
Launch activationLaunch(Activation f) {
  return kActivations[static_cast<int>(f)];
}
Launch eluGradLaunch(bool scalarA, bool scalarD) {
  return kEluGrad[(scalarA ? 2 : 0) + (scalarD ? 1 : 0)];
}

} // namespace podm::cuda::learnable
