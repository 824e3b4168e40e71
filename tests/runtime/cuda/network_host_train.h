// The CUDA network trainer (runtime/cuda/network_training.cpp) run on the host, step for step:
// the same plan, the same buffers kept (every step's output), the same backward order and
// network_math.h's gradient functions, and for cuDNN's backward-data / backward-filter /
// backward-bias calls direct loops of their definitions in double. Behind the same
// NetworkTrainer interface, so TrainableNetwork::trainOn can be tested on every machine against
// the CPU's oneDNN training (tests/stdlib/nn/trainable_device_test.cpp).
#pragma once

#include "network_host_run.h"
#include "runtime/network_trainer.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace podm::cuda::hostrun {

// cuDNN's backward of step s's convolution (cross-correlation, symmetric zero padding, stride,
// dilation): dW = sum over the batch and positions of dy * x, db = sum of dy, and dX (when given)
// the transposed convolution of dy; all summed in double.
inline void convolveBackward(const NetStep& s, const float* x, const float* weight, const float* dy,
                             float* dW, float* db, float* dX) {
  const NetDims& i = s.src;
  const NetDims& o = s.dst;
  std::vector<double> w(size_t(o.c * i.c * s.kh * s.kw), 0.0), b(size_t(o.c), 0.0);
  std::vector<double> xg(dX ? size_t(i.numel()) : 0, 0.0);
  for (int64_t n = 0; n < o.n; ++n)
    for (int64_t oc = 0; oc < o.c; ++oc)
      for (int64_t oy = 0; oy < o.h; ++oy)
        for (int64_t ox = 0; ox < o.w; ++ox) {
          const double g = dy[((n * o.c + oc) * o.h + oy) * o.w + ox];
          b[size_t(oc)] += g;
          for (int64_t ic = 0; ic < i.c; ++ic)
            for (int64_t ky = 0; ky < s.kh; ++ky)
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t sy = oy * s.stride - s.padH + ky * s.dilation;
                const int64_t sx = ox * s.stride - s.padW + kx * s.dilation;
                if (sy < 0 || sy >= i.h || sx < 0 || sx >= i.w)
                  continue;
                const size_t wi = size_t(((oc * i.c + ic) * s.kh + ky) * s.kw + kx);
                const size_t xi = size_t(((n * i.c + ic) * i.h + sy) * i.w + sx);
                w[wi] += g * double(x[xi]);
                if (dX)
                  xg[xi] += g * double(weight[wi]);
              }
        }
  std::transform(w.begin(), w.end(), dW, [](double v) { return float(v); });
  std::transform(b.begin(), b.end(), db, [](double v) { return float(v); });
  if (dX)
    std::transform(xg.begin(), xg.end(), dX, [](double v) { return float(v); });
}

class HostTrainer final : public NetworkTrainer {
public:
  HostTrainer(std::vector<NetLayer> layers, int64_t inChannels, bool residual)
      : layers_(std::move(layers)), inChannels_(inChannels), residual_(residual) {}

  void forward(const Tensor& in, std::span<const LayerWeights> weights, Tensor& out) override {
    const Shape& is = in.shape();
    plan_ = planNetwork(layers_, inChannels_, residual_, NetDims{is.n, is.c, is.h, is.w});
    weights_.assign(weights.begin(), weights.end());
    input_.assign(in.data(), in.data() + in.numel());
    acts_.assign(plan_.steps.size(), {});
    const float* src = input_.data();
    for (size_t k = 0; k < plan_.steps.size(); ++k) {
      const NetStep& s = plan_.steps[k];
      std::vector<float>& dst = acts_[k];
      dst.assign(size_t(s.dst.numel()), 0.0f);
      const int64_t n = s.dst.numel();
      switch (s.kind) {
      case NetStepKind::Conv: {
        std::vector<float> zeros(size_t(s.dst.c), 0.0f);
        const LayerWeights& w = weights_[s.layer];
        convolve(s, src, w.weight, w.bias ? w.bias : zeros.data(), dst.data());
        break;
      }
      case NetStepKind::Pad:
        for (int64_t i = 0; i < n; ++i)
          dst[size_t(i)] = netmath::padAt(src, i, s.src.h, s.src.w, s.dst.h, s.dst.w, s.top, s.left,
                                          s.replicate);
        break;
      case NetStepKind::Activation:
        for (int64_t i = 0; i < n; ++i)
          dst[size_t(i)] = netmath::activate(src[i], int(s.activation), s.alpha);
        break;
      case NetStepKind::Copy:
        std::copy_n(src, n, dst.begin());
        break;
      default:
        throw std::logic_error("host trainer: no backward for this step");
      }
      src = dst.data();
    }
    const NetDims& o = plan_.out;
    out = Tensor(Shape{o.n, o.c, o.h, o.w});
    for (int64_t i = 0; i < o.numel(); ++i)
      out.data()[i] = residual_ ? netmath::residualAt(input_.data(), src, i) : src[i];
    ready_ = true;
  }

  void backward(const Tensor& dOut, std::span<const LayerGrads> grads, Tensor* dIn) override {
    if (!ready_)
      throw std::runtime_error("network: backward without a forward pass before it");
    std::vector<float> cur(dOut.data(), dOut.data() + dOut.numel()), next;
    if (residual_)
      for (float& v : cur)
        v = -v;
    for (size_t k = plan_.steps.size(); k-- > 0;) {
      const NetStep& s = plan_.steps[k];
      const bool propagate = k > 0 || dIn;
      const float* x = k == 0 ? input_.data() : acts_[k - 1].data();
      const std::vector<float>& y = acts_[k];
      switch (s.kind) {
      case NetStepKind::Conv: {
        for (size_t i = 0; i < cur.size(); ++i)
          cur[i] = netmath::activationGrad(cur[i], y[i], int(s.activation), s.alpha);
        std::vector<float> dW(size_t(s.dst.c * s.src.c * s.kh * s.kw)), db(size_t(s.dst.c));
        next.assign(size_t(s.src.numel()), 0.0f);
        convolveBackward(s, x, weights_[s.layer].weight, cur.data(), dW.data(), db.data(),
                         propagate ? next.data() : nullptr);
        if (float* g = grads[s.layer].weight)
          for (size_t i = 0; i < dW.size(); ++i)
            g[i] += dW[i];
        if (float* g = grads[s.layer].bias)
          for (size_t i = 0; i < db.size(); ++i)
            g[i] += db[i];
        cur.swap(next);
        break;
      }
      case NetStepKind::Pad:
        next.assign(size_t(s.src.numel()), 0.0f);
        for (int64_t i = 0; i < s.src.numel(); ++i)
          next[size_t(i)] = netmath::padGradAt(cur.data(), i, s.src.h, s.src.w, s.dst.h, s.dst.w,
                                               s.top, s.left, s.replicate);
        cur.swap(next);
        break;
      case NetStepKind::Activation:
        for (size_t i = 0; i < cur.size(); ++i)
          cur[i] = netmath::activationGrad(cur[i], y[i], int(s.activation), s.alpha);
        break;
      default:
        break;
      }
    }
    if (dIn) {
      const NetDims& i = plan_.in;
      *dIn = Tensor(Shape{i.n, i.c, i.h, i.w});
      for (int64_t k = 0; k < i.numel(); ++k)
        dIn->data()[k] = residual_ ? dOut.data()[k] + cur[size_t(k)] : cur[size_t(k)];
    }
  }

private:
  std::vector<NetLayer> layers_;
  int64_t inChannels_;
  bool residual_;
  NetPlan plan_;
  std::vector<LayerWeights> weights_;
  std::vector<float> input_;
  std::vector<std::vector<float>> acts_;
  bool ready_ = false;
};

} // namespace podm::cuda::hostrun
