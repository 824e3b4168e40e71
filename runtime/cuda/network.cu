// The network node's kernels beside cuDNN's convolutions (declared in network_launch.h): bias and
// activation after a convolution, standalone activations, explicit borders, nearest upsampling,
// input concatenation and the residual output; for training, the activations' and borders'
// gradients. One thread per output element, grid-stride loops capped like elementwise.cu's; the
// math is network_math.h's, which the host tests run.
#include "runtime/cuda/cuda_kernels.h"
#include "runtime/cuda/grid.cuh"
#include "runtime/cuda/network_launch.h"
#include "runtime/cuda/network_math.h"

#include <cuda_runtime.h>

namespace podm::cuda::net {
namespace {

constexpr int kBlock = 256;

int gridFor(int64_t n) {
  return grid::blocksFor(n, kBlock);
}

using grid::firstIndex;
using grid::stride;

__global__ void biasActivationKernel(float* data, const float* bias, int64_t n, int64_t channels,
                                     int64_t plane, int act, float alpha) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    data[i] = netmath::biasActivateAt(data, bias, i, channels, plane, act, alpha);
}

__global__ void activationKernel(const float* src, float* dst, int64_t n, int act, float alpha) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    dst[i] = netmath::activate(src[i], act, alpha);
}

__global__ void padKernel(const float* src, float* dst, int64_t n, int64_t h, int64_t w, int64_t ph,
                          int64_t pw, int64_t top, int64_t left, bool replicate) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    dst[i] = netmath::padAt(src, i, h, w, ph, pw, top, left, replicate);
}

__global__ void upsampleKernel(const float* src, float* dst, int64_t n, int64_t h, int64_t w,
                               int64_t factor) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    dst[i] = netmath::upsampleAt(src, i, h, w, factor);
}

__global__ void concatKernel(const float* cur, const float* input, float* dst, int64_t n,
                             int64_t curChannels, int64_t inChannels, int64_t plane) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    dst[i] = netmath::concatAt(cur, input, i, curChannels, inChannels, plane);
}

__global__ void residualKernel(const float* x, float* out, int64_t n) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    out[i] = netmath::residualAt(x, out, i);
}

__global__ void activationGradKernel(const float* dy, const float* y, float* dz, int64_t n, int act,
                                     float alpha) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    dz[i] = netmath::activationGrad(dy[i], y[i], act, alpha);
}

__global__ void padGradKernel(const float* dpad, float* dsrc, int64_t n, int64_t h, int64_t w,
                              int64_t ph, int64_t pw, int64_t top, int64_t left, bool replicate) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    dsrc[i] = netmath::padGradAt(dpad, i, h, w, ph, pw, top, left, replicate);
}

__global__ void scaleAddKernel(const float* src, float* dst, int64_t n, float scale,
                               bool accumulate) {
  for (int64_t i = firstIndex(); i < n; i += stride())
    dst[i] = accumulate ? dst[i] + scale * src[i] : scale * src[i];
}

} // namespace

void biasActivation(float* data, const float* bias, int64_t n, int64_t channels, int64_t plane,
                    int activation, float alpha) {
  biasActivationKernel<<<gridFor(n), kBlock>>>(data, bias, n, channels, plane, activation, alpha);
  checkLaunch("network bias and activation kernel");
}

void activation(const float* src, float* dst, int64_t n, int activation, float alpha) {
  activationKernel<<<gridFor(n), kBlock>>>(src, dst, n, activation, alpha);
  checkLaunch("network activation kernel");
}

void pad(const float* src, float* dst, int64_t planes, int64_t h, int64_t w, int64_t top,
         int64_t bottom, int64_t left, int64_t right, bool replicate) {
  const int64_t ph = h + top + bottom, pw = w + left + right, n = planes * ph * pw;
  padKernel<<<gridFor(n), kBlock>>>(src, dst, n, h, w, ph, pw, top, left, replicate);
  checkLaunch("network border kernel");
}

void upsample(const float* src, float* dst, int64_t planes, int64_t h, int64_t w, int64_t factor) {
  const int64_t n = planes * h * factor * w * factor;
  upsampleKernel<<<gridFor(n), kBlock>>>(src, dst, n, h, w, factor);
  checkLaunch("network upsampling kernel");
}

void concatInput(const float* cur, const float* input, float* dst, int64_t batch,
                 int64_t curChannels, int64_t inChannels, int64_t plane) {
  const int64_t n = batch * (curChannels + inChannels) * plane;
  concatKernel<<<gridFor(n), kBlock>>>(cur, input, dst, n, curChannels, inChannels, plane);
  checkLaunch("network concatenation kernel");
}

void residual(const float* x, float* out, int64_t n) {
  residualKernel<<<gridFor(n), kBlock>>>(x, out, n);
  checkLaunch("network residual kernel");
}

void activationGrad(const float* dy, const float* y, float* dz, int64_t n, int activation,
                    float alpha) {
  activationGradKernel<<<gridFor(n), kBlock>>>(dy, y, dz, n, activation, alpha);
  checkLaunch("network activation gradient kernel");
}

void padGrad(const float* dpad, float* dsrc, int64_t planes, int64_t h, int64_t w, int64_t top,
             int64_t bottom, int64_t left, int64_t right, bool replicate) {
  const int64_t ph = h + top + bottom, pw = w + left + right, n = planes * h * w;
  padGradKernel<<<gridFor(n), kBlock>>>(dpad, dsrc, n, h, w, ph, pw, top, left, replicate);
  checkLaunch("network border gradient kernel");
}

void scaleAdd(const float* src, float* dst, int64_t n, float scale, bool accumulate) {
  scaleAddKernel<<<gridFor(n), kBlock>>>(src, dst, n, scale, accumulate);
  checkLaunch("network scale-add kernel");
}

} // namespace podm::cuda::net
