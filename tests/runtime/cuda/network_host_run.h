// Runs a CUDA network plan (runtime/cuda/network_plan.h) on the host, step for step as the
// `network` node does on the GPU: the same buffer routing and shapes, network_math.h's functions
// for every step network.cu runs, and for cuDNN's convolutions a direct loop of cuDNN's definition
// (cross-correlation, symmetric zero padding, stride, dilation, NCHW / OIHW, bias then
// activation). Shared by tests/runtime/cuda/network_math_test.cpp and
// tests/stdlib/nn/network_layers_test.cpp.
#pragma once

#include "runtime/cuda/network_math.h"
#include "runtime/cuda/network_plan.h"

#include <vector>

namespace podm::cuda::hostrun {

// cuDNN's CUDNN_CROSS_CORRELATION forward of step `s` (filter s.dst.c x s.src.c x kh x kw), summed
// in double; the bias and activation are the node's (network_math.h).
inline void convolve(const NetStep& s, const float* x, const float* weight, const float* bias,
                     float* y) {
  const NetDims& i = s.src;
  const NetDims& o = s.dst;
  for (int64_t b = 0; b < o.n; ++b)
    for (int64_t oc = 0; oc < o.c; ++oc)
      for (int64_t oy = 0; oy < o.h; ++oy)
        for (int64_t ox = 0; ox < o.w; ++ox) {
          double sum = 0;
          for (int64_t ic = 0; ic < i.c; ++ic)
            for (int64_t ky = 0; ky < s.kh; ++ky)
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t sy = oy * s.stride - s.padH + ky * s.dilation;
                const int64_t sx = ox * s.stride - s.padW + kx * s.dilation;
                if (sy < 0 || sy >= i.h || sx < 0 || sx >= i.w)
                  continue;
                sum += double(weight[((oc * i.c + ic) * s.kh + ky) * s.kw + kx]) *
                       double(x[((b * i.c + ic) * i.h + sy) * i.w + sx]);
              }
          y[((b * o.c + oc) * o.h + oy) * o.w + ox] = float(sum);
        }
  const int64_t n = o.numel();
  for (int64_t k = 0; k < n; ++k)
    y[k] = netmath::biasActivateAt(y, bias, k, o.c, o.plane(), int(s.activation), s.alpha);
}

// The output of `plan` for `layers` (the description it was planned from) on `input`.
inline std::vector<float> run(const NetPlan& plan, const std::vector<NetLayer>& layers,
                              const std::vector<float>& input) {
  std::vector<float> buffers[2] = {std::vector<float>(size_t(plan.bufferFloats[0])),
                                   std::vector<float>(size_t(plan.bufferFloats[1]))};
  std::vector<float> out(size_t(plan.out.numel()));
  auto source = [&](NetSlot s) -> const float* {
    return s == NetSlot::Input ? input.data() : buffers[int(s)].data();
  };
  auto target = [&](NetSlot s) -> float* {
    return s == NetSlot::Output ? out.data() : buffers[int(s)].data();
  };
  for (const NetStep& s : plan.steps) {
    const float* src = source(s.from);
    float* dst = target(s.to);
    const int64_t n = s.dst.numel();
    switch (s.kind) {
    case NetStepKind::Pad:
      for (int64_t i = 0; i < n; ++i)
        dst[i] =
            netmath::padAt(src, i, s.src.h, s.src.w, s.dst.h, s.dst.w, s.top, s.left, s.replicate);
      break;
    case NetStepKind::Conv: {
      std::vector<float> zeros(size_t(s.dst.c), 0.0f);
      const NetLayer& l = layers[s.layer];
      convolve(s, src, l.weight, l.bias ? l.bias : zeros.data(), dst);
      break;
    }
    case NetStepKind::Activation:
      for (int64_t i = 0; i < n; ++i)
        dst[i] = netmath::activate(src[i], int(s.activation), s.alpha);
      break;
    case NetStepKind::Upsample:
      for (int64_t i = 0; i < n; ++i)
        dst[i] = netmath::upsampleAt(src, i, s.src.h, s.src.w, s.factor);
      break;
    case NetStepKind::ConcatInput:
      for (int64_t i = 0; i < n; ++i)
        dst[i] = netmath::concatAt(src, input.data(), i, s.src.c, s.dst.c - s.src.c, s.src.plane());
      break;
    case NetStepKind::Copy:
      for (int64_t i = 0; i < n; ++i)
        dst[i] = src[i];
      break;
    }
  }
  if (plan.residual)
    for (int64_t i = 0; i < plan.out.numel(); ++i)
      out[size_t(i)] = netmath::residualAt(input.data(), out.data(), i);
  return out;
}

} // namespace podm::cuda::hostrun
