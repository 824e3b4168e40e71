// A network trained on cuDNN (runtime/network_trainer.h): the inference node's plan
// (network_plan.h) run forward with every step's output kept, then backward step by step in
// reverse (the order of network_training_pass.h, which the host mirror shares) with cuDNN's
// backward-data, backward-filter and backward-bias calls and network.cu's gradient kernels for
// activations, borders and the residual. It computes what the CPU's oneDNN
// training computes (stdlib/nn/onednn_backward.cpp): activations differentiated from their
// output, fp32 with FMA math and no TF32, deterministic backward algorithms.
//
// A training step moves its batch, the weights and the gradients between host and device once
// each (the parameters and the optimizer stay on the host, where checkpoints and every optimizer
// already work); everything between the upload and the download stays on the GPU. The host tests
// run the same backward steps with network_math.h and a reference convolution against the CPU
// training (tests/runtime/cuda/network_backward_test.cpp); on a GPU, the consistency test compares
// this trainer with the CPU's gradients (tests/runtime/cuda/network_trainer_gpu_test.cpp).
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cudnn_conv.h"
#include "runtime/cuda/network_launch.h"
#include "runtime/cuda/network_plan.h"
#include "runtime/cuda/network_training_pass.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace podm::cuda {
namespace {

// Everything that depends on the input shape, made on the first forward of that shape.
struct ShapeState {
  NetPlan plan;
  std::vector<ConvObjects> convs; // per step; empty objects for other steps
  DeviceBuffer input, output;     // the batch, the result (residual networks only)
  std::vector<DeviceBuffer> acts; // every step's output, kept for backward
  DeviceBuffer grad[2];           // ping-pong gradients, the plan's largest tensor each
  DeviceBuffer dInput;            // residual networks: dOut, then dOut + the net's d input
  size_t workspaceBytes = 0;

  ShapeState() = default;
  ShapeState(const ShapeState&) = delete;
  ShapeState& operator=(const ShapeState&) = delete;
  ~ShapeState() {
    for (ConvObjects& c : convs)
      c.destroy();
  }
};

float* floats(const DeviceBuffer& b) {
  return static_cast<float*>(b.get());
}

size_t bytesOf(int64_t n) {
  return static_cast<size_t>(n) * sizeof(float);
}

// Why a layer list cannot be trained here, or empty.
std::string untrainable(const std::vector<NetLayer>& layers) {
  for (size_t i = 0; i < layers.size(); ++i) {
    const NetLayer& l = layers[i];
    if (l.kind == NetLayerKind::Upsample || l.kind == NetLayerKind::ConcatInput)
      return "layer " + std::to_string(i) + ": upsampling and input concatenation have no " +
             "backward pass on the GPU (nor on the CPU)";
    if ((l.activation == NetActivation::ELU || l.activation == NetActivation::LeakyReLU) &&
        l.alpha < 0)
      return "layer " + std::to_string(i) + ": training needs a non-negative activation alpha";
  }
  return {};
}

class CudnnTrainer final : public NetworkTrainer {
public:
  CudnnTrainer(Backend& memory, std::vector<NetLayer> layers, int64_t inChannels, bool residual)
      : memory_(memory), layers_(std::move(layers)), inChannels_(inChannels), residual_(residual) {
    // Each layer's weights and bias at fixed offsets of one buffer (and of the gradients').
    constexpr size_t kAlign = 64; // floats: 256-byte aligned starts, as cuDNN prefers
    auto aligned = [](size_t n) { return (n + kAlign - 1) / kAlign * kAlign; };
    weightAt_.assign(layers_.size(), 0);
    biasAt_.assign(layers_.size(), 0);
    weightFloats_.assign(layers_.size(), 0);
    biasFloats_.assign(layers_.size(), 0);
    for (size_t i = 0; i < layers_.size(); ++i) {
      const NetLayer& l = layers_[i];
      if (l.kind != NetLayerKind::Conv && l.kind != NetLayerKind::Dense)
        continue;
      weightFloats_[i] = static_cast<size_t>(
          l.kind == NetLayerKind::Conv ? l.out * l.in * l.kernel * l.kernel : l.out * l.in);
      biasFloats_[i] = static_cast<size_t>(l.out);
      weightAt_[i] = total_;
      total_ += aligned(weightFloats_[i]);
      biasAt_[i] = total_;
      total_ += aligned(biasFloats_[i]);
    }
    total_ = std::max<size_t>(total_, 1);
    staging_.assign(total_, 0.0f);
    weights_ = DeviceBuffer(memory_, bytesOf(int64_t(total_)));
    grads_ = DeviceBuffer(memory_, bytesOf(int64_t(total_)));
  }

  ~CudnnTrainer() override {
    shapes_.clear(); // their descriptors before the handle
    if (handle_)
      cudnnDestroy(handle_);
  }

  void forward(const Tensor& in, std::span<const LayerWeights> weights, Tensor& out) override {
    if (in.dtype() != DType::F32 || in.empty())
      throw std::runtime_error("network: input must be a non-empty f32 tensor");
    if (weights.size() != layers_.size())
      throw std::runtime_error("network: " + std::to_string(weights.size()) +
                               " weight entries for " + std::to_string(layers_.size()) + " layers");
    last_ = nullptr; // until this forward completes
    const Shape& is = in.shape();
    ShapeState& s = stateFor(NetDims{is.n, is.c, is.h, is.w});
    uploadWeights(weights);
    memory_.upload(s.input.ptr(), in.data(), in.bytes());
    Steps steps{*this, s};
    training::forwardPass(s.plan, steps);
    const float* src = floats(s.acts.back());
    const NetDims& o = s.plan.out;
    const Shape os{o.n, o.c, o.h, o.w};
    if (out.empty() || out.dtype() != DType::F32 || !(out.shape() == os))
      out = Tensor(os);
    const float* result = src;
    if (residual_) { // out = x - net(x), kept apart from the last activation backward reads
      checkCuda(cudaMemcpy(floats(s.output), floats(s.input), bytesOf(o.numel()),
                           cudaMemcpyDeviceToDevice),
                "network residual copy");
      net::scaleAdd(src, floats(s.output), o.numel(), -1.0f, true);
      result = floats(s.output);
    }
    memory_.download(out.data(), DevicePtr{const_cast<float*>(result)}, out.bytes());
    last_ = &s;
  }

  void backward(const Tensor& dOut, std::span<const LayerGrads> grads, Tensor* dIn) override {
    if (!last_)
      throw std::runtime_error("network: backward without a forward pass before it");
    ShapeState& s = *last_;
    const NetDims& o = s.plan.out;
    if (dOut.dtype() != DType::F32 || !(dOut.shape() == Shape{o.n, o.c, o.h, o.w}))
      throw std::runtime_error("network: the output gradient " + dOut.shape().str() +
                               " does not have the output's shape " + o.str());
    if (grads.size() != layers_.size())
      throw std::runtime_error("network: " + std::to_string(grads.size()) +
                               " gradient entries for " + std::to_string(layers_.size()) +
                               " layers");
    float* cur = floats(s.grad[0]);
    float* other = floats(s.grad[1]);
    if (residual_) { // d net = -dOut; dIn = dOut + (d net(x)/dx)^T d net
      memory_.upload(s.dInput.ptr(), dOut.data(), dOut.bytes());
      net::scaleAdd(floats(s.dInput), cur, o.numel(), -1.0f, false);
    } else {
      memory_.upload(DevicePtr{cur}, dOut.data(), dOut.bytes());
    }
    const bool wantInput = dIn != nullptr;
    Steps steps{*this, s};
    cur = training::backwardPass(s.plan, steps, cur, other, wantInput);
    if (wantInput) {
      const NetDims& i = s.plan.in;
      const Shape shape{i.n, i.c, i.h, i.w};
      if (dIn->empty() || dIn->dtype() != DType::F32 || !(dIn->shape() == shape))
        *dIn = Tensor(shape);
      const float* result = cur;
      if (residual_) {
        net::scaleAdd(cur, floats(s.dInput), i.numel(), 1.0f, true);
        result = floats(s.dInput);
      }
      memory_.download(dIn->data(), DevicePtr{const_cast<float*>(result)}, dIn->bytes());
    }
    // Every layer's spans were written by this backward (cuDNN's beta = 0), so nothing is cleared.
    memory_.download(staging_.data(), grads_.ptr(), bytesOf(int64_t(total_)));
    for (size_t l = 0; l < layers_.size(); ++l) {
      const float* dw = staging_.data() + weightAt_[l];
      const float* db = staging_.data() + biasAt_[l];
      if (grads[l].weight)
        for (size_t j = 0; j < weightFloats_[l]; ++j)
          grads[l].weight[j] += dw[j];
      if (grads[l].bias)
        for (size_t j = 0; j < biasFloats_[l]; ++j)
          grads[l].bias[j] += db[j];
    }
  }

private:
  ShapeState& stateFor(const NetDims& in) {
    for (auto& [dims, state] : shapes_)
      if (dims == in)
        return *state;
    auto s = std::make_unique<ShapeState>();
    s->plan = planNetwork(layers_, inChannels_, residual_, in); // throws naming the layer
    std::string why;
    if (!fitsCudnn(s->plan, &why))
      throw std::runtime_error("network: " + why);
    if (!handle_)
      checkCudnn(cudnnCreate(&handle_), "cudnnCreate");
    s->convs.resize(s->plan.steps.size());
    for (size_t k = 0; k < s->plan.steps.size(); ++k) {
      const NetStep& step = s->plan.steps[k];
      s->acts.emplace_back(memory_, bytesOf(step.dst.numel()));
      if (step.kind != NetStepKind::Conv)
        continue;
      configureConv(handle_, step, s->convs[k]);
      configureConvBackward(handle_, s->convs[k]);
      s->workspaceBytes = std::max(
          {s->workspaceBytes, s->convs[k].workspaceBytes, s->convs[k].backwardWorkspaceBytes});
    }
    s->input = DeviceBuffer(memory_, bytesOf(in.numel()));
    for (DeviceBuffer& g : s->grad)
      g = DeviceBuffer(memory_, bytesOf(s->plan.largestTensor));
    if (residual_) {
      s->output = DeviceBuffer(memory_, bytesOf(in.numel()));
      s->dInput = DeviceBuffer(memory_, bytesOf(in.numel()));
    }
    if (s->workspaceBytes > workspaceBytes_) {
      workspace_ = DeviceBuffer(memory_, s->workspaceBytes);
      workspaceBytes_ = s->workspaceBytes;
    }
    shapes_.emplace_back(in, std::move(s));
    return *shapes_.back().second;
  }

  void uploadWeights(std::span<const LayerWeights> weights) {
    for (size_t l = 0; l < layers_.size(); ++l) {
      if (weightFloats_[l] == 0)
        continue;
      if (!weights[l].weight)
        throw std::runtime_error("network: layer " + std::to_string(l) + " has no weights");
      std::copy_n(weights[l].weight, weightFloats_[l], staging_.begin() + long(weightAt_[l]));
      float* bias = staging_.data() + biasAt_[l];
      if (weights[l].bias)
        std::copy_n(weights[l].bias, biasFloats_[l], bias);
      else
        std::fill_n(bias, biasFloats_[l], 0.0f);
    }
    memory_.upload(weights_.ptr(), staging_.data(), bytesOf(int64_t(total_)));
  }

  // The primitives of training::forwardPass and backwardPass on cuDNN and network.cu.
  struct Steps {
    CudnnTrainer& t;
    const ShapeState& s;

    const NetStep& step(size_t k) const { return s.plan.steps[k]; }
    const float* source(size_t k) const { return k == 0 ? floats(s.input) : floats(s.acts[k - 1]); }
    float* output(size_t k) const { return floats(s.acts[k]); }
    const float* weight(size_t k) const { return floats(t.weights_) + t.weightAt_[step(k).layer]; }

    void conv(size_t k) {
      const NetStep& st = step(k);
      const ConvObjects& c = s.convs[k];
      const float one = 1.0f, zero = 0.0f;
      checkCudnn(cudnnConvolutionForward(t.handle_, &one, c.src, source(k), c.filter, weight(k),
                                         c.conv, c.algo, t.workspace_.get(), t.workspaceBytes_,
                                         &zero, c.dst, output(k)),
                 "cudnnConvolutionForward");
      net::biasActivation(output(k), floats(t.weights_) + t.biasAt_[st.layer], st.dst.numel(),
                          st.dst.c, st.dst.plane(), static_cast<int>(st.activation), st.alpha);
    }
    void pad(size_t k) {
      const NetStep& st = step(k);
      net::pad(source(k), output(k), st.src.n * st.src.c, st.src.h, st.src.w, st.top, st.bottom,
               st.left, st.right, st.replicate);
    }
    void activation(size_t k) {
      const NetStep& st = step(k);
      net::activation(source(k), output(k), st.dst.numel(), static_cast<int>(st.activation),
                      st.alpha);
    }
    void copy(size_t k) {
      checkCuda(
          cudaMemcpy(output(k), source(k), bytesOf(step(k).dst.numel()), cudaMemcpyDeviceToDevice),
          "network copy");
    }

    void activationGrad(size_t k, float* g) {
      const NetStep& st = step(k);
      net::activationGrad(g, output(k), g, st.dst.numel(), static_cast<int>(st.activation),
                          st.alpha);
    }
    void biasGrad(size_t k, const float* g) {
      const ConvObjects& c = s.convs[k];
      const float one = 1.0f, zero = 0.0f;
      checkCudnn(cudnnConvolutionBackwardBias(t.handle_, &one, c.dst, g, &zero, c.bias,
                                              floats(t.grads_) + t.biasAt_[step(k).layer]),
                 "cudnnConvolutionBackwardBias");
    }
    void filterGrad(size_t k, const float* g) {
      const ConvObjects& c = s.convs[k];
      const float one = 1.0f, zero = 0.0f;
      checkCudnn(cudnnConvolutionBackwardFilter(t.handle_, &one, c.src, source(k), c.dst, g, c.conv,
                                                c.filterAlgo, t.workspace_.get(), t.workspaceBytes_,
                                                &zero, c.filter,
                                                floats(t.grads_) + t.weightAt_[step(k).layer]),
                 "cudnnConvolutionBackwardFilter");
    }
    void dataGrad(size_t k, const float* g, float* dx) {
      const ConvObjects& c = s.convs[k];
      const float one = 1.0f, zero = 0.0f;
      checkCudnn(cudnnConvolutionBackwardData(t.handle_, &one, c.filter, weight(k), c.dst, g,
                                              c.conv, c.dataAlgo, t.workspace_.get(),
                                              t.workspaceBytes_, &zero, c.src, dx),
                 "cudnnConvolutionBackwardData");
    }
    void padGrad(size_t k, const float* g, float* dx) {
      const NetStep& st = step(k);
      net::padGrad(g, dx, st.src.n * st.src.c, st.src.h, st.src.w, st.top, st.bottom, st.left,
                   st.right, st.replicate);
    }
  };

  Backend& memory_;
  std::vector<NetLayer> layers_;
  int64_t inChannels_;
  bool residual_;
  cudnnHandle_t handle_ = nullptr;
  std::vector<std::pair<NetDims, std::unique_ptr<ShapeState>>> shapes_;
  ShapeState* last_ = nullptr; // of the last completed forward
  // Per layer: offsets and sizes (floats) in the weight and gradient buffers.
  std::vector<size_t> weightAt_, biasAt_, weightFloats_, biasFloats_;
  size_t total_ = 0;
  std::vector<float> staging_; // host side of uploads and downloads
  DeviceBuffer weights_, grads_, workspace_;
  size_t workspaceBytes_ = 0;
};

} // namespace

std::unique_ptr<NetworkTrainer> makeCudnnTrainer(Backend& memory,
                                                 const std::vector<NetLayer>& layers,
                                                 int64_t inChannels, bool residual,
                                                 std::string* whyNot) {
  const std::string why = untrainable(layers);
  if (!why.empty()) {
    if (whyNot)
      *whyNot = why;
    return nullptr;
  }
  return std::make_unique<CudnnTrainer>(memory, layers, inChannels, residual);
}

} // namespace podm::cuda
