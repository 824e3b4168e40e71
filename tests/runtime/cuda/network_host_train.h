// The CUDA network trainer (runtime/cuda/network_training.cpp) run on the host, step for step:
// the same plan, the same buffers kept (every step's output), the same passes
// (network_training_pass.h) and network_math.h's gradient functions, and for cuDNN's
// backward-data / backward-filter / backward-bias calls direct loops of their definitions in
// double. Behind the same NetworkTrainer interface, offered by a backend that has nothing else
// (HostTrainingBackend), so TrainableNetwork::trainOn and the training provider are tested on
// every machine against the CPU's oneDNN training (tests/stdlib/nn/trainable_device_test.cpp,
// tests/engine/trainable_network_provider_test.cpp).
#pragma once

#include "network_host_run.h"
#include "runtime/backend.h"
#include "runtime/cuda/network_training_pass.h"
#include "runtime/network_trainer.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
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
    for (size_t k = 0; k < plan_.steps.size(); ++k)
      acts_[k].assign(size_t(plan_.steps[k].dst.numel()), 0.0f);
    training::forwardPass(plan_, *this);
    const float* net = acts_.back().data();
    const NetDims& o = plan_.out;
    out = Tensor(Shape{o.n, o.c, o.h, o.w});
    for (int64_t i = 0; i < o.numel(); ++i)
      out.data()[i] = residual_ ? netmath::residualAt(input_.data(), net, i) : net[i];
    ready_ = true;
  }

  void backward(const Tensor& dOut, std::span<const LayerGrads> grads, Tensor* dIn) override {
    if (!ready_)
      throw std::runtime_error("network: backward without a forward pass before it");
    grads_ = grads;
    std::vector<float> a(dOut.data(), dOut.data() + dOut.numel()), b;
    if (residual_)
      for (float& v : a)
        v = -v;
    const std::vector<float>* d = training::backwardPass(plan_, *this, &a, &b, dIn != nullptr);
    if (dIn) {
      const NetDims& i = plan_.in;
      *dIn = Tensor(Shape{i.n, i.c, i.h, i.w});
      for (int64_t k = 0; k < i.numel(); ++k)
        dIn->data()[k] = residual_ ? dOut.data()[k] + (*d)[size_t(k)] : (*d)[size_t(k)];
    }
  }

  // The primitives of training::forwardPass (step k's source to its output).
  void conv(size_t k) {
    const NetStep& s = plan_.steps[k];
    std::vector<float> zeros(size_t(s.dst.c), 0.0f);
    const LayerWeights& w = weights_[s.layer];
    convolve(s, source(k), w.weight, w.bias ? w.bias : zeros.data(), acts_[k].data());
  }
  void pad(size_t k) {
    const NetStep& s = plan_.steps[k];
    for (int64_t i = 0; i < s.dst.numel(); ++i)
      acts_[k][size_t(i)] = netmath::padAt(source(k), i, s.src.h, s.src.w, s.dst.h, s.dst.w, s.top,
                                           s.left, s.replicate);
  }
  void activation(size_t k) {
    const NetStep& s = plan_.steps[k];
    for (int64_t i = 0; i < s.dst.numel(); ++i)
      acts_[k][size_t(i)] = netmath::activate(source(k)[i], int(s.activation), s.alpha);
  }
  void copy(size_t k) { std::copy_n(source(k), plan_.steps[k].dst.numel(), acts_[k].begin()); }

  // The primitives of training::backwardPass; gradients in host vectors. cuDNN computes the
  // bias, filter and data gradients in three calls; here one reference loop does all three, on
  // the data call or, when the source's gradient is not wanted, on the filter call.
  using Buffer = std::vector<float>*;
  void activationGrad(size_t k, Buffer g) {
    const NetStep& s = plan_.steps[k];
    for (size_t i = 0; i < g->size(); ++i)
      (*g)[i] = netmath::activationGrad((*g)[i], acts_[k][i], int(s.activation), s.alpha);
  }
  void biasGrad(size_t k, Buffer g) {
    const NetStep& s = plan_.steps[k];
    std::vector<double> db(size_t(s.dst.c), 0.0);
    for (int64_t i = 0; i < s.dst.numel(); ++i)
      db[size_t((i / s.dst.plane()) % s.dst.c)] += (*g)[size_t(i)];
    if (float* out = grads_[s.layer].bias)
      for (size_t c = 0; c < db.size(); ++c)
        out[c] += float(db[c]);
  }
  void filterGrad(size_t k, Buffer g) {
    const NetStep& s = plan_.steps[k];
    std::vector<float> dW(size_t(s.dst.c * s.src.c * s.kh * s.kw)), db(size_t(s.dst.c));
    convolveBackward(s, source(k), weights_[s.layer].weight, g->data(), dW.data(), db.data(),
                     nullptr);
    if (float* out = grads_[s.layer].weight)
      for (size_t i = 0; i < dW.size(); ++i)
        out[i] += dW[i];
  }
  void dataGrad(size_t k, Buffer g, Buffer dx) {
    const NetStep& s = plan_.steps[k];
    std::vector<float> dW(size_t(s.dst.c * s.src.c * s.kh * s.kw)), db(size_t(s.dst.c));
    dx->assign(size_t(s.src.numel()), 0.0f);
    convolveBackward(s, source(k), weights_[s.layer].weight, g->data(), dW.data(), db.data(),
                     dx->data());
  }
  void padGrad(size_t k, Buffer g, Buffer dx) {
    const NetStep& s = plan_.steps[k];
    dx->assign(size_t(s.src.numel()), 0.0f);
    for (int64_t i = 0; i < s.src.numel(); ++i)
      (*dx)[size_t(i)] = netmath::padGradAt(g->data(), i, s.src.h, s.src.w, s.dst.h, s.dst.w, s.top,
                                            s.left, s.replicate);
  }

private:
  const float* source(size_t k) const { return k == 0 ? input_.data() : acts_[k - 1].data(); }

  std::vector<NetLayer> layers_;
  int64_t inChannels_;
  bool residual_;
  NetPlan plan_;
  std::vector<LayerWeights> weights_;
  std::span<const LayerGrads> grads_;
  std::vector<float> input_;
  std::vector<std::vector<float>> acts_;
  bool ready_ = false;
};

// A backend with no kernels and no memory: what these tests need of one is its trainer, which
// this one does not have (the interface's default answer).
class TrainerOnlyBackend : public Backend {
public:
  explicit TrainerOnlyBackend(std::string name = "none") : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  bool supports(const ir::Graph&, ir::ValueId, const PrepareContext&) const override {
    return false;
  }
  std::string unsupportedReason(const ir::Graph&, ir::ValueId,
                                const PrepareContext&) const override {
    return "no kernels";
  }
  std::unique_ptr<BackendProgram> prepare(const ir::Graph&, std::span<const ir::ValueId>,
                                          const PrepareContext&) override {
    throw std::logic_error(name() + ": no kernels");
  }
  void execute(BackendProgram&, size_t, const KernelIO&) override {}
  bool hostAddressable() const override { return true; }
  DevicePtr allocate(size_t) override { throw std::logic_error(name() + ": no memory"); }
  void deallocate(DevicePtr) override {}
  void upload(DevicePtr, const void*, size_t) override {}
  void download(void*, DevicePtr, size_t) override {}
  void copy(DevicePtr, DevicePtr, size_t) override {}

private:
  std::string name_;
};

// Trains with the host mirror of the CUDA trainer; counts the trainers it made.
class HostTrainingBackend final : public TrainerOnlyBackend {
public:
  HostTrainingBackend() : TrainerOnlyBackend("host-plan") {}
  std::unique_ptr<NetworkTrainer> makeNetworkTrainer(const std::vector<NetLayer>& layers,
                                                     int64_t inChannels, bool residual,
                                                     std::string*) override {
    ++trainers;
    return std::make_unique<HostTrainer>(layers, inChannels, residual);
  }
  int trainers = 0;
};

} // namespace podm::cuda::hostrun
