// Naive reference implementations of every network layer for the nn tests, in double precision,
// written from the definitions (not from the library): direct convolution loops with explicit
// zero padding, batch norm applied unfolded, activations from their formulas.
#pragma once

#include "stdlib/nn/network.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace podm::nn::testref {

struct RefTensor {
  int64_t n = 1, c = 1, h = 1, w = 1;
  std::vector<double> v;
  double& at(int64_t b, int64_t ch, int64_t y, int64_t x) {
    return v[((b * c + ch) * h + y) * w + x];
  }
  double at(int64_t b, int64_t ch, int64_t y, int64_t x) const {
    return v[((b * c + ch) * h + y) * w + x];
  }
};

inline RefTensor conv(const RefTensor& in, const Layer& l, const std::vector<float>& wt,
                      const std::vector<float>& bias) {
  int64_t ext = l.dilation * (l.kernel - 1) + 1;
  int64_t oh, ow, pt = 0, pl = 0;
  if (l.padding != Padding::Valid) {
    oh = (in.h + l.stride - 1) / l.stride;
    ow = (in.w + l.stride - 1) / l.stride;
    pt = std::max<int64_t>((oh - 1) * l.stride + ext - in.h, 0) / 2;
    pl = std::max<int64_t>((ow - 1) * l.stride + ext - in.w, 0) / 2;
  } else {
    oh = (in.h - ext) / l.stride + 1;
    ow = (in.w - ext) / l.stride + 1;
  }
  RefTensor out{in.n, l.out, oh, ow, std::vector<double>(size_t(in.n * l.out * oh * ow))};
  for (int64_t b = 0; b < in.n; ++b)
    for (int64_t o = 0; o < l.out; ++o)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          double s = bias.empty() ? 0.0 : bias[size_t(o)];
          for (int64_t i = 0; i < l.in; ++i)
            for (int64_t ky = 0; ky < l.kernel; ++ky)
              for (int64_t kx = 0; kx < l.kernel; ++kx) {
                int64_t sy = y * l.stride - pt + ky * l.dilation;
                int64_t sx = x * l.stride - pl + kx * l.dilation;
                if (l.padding == Padding::Replicate) {
                  sy = std::clamp<int64_t>(sy, 0, in.h - 1);
                  sx = std::clamp<int64_t>(sx, 0, in.w - 1);
                } else if (sy < 0 || sy >= in.h || sx < 0 || sx >= in.w) {
                  continue;
                }
                s += double(wt[size_t(((o * l.in + i) * l.kernel + ky) * l.kernel + kx)]) *
                     in.at(b, i, sy, sx);
              }
          out.at(b, o, y, x) = s;
        }
  return out;
}

inline void activate(RefTensor& t, const Layer& l) {
  for (double& v : t.v) {
    if (l.kind == LayerKind::ReLU)
      v = v > 0 ? v : 0;
    else if (l.kind == LayerKind::LeakyReLU)
      v = v > 0 ? v : l.alpha * v;
    else if (l.kind == LayerKind::ELU)
      v = v > 0 ? v : l.alpha * (std::exp(v) - 1);
  }
}

// Runs `spec` on `x` with unfolded weights from `w` (names as in network.h, auto-named layers).
inline RefTensor run(const NetworkSpec& spec, const RefTensor& x, const TensorMap& w) {
  RefTensor cur = x;
  int convs = 0, bns = 0, fcs = 0;
  for (const Layer& l : spec.layers) {
    switch (l.kind) {
    case LayerKind::Conv2d: {
      std::string p = "conv" + std::to_string(convs++);
      std::vector<float> b = l.bias ? w.at(p + ".bias").data : std::vector<float>{};
      cur = conv(cur, l, w.at(p + ".weight").data, b);
      break;
    }
    case LayerKind::BatchNorm: {
      std::string p = "bn" + std::to_string(bns++);
      const auto &g = w.at(p + ".weight").data, &be = w.at(p + ".bias").data,
                 &m = w.at(p + ".running_mean").data, &var = w.at(p + ".running_var").data;
      for (int64_t b = 0; b < cur.n; ++b)
        for (int64_t ch = 0; ch < cur.c; ++ch)
          for (int64_t y = 0; y < cur.h; ++y)
            for (int64_t xx = 0; xx < cur.w; ++xx) {
              double& v = cur.at(b, ch, y, xx);
              v = (v - m[size_t(ch)]) / std::sqrt(double(var[size_t(ch)]) + l.eps) * g[size_t(ch)] +
                  be[size_t(ch)];
            }
      break;
    }
    case LayerKind::ReLU:
    case LayerKind::ELU:
    case LayerKind::LeakyReLU:
      activate(cur, l);
      break;
    case LayerKind::Upsample: {
      RefTensor o{cur.n, cur.c, cur.h * l.factor, cur.w * l.factor, {}};
      o.v.resize(size_t(o.n * o.c * o.h * o.w));
      for (int64_t b = 0; b < o.n; ++b)
        for (int64_t ch = 0; ch < o.c; ++ch)
          for (int64_t y = 0; y < o.h; ++y)
            for (int64_t xx = 0; xx < o.w; ++xx)
              o.at(b, ch, y, xx) = cur.at(b, ch, y / l.factor, xx / l.factor);
      cur = o;
      break;
    }
    case LayerKind::ConcatInput: {
      RefTensor o{cur.n, cur.c + x.c, cur.h, cur.w, {}};
      o.v.resize(size_t(o.n * o.c * o.h * o.w));
      for (int64_t b = 0; b < o.n; ++b)
        for (int64_t ch = 0; ch < o.c; ++ch)
          for (int64_t y = 0; y < o.h; ++y)
            for (int64_t xx = 0; xx < o.w; ++xx)
              o.at(b, ch, y, xx) = ch < cur.c ? cur.at(b, ch, y, xx) : x.at(b, ch - cur.c, y, xx);
      cur = o;
      break;
    }
    case LayerKind::Dense: {
      std::string p = "fc" + std::to_string(fcs++);
      const auto& wt = w.at(p + ".weight").data;
      RefTensor o{cur.n, l.out, 1, 1, std::vector<double>(size_t(cur.n * l.out))};
      int64_t f = cur.c * cur.h * cur.w;
      for (int64_t b = 0; b < cur.n; ++b)
        for (int64_t k = 0; k < l.out; ++k) {
          double s = l.bias ? w.at(p + ".bias").data[size_t(k)] : 0.0;
          for (int64_t i = 0; i < f; ++i)
            s += double(wt[size_t(k * f + i)]) * cur.v[size_t(b * f + i)];
          o.v[size_t(b * l.out + k)] = s;
        }
      cur = o;
      break;
    }
    }
  }
  if (spec.residual)
    for (size_t i = 0; i < cur.v.size(); ++i)
      cur.v[i] = x.v[i] - cur.v[i];
  return cur;
}

// Weights for every tensor the network expects: uniform, scaled by 1/sqrt(fan-in) so that
// activations keep their magnitude through deep stacks; batch-norm variances positive.
inline TensorMap randomWeights(const Network& net, uint32_t seed) {
  std::mt19937 rng(seed);
  TensorMap out;
  for (const TensorInfo& t : net.expectedWeights()) {
    HostTensor h{t.shape, std::vector<float>(size_t(checkedNumel(t.shape)))};
    double fan = 1;
    for (size_t i = 1; i < t.shape.size(); ++i)
      fan *= double(t.shape[i]);
    bool var = t.name.find("running_var") != std::string::npos;
    bool gamma = t.name.rfind("bn", 0) == 0 && t.name.find(".weight") != std::string::npos;
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& v : h.data) {
      float r = u(rng);
      v = var ? 0.5f + std::abs(r) : gamma ? 1.0f + 0.5f * r : r * float(1.5 / std::sqrt(fan));
    }
    out[t.name] = std::move(h);
  }
  return out;
}

} // namespace podm::nn::testref
