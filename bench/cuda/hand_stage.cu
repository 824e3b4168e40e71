// The hand-written cuFFT loop podm_bench_gpu_stage measures podm's CUDA executor against: the stage
// of examples/deblur_podm.podm (bench/stage_bench.cpp's HandStage, on the GPU). Set-up once: the
// kernel's transfer function (psf2otf), |K^|^2 and the F-step denominator 1 / (|K^|^2 + mu) with
// cuFFT's missing 1/N folded in, K'o, and gamma = 0.9 / max |K^|^2. Per stage: x~ by the
// closed-form FFT solve (one R2C/C2R pair), grad f as F^-1(|K^|^2 F v) - K'o (one pair), the
// gradient step and the prox (l1 then the box) in one kernel, psi and the step norm of the check
// (Eq. 5) in one reduction read back to decide, the feedback step (Eq. 6, one more pair) only when
// the check fails, then phi (one pair for K x+) and rel_change in one reduction read back for the
// stop test. That is 8 transforms per accepted stage and 10 per feedback stage, as podm's graph
// does.
//
// Written the way one would by hand: K'o is never subtracted on its own (the kernels that consume
// grad f subtract it, and in psi the two gradients' K'o cancel), sums are accumulated in double by
// a warp-shuffle block reduction and one atomicAdd per block, and the default stream carries
// everything, like podm's kernels.
#include "bench/cuda/hand_stage.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cuda_runtime.h>
#include <cufft.h>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace podm::bench::gpu {
namespace {

constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;

// Grid of a grid-stride pass, capped like runtime/cuda/elementwise.cu's.
int gridFor(int64_t n) {
  int64_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<int>(blocks < 1 ? 1 : blocks > 4096 ? 4096 : blocks);
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("hand stage: ") + what + ": " + cudaGetErrorString(e));
}

void checkLaunch(const char* what) {
  check(cudaGetLastError(), what);
}

void checkFft(cufftResult r, const char* what) {
  if (r != CUFFT_SUCCESS)
    throw std::runtime_error(std::string("hand stage: ") + what + " failed (cufftResult " +
                             std::to_string(static_cast<int>(r)) + ")");
}

__device__ inline int64_t firstIndex() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t stride() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

// Adds each thread's K partial sums into acc[0..K): warp shuffles, one shared slot per warp, one
// atomicAdd per block and value. Every thread of the block must call it (blockDim.x == kBlock).
template <int K>
__device__ void blockAccumulate(double (&v)[K], double* acc) {
  __shared__ double warpSums[K][kWarps];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int k = 0; k < K; ++k)
    for (int offset = 16; offset > 0; offset >>= 1)
      v[k] += __shfl_down_sync(0xffffffffu, v[k], offset);
  if (lane == 0)
    for (int k = 0; k < K; ++k)
      warpSums[k][warp] = v[k];
  __syncthreads();
  if (warp == 0)
    for (int k = 0; k < K; ++k) {
      double s = lane < kWarps ? warpSums[k][lane] : 0.0;
      for (int offset = 16; offset > 0; offset >>= 1)
        s += __shfl_down_sync(0xffffffffu, s, offset);
      if (lane == 0)
        atomicAdd(&acc[k], s);
    }
}

// l1 soft threshold, then the box [0, 1]: the prox of g = lambda l1 + box.
__device__ inline float proxG(float v, float thr) {
  const float s = v > thr ? v - thr : (v < -thr ? v + thr : 0.0f);
  return fminf(fmaxf(s, 0.0f), 1.0f);
}

// t = K'o + mu x: the right-hand side of the F-step.
__global__ void fStepRhs(const float* kto, const float* x, float mu, float* t, int64_t n) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    t[i] = kto[i] + mu * x[i];
}

// s *= r (a real half spectrum: the F-step denominator or |K^|^2 / N).
__global__ void scaleSpectrum(float2* s, const float* r, int64_t half) {
  for (int64_t j = firstIndex(); j < half; j += stride()) {
    const float f = r[j];
    s[j].x *= f;
    s[j].y *= f;
  }
}

// s *= k, or s *= conj(k) when conj = -1.
__global__ void multiplySpectrum(float2* s, const float2* k, float conj, int64_t half) {
  for (int64_t j = firstIndex(); j < half; j += stride()) {
    const float sr = s[j].x, si = s[j].y, kr = k[j].x, ki = conj * k[j].y;
    s[j] = make_float2(sr * kr - si * ki, sr * ki + si * kr);
  }
}

// x_G = prox(x~ - gamma (grad f(x~) + mu (x~ - x))), grad f(x~) = kkXt - K'o.
__global__ void gradientProx(const float* xt, const float* kkXt, const float* kto, const float* x,
                             float gamma, float mu, float thr, float* xg, int64_t n) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    xg[i] = proxG(xt[i] - gamma * ((kkXt[i] - kto[i]) + mu * (xt[i] - x[i])), thr);
}

// The feedback step, Eq. (6): x+ = prox(x - gamma grad f(x)), grad f(x) = kkX - K'o.
__global__ void feedbackProx(const float* x, const float* kkX, const float* kto, float gamma,
                             float thr, float* xg, int64_t n) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    xg[i] = proxG(x[i] - gamma * (kkX[i] - kto[i]), thr);
}

// acc[0] += ||psi||^2, acc[1] += ||x_G - x||^2 (H = mu/2 I). grad f(x_G) - grad f(x~) =
// kkXg - kkXt: the K'o of both cancel.
__global__ void checkSums(const float* xt, const float* xg, const float* x, const float* kkXg,
                          const float* kkXt, float invGamma, float mu, double* acc, int64_t n) {
  double v[2] = {0.0, 0.0};
  for (int64_t i = firstIndex(); i < n; i += stride()) {
    const float d = xg[i] - x[i];
    const float psi = (xt[i] - xg[i]) * invGamma - 0.5f * mu * (2.0f * xt[i] - xg[i] - x[i]) +
                      0.5f * mu * d + (kkXg[i] - kkXt[i]);
    v[0] += static_cast<double>(psi) * psi;
    v[1] += static_cast<double>(d) * d;
  }
  blockAccumulate<2>(v, acc);
}

// The monitors at x+: acc[0] += ||x+ - x||^2, acc[1] += ||x||^2, acc[2] += ||x+||_1,
// acc[3] += ||K x+ - o||^2.
__global__ void monitorSums(const float* xp, const float* x, const float* kxp, const float* o,
                            double* acc, int64_t n) {
  double v[4] = {0.0, 0.0, 0.0, 0.0};
  for (int64_t i = firstIndex(); i < n; i += stride()) {
    const float d = xp[i] - x[i], r = kxp[i] - o[i];
    v[0] += static_cast<double>(d) * d;
    v[1] += static_cast<double>(x[i]) * x[i];
    v[2] += fabsf(xp[i]);
    v[3] += static_cast<double>(r) * r;
  }
  blockAccumulate<4>(v, acc);
}

// Device memory freed with its owner.
struct DeviceArray {
  void* p = nullptr;
  size_t bytes = 0;
  explicit DeviceArray(size_t b) : bytes(b) { check(cudaMalloc(&p, b), "cudaMalloc"); }
  ~DeviceArray() { cudaFree(p); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  float* f() const { return static_cast<float*>(p); }
  float2* c() const { return static_cast<float2*>(p); }
};

} // namespace

struct HandStageGpu::Impl {
  int64_t n, pixels, half;
  StageSettings s;
  float gamma = 0;
  // Planes: o, K'o, x, x~, the two |K^|^2-products of the check, x_G, scratch. Half spectra: the
  // working spectrum, K^ / N, |K^|^2 / N, the F-step denominator / N. Accumulators: 6 doubles.
  DeviceArray o, kto, x, xt, kkA, kkB, xg, t, spec, khat, nk2, den, acc;
  cufftHandle fwd = 0, inv = 0;
  const float* current = nullptr; // x after the last run (m.x or m.xg: they swap every stage)

  Impl(int64_t size, const StageSettings& settings)
      : n(size), pixels(size * size), half(size * (size / 2 + 1)), s(settings), o(bytesOf(pixels)),
        kto(bytesOf(pixels)), x(bytesOf(pixels)), xt(bytesOf(pixels)), kkA(bytesOf(pixels)),
        kkB(bytesOf(pixels)), xg(bytesOf(pixels)), t(bytesOf(pixels)), spec(2 * bytesOf(half)),
        khat(2 * bytesOf(half)), nk2(bytesOf(half)), den(bytesOf(half)), acc(6 * sizeof(double)) {
    const int ni = static_cast<int>(n);
    checkFft(cufftPlan2d(&fwd, ni, ni, CUFFT_R2C), "cufftPlan2d R2C");
    checkFft(cufftPlan2d(&inv, ni, ni, CUFFT_C2R), "cufftPlan2d C2R");
  }
  ~Impl() {
    cufftDestroy(fwd);
    cufftDestroy(inv);
  }
  static size_t bytesOf(int64_t floats) { return static_cast<size_t>(floats) * sizeof(float); }

  void forward(const float* real) {
    checkFft(cufftExecR2C(fwd, const_cast<float*>(real), spec.c()), "cufftExecR2C");
  }
  void inverse(float* real) { checkFft(cufftExecC2R(inv, spec.c(), real), "cufftExecC2R"); }
  void scale(const DeviceArray& r) {
    scaleSpectrum<<<gridFor(half), kBlock>>>(spec.c(), r.f(), half);
    checkLaunch("scaleSpectrum");
  }
  // out = F^-1(|K^|^2 F v): grad f(v) + K'o.
  void normalProduct(const float* v, float* out) {
    forward(v);
    scale(nk2);
    inverse(out);
  }
  void readSums(double* host, int first, int count) {
    check(cudaMemcpy(host, static_cast<double*>(acc.p) + first, count * sizeof(double),
                     cudaMemcpyDeviceToHost),
          "reading the sums");
  }
};

HandStageGpu::HandStageGpu(const float* o, const float* k, int64_t kernelSize, int64_t n,
                           const StageSettings& settings)
    : impl_(std::make_unique<Impl>(n, settings)) {
  Impl& m = *impl_;
  check(cudaMemcpy(m.o.p, o, m.o.bytes, cudaMemcpyHostToDevice), "uploading o");
  // psf2otf: the kernel centred at the origin, periodically, then its spectrum.
  std::vector<float> plane(static_cast<size_t>(m.pixels), 0.0f);
  for (int64_t a = 0; a < kernelSize; ++a)
    for (int64_t b = 0; b < kernelSize; ++b) {
      const int64_t r = ((a - kernelSize / 2) % n + n) % n, c = ((b - kernelSize / 2) % n + n) % n;
      plane[static_cast<size_t>(r * n + c)] += k[a * kernelSize + b];
    }
  check(cudaMemcpy(m.t.p, plane.data(), m.t.bytes, cudaMemcpyHostToDevice), "uploading k");
  checkFft(cufftExecR2C(m.fwd, m.t.f(), m.khat.c()), "cufftExecR2C");
  // The set-up's spectra on the host: done once, and max |K^|^2 needs a reduction anyway.
  std::vector<float> khat(static_cast<size_t>(2 * m.half)), nk2(static_cast<size_t>(m.half)),
      den(static_cast<size_t>(m.half));
  check(cudaMemcpy(khat.data(), m.khat.p, m.khat.bytes, cudaMemcpyDeviceToHost), "reading K^");
  const float scale = 1.0f / static_cast<float>(m.pixels);
  float lf = 0;
  for (size_t j = 0; j < nk2.size(); ++j) {
    const float re = khat[2 * j], im = khat[2 * j + 1], k2 = re * re + im * im;
    lf = std::max(lf, k2);
    nk2[j] = k2 * scale;
    den[j] = scale / (k2 + settings.mu);
    khat[2 * j] *= scale;
    khat[2 * j + 1] *= scale;
  }
  m.gamma = settings.gammaFactor / lf; // L_f = max |K^|^2, exact for a periodic convolution
  check(cudaMemcpy(m.khat.p, khat.data(), m.khat.bytes, cudaMemcpyHostToDevice), "uploading K^");
  check(cudaMemcpy(m.nk2.p, nk2.data(), m.nk2.bytes, cudaMemcpyHostToDevice), "uploading |K^|^2");
  check(cudaMemcpy(m.den.p, den.data(), m.den.bytes, cudaMemcpyHostToDevice), "uploading den");
  // K'o = F^-1(conj(K^) F o).
  m.forward(m.o.f());
  multiplySpectrum<<<gridFor(m.half), kBlock>>>(m.spec.c(), m.khat.c(), -1.0f, m.half);
  checkLaunch("multiplySpectrum");
  m.inverse(m.kto.f());
  check(cudaDeviceSynchronize(), "set-up");
}

HandStageGpu::~HandStageGpu() = default;

int HandStageGpu::run(int stages, std::vector<StageLog>* log) {
  Impl& m = *impl_;
  const int64_t np = m.pixels;
  const int grid = gridFor(np);
  const float g = m.gamma, thr = m.gamma * m.s.lambda, invG = 1.0f / m.gamma, mu = m.s.mu;
  check(cudaMemcpyAsync(m.x.p, m.o.p, m.x.bytes, cudaMemcpyDeviceToDevice), "x^0 = o");
  // x and x_G swap roles every stage; kkA holds F^-1(|K^|^2 F x~) (then of x on feedback), kkB
  // F^-1(|K^|^2 F x_G).
  float *x = m.x.f(), *xg = m.xg.f();
  for (int l = 0; l < stages; ++l) {
    // x~ = (K'K + mu)^-1 (K'o + mu x).
    fStepRhs<<<grid, kBlock>>>(m.kto.f(), x, mu, m.t.f(), np);
    checkLaunch("fStepRhs");
    m.forward(m.t.f());
    m.scale(m.den);
    m.inverse(m.xt.f());
    // x_G = prox_{gamma g}(x~ - gamma (grad f(x~) + mu (x~ - x))).
    m.normalProduct(m.xt.f(), m.kkA.f());
    gradientProx<<<grid, kBlock>>>(m.xt.f(), m.kkA.f(), m.kto.f(), x, g, mu, thr, xg, np);
    checkLaunch("gradientProx");
    // The check of Eq. (5): ||psi|| <= c ||x_G - x||.
    m.normalProduct(xg, m.kkB.f());
    check(cudaMemsetAsync(m.acc.p, 0, m.acc.bytes), "clearing the sums");
    checkSums<<<grid, kBlock>>>(m.xt.f(), xg, x, m.kkB.f(), m.kkA.f(), invG, mu,
                                static_cast<double*>(m.acc.p), np);
    checkLaunch("checkSums");
    double sums[6];
    m.readSums(sums, 0, 2);
    StageLog s;
    s.optError = static_cast<float>(std::sqrt(sums[0]));
    s.checkBound = m.s.c * static_cast<float>(std::sqrt(sums[1]));
    s.accepted = s.optError <= s.checkBound;
    if (!s.accepted) { // feedback, Eq. (6)
      m.normalProduct(x, m.kkA.f());
      feedbackProx<<<grid, kBlock>>>(x, m.kkA.f(), m.kto.f(), g, thr, xg, np);
      checkLaunch("feedbackProx");
    }
    // Monitors at x+ = x_G: rel_change, phi = 0.5 ||K x+ - o||^2 + lambda ||x+||_1.
    m.forward(xg);
    multiplySpectrum<<<gridFor(m.half), kBlock>>>(m.spec.c(), m.khat.c(), 1.0f, m.half);
    checkLaunch("multiplySpectrum");
    m.inverse(m.t.f());
    monitorSums<<<grid, kBlock>>>(xg, x, m.t.f(), m.o.f(), static_cast<double*>(m.acc.p) + 2, np);
    checkLaunch("monitorSums");
    m.readSums(sums + 2, 2, 4);
    s.relChange = static_cast<float>(std::sqrt(sums[2]) / std::max(std::sqrt(sums[3]), 1e-30));
    s.phi = static_cast<float>(0.5 * sums[5] + m.s.lambda * sums[4]);
    std::swap(x, xg);
    if (log)
      log->push_back(s);
    if (s.relChange < m.s.stopBelow) {
      m.current = x;
      return l + 1;
    }
  }
  m.current = x;
  return stages;
}

void HandStageGpu::downloadX(float* host) const {
  const Impl& m = *impl_;
  check(cudaMemcpy(host, m.current ? m.current : m.o.f(), m.x.bytes, cudaMemcpyDeviceToHost),
        "downloading x");
}

size_t HandStageGpu::deviceBytes() const {
  const Impl& m = *impl_;
  size_t total = 0;
  for (const DeviceArray* a :
       {&m.o, &m.kto, &m.x, &m.xt, &m.kkA, &m.kkB, &m.xg, &m.t, &m.spec, &m.khat, &m.nk2, &m.den})
    total += a->bytes;
  return total;
}

std::string deviceSummary() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    cudaGetLastError();
    return "";
  }
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, 0), "cudaGetDeviceProperties");
  int runtime = 0, fft = 0;
  cudaRuntimeGetVersion(&runtime);
  cufftGetVersion(&fft);
  char line[512];
  std::snprintf(line, sizeof line, "%s, %d SMs, %.1f GiB; CUDA runtime %d, cuFFT %d", p.name,
                p.multiProcessorCount, static_cast<double>(p.totalGlobalMem) / (1 << 30), runtime,
                fft);
  return line;
}

} // namespace podm::bench::gpu
