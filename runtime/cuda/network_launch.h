// The network node's own kernels (network.cu), seen from host code: the steps of a network that
// cuDNN does not run (network_plan.h). Plain C++17 and device pointers, like cuda_kernels.h; each
// function is one grid-stride launch on the default stream over network_math.h's per-element
// math, and throws std::runtime_error when the launch fails.
#pragma once

#include <cstdint>

namespace podm::cuda::net {

// data[i] = act(data[i] + bias[channel]) in place, over n elements of `channels` planes of
// `plane` pixels per image. activation: netmath::Activation.
void biasActivation(float* data, const float* bias, int64_t n, int64_t channels, int64_t plane,
                    int activation, float alpha);
// dst = act(src) over n elements (src and dst do not overlap).
void activation(const float* src, float* dst, int64_t n, int activation, float alpha);
// `planes` planes of h x w bordered by top/bottom/left/right: zeros or the nearest pixel.
void pad(const float* src, float* dst, int64_t planes, int64_t h, int64_t w, int64_t top,
         int64_t bottom, int64_t left, int64_t right, bool replicate);
// `planes` planes of h x w, each pixel repeated factor x factor times.
void upsample(const float* src, float* dst, int64_t planes, int64_t h, int64_t w, int64_t factor);
// dst = [cur, input] along channels, per image of the batch.
void concatInput(const float* cur, const float* input, float* dst, int64_t batch,
                 int64_t curChannels, int64_t inChannels, int64_t plane);
// out = x - out over n elements.
void residual(const float* x, float* out, int64_t n);

// Backward (training). dz = dy * act'(z) recovered from y = act(z); dz may be dy (in place).
void activationGrad(const float* dy, const float* y, float* dz, int64_t n, int activation,
                    float alpha);
// The gradient of `planes` planes of h x w from that of their bordered copy (pad's adjoint).
void padGrad(const float* dpad, float* dsrc, int64_t planes, int64_t h, int64_t w, int64_t top,
             int64_t bottom, int64_t left, int64_t right, bool replicate);
// dst = scale * src + (accumulate ? dst : 0) over n elements.
void scaleAdd(const float* src, float* dst, int64_t n, float scale, bool accumulate);

} // namespace podm::cuda::net
