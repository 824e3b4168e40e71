// Group soft-thresholding: u_g = max(0, 1 - gamma / ||v_g||) v_g for each pixel's channel vector.
// In NCHW a group is strided by the plane size, so pixels are processed in blocks: accumulate the
// squared norms of a block channel by channel (contiguous, vectorizable), turn them into scale
// factors, then scale channel by channel. A block's inputs are all read before its outputs are
// written, which keeps out == v safe; the block buffer lives on the stack (no allocation). The
// per-group math (squared norm in channel order, the shrink factor) is runtime/prox_math.h's,
// shared with the CUDA kernel.
#include "stdlib/prox/l21.h"

#include "numerics/parallel.h"
#include "runtime/prox_math.h"
#include "stdlib/prox/prox_util.h"

#include <algorithm>
#include <cmath>

namespace podm::stdlib {

namespace {
constexpr int64_t kPixelBlock = 512;
}

double L21Prox::value(const Tensor& x) const {
  detail::requireRealTensor("l21", x);
  const Shape& shape = x.shape();
  const int64_t plane = shape.plane();
  double total = 0;
  for (int64_t sample = 0; sample < shape.n; ++sample) {
    const float* base = x.data() + sample * shape.c * plane;
    for (int64_t pixel = 0; pixel < plane; ++pixel) {
      double norm2 = 0;
      for (int64_t channel = 0; channel < shape.c; ++channel) {
        double value = base[channel * plane + pixel];
        norm2 += value * value;
      }
      total += std::sqrt(norm2);
    }
  }
  return total;
}

void L21Prox::prox(const Tensor& v, float gamma, Tensor& out) const {
  detail::prepareProxOutput("l21", v, out);
  const Shape& shape = v.shape();
  const int64_t plane = shape.plane();
  const int64_t blocks = (plane + kPixelBlock - 1) / kPixelBlock;
  for (int64_t sample = 0; sample < shape.n; ++sample) {
    const float* in = v.data() + sample * shape.c * plane;
    float* result = out.data() + sample * shape.c * plane;
    // Pixel blocks are independent: bands of them on every core for large planes.
    numerics::parallelPasses(blocks, plane * shape.c, [&](int64_t b0, int64_t b1) {
      float scale[kPixelBlock];
      for (int64_t start = b0 * kPixelBlock; start < std::min(plane, b1 * kPixelBlock);
           start += kPixelBlock) {
        const int64_t count = std::min(kPixelBlock, plane - start);
        std::fill(scale, scale + count, 0.0f);
        for (int64_t channel = 0; channel < shape.c; ++channel) {
          const float* row = in + channel * plane + start;
          for (int64_t k = 0; k < count; ++k)
            scale[k] = proxmath::addSquare(scale[k], row[k]);
        }
        for (int64_t k = 0; k < count; ++k)
          scale[k] = proxmath::groupShrinkFactor(scale[k], gamma);
        for (int64_t channel = 0; channel < shape.c; ++channel) {
          const float* row = in + channel * plane + start;
          float* target = result + channel * plane + start;
          for (int64_t k = 0; k < count; ++k)
            target[k] = row[k] * scale[k];
        }
      }
    });
  }
}

// Per pixel group g with r = ||v_g|| > gamma: out = (1 - gamma/r) v_g, whose Jacobian
// (1 - gamma/r) I + gamma/r^3 v_g v_g' is symmetric; groups with r <= gamma map to 0.
void L21Prox::vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const {
  detail::prepareProxVjp("l21", v, dOut, dV);
  const Shape& shape = v.shape();
  const int64_t plane = shape.plane();
  for (int64_t sample = 0; sample < shape.n; ++sample) {
    const int64_t base = sample * shape.c * plane;
    const float* in = v.data() + base;
    const float* g = dOut.data() + base;
    float* d = dV.data() + base;
    for (int64_t p = 0; p < plane; ++p) {
      double r2 = 0, vg = 0;
      for (int64_t c = 0; c < shape.c; ++c) {
        r2 += static_cast<double>(in[c * plane + p]) * in[c * plane + p];
        vg += static_cast<double>(in[c * plane + p]) * g[c * plane + p];
      }
      const double r = std::sqrt(r2);
      for (int64_t c = 0; c < shape.c; ++c)
        d[c * plane + p] = r > gamma ? static_cast<float>((1 - gamma / r) * g[c * plane + p] +
                                                          gamma / (r2 * r) * in[c * plane + p] * vg)
                                     : 0.0f;
    }
  }
}

ProxEntry makeL21Entry() {
  return {.name = "l21",
          .summary = "group l2,1 norm, groups along channels: sum over pixels of ||u[n,:,y,x]||_2; "
                     "prox is group soft-thresholding",
          .params = {},
          .traits = {.convex = true, .separable = false},
          .make = [](const ProxArgs&) { return std::make_unique<L21Prox>(); }};
}

} // namespace podm::stdlib
