// The per-element math of the network kernels (network.cu) that cuDNN does not do: the fused bias
// and activation after a convolution, standalone activations, the explicit border of a
// convolution cuDNN cannot pad itself (replicate, or an odd 'same' total), nearest upsampling,
// concatenation of the network's input and the residual output. One function per output element,
// given its flat NCHW index, so a host loop over them (tests/runtime/cuda/network_math_test.cpp,
// tests/stdlib/nn/network_layers_test.cpp) computes exactly what the GPU threads compute.
// Activations follow oneDNN's eltwise definitions, which the CPU networks run. Kept C++17 for nvcc.
#pragma once

#include "runtime/elementwise_math.h"

#include <cstdint>

namespace podm::netmath {

// The activation codes, in the order of runtime/network_provider.h's NetActivation.
enum Activation : int { kNone = 0, kReLU = 1, kLeakyReLU = 2, kELU = 3 };

PODM_HD inline float activate(float v, int activation, float alpha) {
  switch (activation) {
  case kReLU:
    return v > 0.0f ? v : 0.0f;
  case kLeakyReLU:
    return v > 0.0f ? v : alpha * v;
  case kELU:
    return v > 0.0f ? v : alpha * expm1f(v);
  default:
    return v;
  }
}

// Element i of a convolution's output (`channels` planes of `plane` pixels per image) with the
// channel's bias added and the activation applied.
PODM_HD inline float biasActivateAt(const float* conv, const float* bias, int64_t i,
                                    int64_t channels, int64_t plane, int activation, float alpha) {
  return activate(conv[i] + bias[(i / plane) % channels], activation, alpha);
}

// Source index along one axis of a bordered line: position p of the padded line reads sample
// p - before of the n-sample line; outside it the nearest sample (replicate) or nothing (-1).
PODM_HD inline int64_t borderSource(int64_t p, int64_t before, int64_t n, bool replicate) {
  int64_t q = p - before;
  if (q >= 0 && q < n)
    return q;
  if (!replicate)
    return -1;
  return q < 0 ? 0 : n - 1;
}

// Element i of planes of h x w bordered by top/left (and whatever makes them ph x pw): the source
// pixel, the nearest one (replicate) or zero.
PODM_HD inline float padAt(const float* src, int64_t i, int64_t h, int64_t w, int64_t ph,
                           int64_t pw, int64_t top, int64_t left, bool replicate) {
  const int64_t q = i / (ph * pw), r = i % (ph * pw);
  const int64_t y = borderSource(r / pw, top, h, replicate);
  const int64_t x = borderSource(r % pw, left, w, replicate);
  return y < 0 || x < 0 ? 0.0f : src[(q * h + y) * w + x];
}

// Element i of planes of h x w repeated `factor` times along both axes (nearest neighbour).
PODM_HD inline float upsampleAt(const float* src, int64_t i, int64_t h, int64_t w, int64_t factor) {
  const int64_t uw = w * factor, plane = h * factor * uw;
  const int64_t q = i / plane, r = i % plane;
  return src[(q * h + (r / uw) / factor) * w + (r % uw) / factor];
}

// Element i of the channel concatenation [cur, input] of two tensors of the same batch and plane
// size: cur has curChannels channels, input inChannels.
PODM_HD inline float concatAt(const float* cur, const float* input, int64_t i, int64_t curChannels,
                              int64_t inChannels, int64_t plane) {
  const int64_t channels = curChannels + inChannels;
  const int64_t b = i / (channels * plane), r = i % (channels * plane);
  const int64_t ch = r / plane, p = r % plane;
  return ch < curChannels ? cur[(b * curChannels + ch) * plane + p]
                          : input[(b * inChannels + ch - curChannels) * plane + p];
}

// The residual network's output x - net(x).
PODM_HD inline float residualAt(const float* x, const float* net, int64_t i) {
  return x[i] - net[i];
}

// ---- Backward (training, network_training.cpp) ----

// dL/dz from dL/dy for y = activate(z), recovered from the output y as oneDNN's
// *_use_dst_for_bwd algorithms do (the CPU training's): exact for alpha >= 0, which
// TrainableNetwork requires.
PODM_HD inline float activationGrad(float dy, float y, int activation, float alpha) {
  switch (activation) {
  case kReLU:
    return y > 0.0f ? dy : 0.0f;
  case kLeakyReLU:
    return y > 0.0f ? dy : alpha * dy;
  case kELU:
    return y > 0.0f ? dy : dy * (y + alpha);
  default:
    return dy;
  }
}

// The padded positions [first, last] along one axis that read sample q of n (padAt's adjoint):
// q + before, and with replicate every border position beyond the first or last sample too.
PODM_HD inline void borderReaders(int64_t q, int64_t before, int64_t n, int64_t padded,
                                  bool replicate, int64_t& first, int64_t& last) {
  first = last = q + before;
  if (replicate && q == 0)
    first = 0;
  if (replicate && q == n - 1)
    last = padded - 1;
}

// Element i of the gradient of planes of h x w from the gradient `dpad` of their ph x pw bordered
// copy (padAt's adjoint): the sum over every bordered position that read the pixel.
PODM_HD inline float padGradAt(const float* dpad, int64_t i, int64_t h, int64_t w, int64_t ph,
                               int64_t pw, int64_t top, int64_t left, bool replicate) {
  const int64_t q = i / (h * w), r = i % (h * w);
  int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
  borderReaders(r / w, top, h, ph, replicate, y0, y1);
  borderReaders(r % w, left, w, pw, replicate, x0, x1);
  float sum = 0.0f;
  for (int64_t y = y0; y <= y1; ++y)
    for (int64_t x = x0; x <= x1; ++x)
      sum += dpad[(q * ph + y) * pw + x];
  return sum;
}

} // namespace podm::netmath
