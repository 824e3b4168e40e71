// CUDA kernels of the spectral family: rfft2, irfft2 and irfft2_product on batched cuFFT plans (one
// plan per node, spectral_launch.h says why), and spectrum_energy, minval, maxval and ssim as
// deterministic two-pass reductions (reduce.cu's pattern: one partial per block in the node's
// workspace, then one block combines them). Every per-element expression is spectral_math.h's,
// which the host tests check against the CPU kernels.
//
// cuFFT's out-of-place C2R overwrites its input (cuFFT guide, "Data Layout"), and irfft2 must leave
// its operand intact: the inverse launches write the scaled (product) spectrum into the node's
// scratch buffer and transform that, which also fuses irfft2_product's product, irfft2's 1/(h*w)
// and the Hermitian part of the self-paired columns (spectral_math.h's c2rInput, which makes the
// result FFTW's for any input) into the one pass the copy costs anyway. Out-of-place R2C leaves its
// input alone, so rfft2 reads its operand directly.
#include "runtime/cuda/grid.cuh"
#include "runtime/cuda/spectral_launch.h"
#include "runtime/cuda/spectral_math.h"

#include <cuda_runtime.h>
#include <cufft.h>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace podm::cuda {
namespace {

namespace sp = spectral;

static_assert(std::is_same_v<cufftHandle, int>, "FftPlan keeps the cuFFT handle as an int");
static_assert(sizeof(cufftComplex) == sizeof(float2), "c64 tensors are interleaved float2");

constexpr int kBlock = sp::kReduceBlock;
constexpr int kBlocks = sp::kReduceBlocks;

// Grid of a grid-stride elementwise pass (elementwise.cu's cap).
int gridFor(int64_t n) {
  return grid::blocksFor(n, kBlock);
}

using grid::firstIndex;
using grid::stride;

// ---- cuFFT ----

struct FftResultName {
  cufftResult code;
  const char* name;
};
constexpr FftResultName kFftResultNames[] = {
    {CUFFT_INVALID_PLAN, "CUFFT_INVALID_PLAN"},
    {CUFFT_ALLOC_FAILED, "CUFFT_ALLOC_FAILED"},
    {CUFFT_INVALID_TYPE, "CUFFT_INVALID_TYPE"},
    {CUFFT_INVALID_VALUE, "CUFFT_INVALID_VALUE"},
    {CUFFT_INTERNAL_ERROR, "CUFFT_INTERNAL_ERROR"},
    {CUFFT_EXEC_FAILED, "CUFFT_EXEC_FAILED"},
    {CUFFT_SETUP_FAILED, "CUFFT_SETUP_FAILED"},
    {CUFFT_INVALID_SIZE, "CUFFT_INVALID_SIZE"},
    {CUFFT_UNALIGNED_DATA, "CUFFT_UNALIGNED_DATA"},
    {CUFFT_INVALID_DEVICE, "CUFFT_INVALID_DEVICE"},
    {CUFFT_NO_WORKSPACE, "CUFFT_NO_WORKSPACE"},
    {CUFFT_NOT_IMPLEMENTED, "CUFFT_NOT_IMPLEMENTED"},
    {CUFFT_NOT_SUPPORTED, "CUFFT_NOT_SUPPORTED"},
};

std::string fftResultName(cufftResult r) {
  for (const FftResultName& n : kFftResultNames)
    if (n.code == r)
      return n.name;
  return "cufftResult " + std::to_string(static_cast<int>(r));
}

// Throws naming the op and the cuFFT call when `r` is a failure.
void checkFft(cufftResult r, const char* op, const char* call) {
  if (r != CUFFT_SUCCESS)
    throw std::runtime_error(std::string("cuda: ") + op + ": " + call + " failed (" +
                             fftResultName(r) + ")");
}

const FftLaunchState& fftState(const LaunchArgs& x) {
  return *static_cast<const FftLaunchState*>(x.state);
}

// ---- the spectrum the inverse transform consumes ----

// Element j of the scaled spectrum (irfft2) or scaled product (irfft2_product). Host-callable
// too, since spectral_math.h's c2rInput, which calls them, is.
struct ScaledSpectrum {
  const float2* a;
  float scale;
  __host__ __device__ float2 operator()(int64_t j) const { return sp::scaled(a[j], scale); }
};
template <class Product, class B>
struct ScaledProduct {
  const float2* a;
  const B* b;
  float scale;
  __host__ __device__ float2 operator()(int64_t j) const {
    return sp::inverseInput<Product>(a[j], b[j], scale);
  }
};

// Writes the node's scratch spectrum, Hermitian where C2R needs it (spectral_math.h).
template <class Element>
__global__ void c2rInputKernel(Element element, float2* out, int64_t n, int64_t h, int64_t w) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    out[i] = sp::c2rInput(i, h, w, element);
}

template <class Element>
void writeC2rInput(const Element& element, const FftLaunchState& s, const char* what) {
  const int64_t n = s.shape.spectrumCount();
  c2rInputKernel<Element>
      <<<gridFor(n), kBlock>>>(element, static_cast<float2*>(s.scratch), n, s.shape.h, s.shape.w);
  checkLaunch(what);
}

// C2R of the node's scratch spectrum (already scaled) into the output planes.
void inverseTransform(const FftLaunchState& s, const LaunchArgs& x, const char* op) {
  checkFft(cufftExecC2R(s.plan.handle(op), static_cast<cufftComplex*>(s.scratch),
                        static_cast<cufftReal*>(x.out)),
           op, "cufftExecC2R");
}

void rfft2LaunchImpl(const LaunchArgs& x) {
  const FftLaunchState& s = fftState(x);
  // cufftExecR2C takes a non-const pointer; out of place it only reads it.
  cufftReal* in = const_cast<cufftReal*>(static_cast<const cufftReal*>(x.in[0]));
  checkFft(cufftExecR2C(s.plan.handle("rfft2"), in, static_cast<cufftComplex*>(x.out)), "rfft2",
           "cufftExecR2C");
}

void irfft2LaunchImpl(const LaunchArgs& x) {
  const FftLaunchState& s = fftState(x);
  const ScaledSpectrum element{static_cast<const float2*>(x.in[0]),
                               sp::inverseScale(s.shape.h, s.shape.w)};
  writeC2rInput(element, s, "irfft2 scaling kernel");
  inverseTransform(s, x, "irfft2");
}

template <class Product, class B>
void irfft2ProductLaunchImpl(const LaunchArgs& x) {
  const FftLaunchState& s = fftState(x);
  const ScaledProduct<Product, B> element{static_cast<const float2*>(x.in[0]),
                                          static_cast<const B*>(x.in[1]),
                                          sp::inverseScale(s.shape.h, s.shape.w)};
  writeC2rInput(element, s, "irfft2_product kernel");
  inverseTransform(s, x, "irfft2_product");
}

// ---- two-pass reductions ----

// A term is a device functor: init() is what a thread holds before its first element (0 for
// sums; for min/max the first element, which needs no identity value), operator()(i) the value
// element i contributes, combine() how two values meet.
struct SumCombine {
  __device__ static double combine(double a, double b) { return a + b; }
};

template <bool Offset>
struct EnergyTerm : SumCombine {
  const float2* a;
  const float2* b;
  const float* w;
  const float2* c;
  __device__ double init() const { return 0.0; }
  __device__ double operator()(int64_t i) const {
    if constexpr (Offset)
      return sp::energyTerm(a[i], b[i], c[i], w[i]);
    else
      return sp::energyTerm(a[i], b[i], w[i]);
  }
};

template <bool Largest>
struct ExtremeTerm {
  const float* a;
  __device__ float init() const { return a[0]; }
  __device__ float operator()(int64_t i) const { return a[i]; }
  __device__ static float combine(float m, float v) { return sp::extremeStep<Largest>(m, v); }
};

// Window position i of the shaved region, row-major over rows x cols.
struct SsimTerm : SumCombine {
  const float* a;
  const float* b;
  int64_t stride, cols;
  sp::SsimWindow window;
  __device__ double init() const { return 0.0; }
  __device__ double operator()(int64_t i) const {
    return sp::ssimAt(a, b, stride, i / cols, i % cols, window, sp::kSsimDataRange);
  }
};

template <class T, class Term>
__device__ T blockCombine(T v) {
  __shared__ T shared[kBlock];
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s /= 2) {
    if (threadIdx.x < s)
      shared[threadIdx.x] = Term::combine(shared[threadIdx.x], shared[threadIdx.x + s]);
    __syncthreads();
  }
  return shared[0];
}

template <class T, class Term>
__global__ void partialKernel(Term term, int64_t n, T* partial) {
  T acc = term.init();
  for (int64_t i = firstIndex(); i < n; i += stride())
    acc = Term::combine(acc, term(i));
  const T total = blockCombine<T, Term>(acc);
  if (threadIdx.x == 0)
    partial[blockIdx.x] = total;
}

// Each thread starts from its own partial (kBlocks >= kBlock), so no identity value is needed.
// `divisor` turns ssim's sum into its mean (1 elsewhere: an exact division).
template <class T, class Term>
__global__ void finishKernel(const T* partial, double divisor, float* out) {
  T acc = partial[threadIdx.x];
  for (int i = threadIdx.x + kBlock; i < kBlocks; i += kBlock)
    acc = Term::combine(acc, partial[i]);
  const T total = blockCombine<T, Term>(acc);
  if (threadIdx.x == 0)
    out[0] = static_cast<float>(total / divisor);
}

template <class T, class Term>
void reduce(const Term& term, int64_t n, const LaunchArgs& x, const char* op,
            double divisor = 1.0) {
  T* partial = static_cast<T*>(x.workspace);
  partialKernel<T, Term><<<kBlocks, kBlock>>>(term, n, partial);
  checkLaunch(op);
  finishKernel<T, Term><<<1, kBlock>>>(partial, divisor, static_cast<float*>(x.out));
  checkLaunch(op);
}

const float2* complexIn(const LaunchArgs& x, int i) {
  return static_cast<const float2*>(x.in[i]);
}
const float* realIn(const LaunchArgs& x, int i) {
  return static_cast<const float*>(x.in[i]);
}

template <bool Offset>
void spectrumEnergyLaunchImpl(const LaunchArgs& x) {
  const EnergyTerm<Offset> term{
      {}, complexIn(x, 0), complexIn(x, 1), realIn(x, 2), Offset ? complexIn(x, 3) : nullptr};
  reduce<double>(term, x.n, x, "spectrum_energy reduction");
}

template <bool Largest>
void extremeLaunchImpl(const LaunchArgs& x) {
  reduce<float>(ExtremeTerm<Largest>{realIn(x, 0)}, x.n, x,
                Largest ? "maxval reduction" : "minval reduction");
}

void ssimLaunchImpl(const LaunchArgs& x) {
  const SsimLaunchState& s = *static_cast<const SsimLaunchState*>(x.state);
  const SsimTerm term{{},      realIn(x, 0) + s.offset, realIn(x, 1) + s.offset, s.stride, s.cols,
                      s.window};
  const int64_t positions = s.rows * s.cols;
  reduce<double>(term, positions, x, "ssim reduction", static_cast<double>(positions));
}

} // namespace

FftPlan::~FftPlan() {
  if (planned_)
    cufftDestroy(handle_); // a destructor cannot report; the handle is gone either way
}

int FftPlan::handle(const char* op) const {
  if (planned_)
    return handle_;
  cufftHandle plan = 0;
  checkFft(cufftCreate(&plan), op, "cufftCreate");
  // Null embeddings: the default packed layout, planes of h x w reals and h x (w/2+1) complex
  // values one after the other, which is the tensors' n x c x h x w layout.
  long long dims[2] = {shape_.h, shape_.w};
  size_t workBytes = 0;
  const cufftType type = direction_ == Direction::Forward ? CUFFT_R2C : CUFFT_C2R;
  const cufftResult made = cufftMakePlanMany64(plan, 2, dims, nullptr, 1, 0, nullptr, 1, 0, type,
                                               shape_.planes, &workBytes);
  if (made != CUFFT_SUCCESS) {
    cufftDestroy(plan);
    checkFft(made, op, "cufftMakePlanMany64");
  }
  handle_ = plan;
  planned_ = true;
  return handle_;
}

Launch rfft2Launch() {
  return rfft2LaunchImpl;
}
Launch irfft2Launch() {
  return irfft2LaunchImpl;
}
Launch irfft2ProductLaunch(bool divide, bool complexB) {
  if (complexB)
    return divide ? irfft2ProductLaunchImpl<sp::Divide, float2>
                  : irfft2ProductLaunchImpl<sp::Multiply, float2>;
  return divide ? irfft2ProductLaunchImpl<sp::Divide, float>
                : irfft2ProductLaunchImpl<sp::Multiply, float>;
}
Launch spectrumEnergyLaunch(bool offset) {
  return offset ? spectrumEnergyLaunchImpl<true> : spectrumEnergyLaunchImpl<false>;
}
Launch extremeLaunch(bool largest) {
  return largest ? extremeLaunchImpl<true> : extremeLaunchImpl<false>;
}
Launch ssimLaunch() {
  return ssimLaunchImpl;
}

} // namespace podm::cuda
