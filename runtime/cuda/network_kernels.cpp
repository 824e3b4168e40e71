// CUDA kernels for networks: the `network` node on cuDNN, its builder and its table line.
//
// The builder asks the node's network operator (made by the executor's NetworkProvider, as the CPU
// kernel does) for its plain description (NetworkOperator::describe), plans the steps for the
// node's input shape once (network_plan.h), uploads each distinct weight set once (stages sharing
// a file share it) and allocates the two activation buffers every stage reuses. The first launch
// creates the cuDNN handle and descriptors, picks each convolution's algorithm once (the shape is
// the node's, the same for every stage) and allocates the largest workspace. Every launch then
// runs the stage's network: convolutions on cuDNN in fp32 (FMA math, no TF32, to stay close to the
// CPU's oneDNN results), a ReLU after one fused through cudnnConvolutionBiasActivationForward,
// everything else in network.cu.
//
// Which networks come here is decided when the executor assigns backends: the probe asks the
// executor's provider whether its operators describe their layers (NetworkProvider::
// describesLayers); training's, whose weights change, do not, and their nodes stay on the host
// backend. One case is known only once the layers are planned: a tensor too large for cuDNN's
// 32-bit descriptors. Such a node runs through apply() on the host inside this kernel (input
// downloaded, the network run as on the CPU backend, output uploaded) rather than fail.
//
// Training on the GPU is network_training.cpp's (a NetworkTrainer on the same plan and helpers).
#include "ir/attr.h"
#include "ir/builder.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cudnn_conv.h"
#include "runtime/cuda/network_launch.h"
#include "runtime/cuda/network_plan.h"
#include "runtime/ir_types.h"
#include "runtime/network_provider.h"

#include <algorithm>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace podm::cuda {
namespace {

// One distinct network's weights and biases in one device buffer, with each layer's offsets in
// floats (only convolution and dense layers have them).
struct DeviceWeights {
  DeviceBuffer buffer;
  std::vector<size_t> weight, bias;
};

class CudnnNetwork;

// What one step of a launch works on.
struct StepIO {
  const CudnnNetwork& net;
  const NetStep& step;
  const ConvObjects& conv; // of this step (empty unless it is a convolution)
  const DeviceWeights& weights;
  const float* src;
  float* dst;
  const float* input; // the network's input (ConcatInput reads it)
};

// A `network` node on cuDNN: the plan, the device weights of each distinct network and the two
// activation buffers (made by the builder), the cuDNN objects (made by the first launch).
class CudnnNetwork final : public NodeState {
public:
  std::string where;
  NetPlan plan;
  std::vector<DeviceWeights> networks;
  std::vector<size_t> stageNetwork; // one entry: every stage
  DeviceBuffer buffers[2];
  Backend* memory = nullptr;

  ~CudnnNetwork() override {
    for (ConvObjects& c : convs_)
      c.destroy();
    if (relu_)
      cudnnDestroyActivationDescriptor(relu_);
    if (handle_)
      cudnnDestroy(handle_);
  }

  void run(const float* in, float* out, int64_t stage) const;

  cudnnHandle_t handle() const { return handle_; }
  cudnnActivationDescriptor_t relu() const { return relu_; }
  void* workspace() const { return workspace_.get(); }
  size_t workspaceBytes() const { return workspaceBytes_; }

private:
  void prepareCudnn() const;
  const DeviceWeights& networkOf(int64_t stage) const;

  mutable cudnnHandle_t handle_ = nullptr;
  mutable cudnnActivationDescriptor_t relu_ = nullptr;
  mutable std::vector<ConvObjects> convs_; // per step
  mutable DeviceBuffer workspace_;
  mutable size_t workspaceBytes_ = 0;
  mutable bool ready_ = false;
};

void runPad(const StepIO& io) {
  const NetStep& s = io.step;
  net::pad(io.src, io.dst, s.src.n * s.src.c, s.src.h, s.src.w, s.top, s.bottom, s.left, s.right,
           s.replicate);
}

void runConv(const StepIO& io) {
  const NetStep& s = io.step;
  const float one = 1.0f, zero = 0.0f;
  const float* base = static_cast<const float*>(io.weights.buffer.get());
  const float* w = base + io.weights.weight[s.layer];
  const float* b = base + io.weights.bias[s.layer];
  const ConvObjects& c = io.conv;
  // Fused only into the activation buffers: with alpha2 = 0 cuDNN is given dst as z, and those
  // hold finite earlier activations (zeroed at first), never whatever the node's output held.
  if (s.activation == NetActivation::ReLU && s.to != NetSlot::Output) {
    const cudnnStatus_t fused = cudnnConvolutionBiasActivationForward(
        io.net.handle(), &one, c.src, io.src, c.filter, w, c.conv, c.algo, io.net.workspace(),
        io.net.workspaceBytes(), &zero, c.dst, io.dst, c.bias, b, io.net.relu(), c.dst, io.dst);
    // The algorithm was timed for the plain convolution; should cuDNN not offer the fused form
    // for it, the plain convolution and our own bias + ReLU kernel below compute the same.
    if (fused != CUDNN_STATUS_NOT_SUPPORTED) {
      checkCudnn(fused, "cudnnConvolutionBiasActivationForward");
      return;
    }
  }
  checkCudnn(cudnnConvolutionForward(io.net.handle(), &one, c.src, io.src, c.filter, w, c.conv,
                                     c.algo, io.net.workspace(), io.net.workspaceBytes(), &zero,
                                     c.dst, io.dst),
             "cudnnConvolutionForward");
  net::biasActivation(io.dst, b, s.dst.numel(), s.dst.c, s.dst.plane(),
                      static_cast<int>(s.activation), s.alpha);
}

void runActivation(const StepIO& io) {
  net::activation(io.src, io.dst, io.step.dst.numel(), static_cast<int>(io.step.activation),
                  io.step.alpha);
}

void runUpsample(const StepIO& io) {
  const NetStep& s = io.step;
  net::upsample(io.src, io.dst, s.src.n * s.src.c, s.src.h, s.src.w, s.factor);
}

void runConcat(const StepIO& io) {
  const NetStep& s = io.step;
  net::concatInput(io.src, io.input, io.dst, s.src.n, s.src.c, s.dst.c - s.src.c, s.src.plane());
}

void runCopy(const StepIO& io) {
  checkCuda(cudaMemcpy(io.dst, io.src, static_cast<size_t>(io.step.dst.numel()) * sizeof(float),
                       cudaMemcpyDeviceToDevice),
            "network copy");
}

// Indexed by NetStepKind.
static_assert(static_cast<int>(NetStepKind::Copy) == kNetStepKinds - 1);
using StepRunner = void (*)(const StepIO&);
constexpr StepRunner kStepRunners[kNetStepKinds] = {runPad,      runConv,   runActivation,
                                                    runUpsample, runConcat, runCopy};

void CudnnNetwork::prepareCudnn() const {
  if (ready_)
    return;
  if (!handle_)
    checkCudnn(cudnnCreate(&handle_), "cudnnCreate");
  if (!relu_) {
    checkCudnn(cudnnCreateActivationDescriptor(&relu_), "cudnnCreateActivationDescriptor");
    checkCudnn(
        cudnnSetActivationDescriptor(relu_, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
        "cudnnSetActivationDescriptor");
  }
  convs_.resize(plan.steps.size());
  size_t workspace = 0;
  for (size_t k = 0; k < plan.steps.size(); ++k)
    if (plan.steps[k].kind == NetStepKind::Conv) {
      configureConv(handle_, plan.steps[k], convs_[k]);
      workspace = std::max(workspace, convs_[k].workspaceBytes);
    }
  if (workspace > workspaceBytes_) {
    workspace_ = DeviceBuffer(*memory, workspace);
    workspaceBytes_ = workspace;
  }
  for (int slot = 0; slot < 2; ++slot)
    if (buffers[slot])
      checkCuda(cudaMemset(buffers[slot].get(), 0,
                           static_cast<size_t>(plan.bufferFloats[slot]) * sizeof(float)),
                "network buffers");
  ready_ = true;
}

const DeviceWeights& CudnnNetwork::networkOf(int64_t stage) const {
  const size_t l = stage < 0 ? 0 : static_cast<size_t>(stage);
  if (stageNetwork.size() == 1)
    return networks[stageNetwork[0]];
  if (l >= stageNetwork.size())
    throw std::runtime_error(where + ": stage " + std::to_string(l + 1) + " has no weight file (" +
                             std::to_string(stageNetwork.size()) + " given)");
  return networks[stageNetwork[l]];
}

void CudnnNetwork::run(const float* in, float* out, int64_t stage) const {
  const DeviceWeights& weights = networkOf(stage);
  prepareCudnn();
  auto source = [&](NetSlot s) -> const float* {
    return s == NetSlot::Input ? in : static_cast<const float*>(buffers[int(s)].get());
  };
  auto target = [&](NetSlot s) {
    return s == NetSlot::Output ? out : static_cast<float*>(buffers[int(s)].get());
  };
  for (size_t k = 0; k < plan.steps.size(); ++k) {
    const NetStep& s = plan.steps[k];
    kStepRunners[static_cast<int>(s.kind)](
        StepIO{*this, s, convs_[k], weights, source(s.from), target(s.to), in});
  }
  if (plan.residual)
    net::residual(in, out, plan.out.numel());
}

void cudnnNetworkLaunch(const LaunchArgs& args) {
  const auto& s = *static_cast<const CudnnNetwork*>(args.state);
  try {
    s.run(static_cast<const float*>(args.in[0]), static_cast<float*>(args.out), args.stage);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw std::runtime_error(what.rfind(s.where, 0) == 0 ? what : s.where + ": " + what);
  }
}

// A network run through its operator on the host (see the top of this file).
class HostNetwork final : public NodeState {
public:
  std::unique_ptr<NetworkOperator> op;
  Backend* memory = nullptr;
  std::string where;
  mutable Tensor in, out;
};

void hostNetworkLaunch(const LaunchArgs& args) {
  const auto& s = *static_cast<const HostNetwork*>(args.state);
  s.memory->download(s.in.data(), DevicePtr{const_cast<void*>(args.in[0])}, s.in.bytes());
  const int64_t expected = s.out.numel();
  try {
    s.op->apply(s.in, args.stage < 0 ? 0 : args.stage, s.out);
  } catch (const std::exception& e) {
    throw std::runtime_error(s.where + ": " + e.what());
  }
  if (s.out.numel() != expected)
    throw std::runtime_error(s.where + ": the network's output " + s.out.shape().str() +
                             " does not have the node's " + std::to_string(expected) + " elements");
  s.memory->upload(DevicePtr{args.out}, s.out.data(), s.out.bytes());
}

// The device copy of each distinct weight set of `d`, and each stage's index into it. Weight sets
// with the same pointers (a provider that lists one per stage) are uploaded once.
void uploadWeights(Backend& memory, const NetworkDescription& d, CudnnNetwork& state) {
  constexpr size_t kAlign = 64; // floats: every layer's weights start 256-byte aligned
  auto aligned = [](size_t floats) { return (floats + kAlign - 1) / kAlign * kAlign; };
  auto sameWeights = [](const std::vector<NetLayer>& a, const std::vector<NetLayer>& b) {
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].weight != b[i].weight || a[i].bias != b[i].bias)
        return false;
    return true;
  };
  std::vector<size_t> uploaded; // description index -> device network
  for (size_t k = 0; k < d.networks.size(); ++k) {
    const std::vector<NetLayer>& layers = d.networks[k];
    size_t same = 0;
    while (same < k && !sameWeights(d.networks[same], layers))
      ++same;
    if (same < k) {
      uploaded.push_back(uploaded[same]);
      continue;
    }
    DeviceWeights w;
    w.weight.assign(layers.size(), 0);
    w.bias.assign(layers.size(), 0);
    size_t total = 0;
    for (const NetStep& s : state.plan.steps)
      if (s.kind == NetStepKind::Conv) {
        w.weight[s.layer] = total;
        total += aligned(static_cast<size_t>(s.dst.c * s.src.c * s.kh * s.kw));
        w.bias[s.layer] = total;
        total += aligned(static_cast<size_t>(s.dst.c));
      }
    std::vector<float> host(std::max<size_t>(total, 1), 0.0f);
    for (const NetStep& s : state.plan.steps)
      if (s.kind == NetStepKind::Conv) {
        const NetLayer& l = layers[s.layer];
        std::copy_n(l.weight, s.dst.c * s.src.c * s.kh * s.kw, host.begin() + w.weight[s.layer]);
        if (l.bias) // no bias: the zeros already there
          std::copy_n(l.bias, s.dst.c, host.begin() + w.bias[s.layer]);
      }
    w.buffer = DeviceBuffer(memory, host.size() * sizeof(float));
    memory.upload(w.buffer.ptr(), host.data(), host.size() * sizeof(float));
    uploaded.push_back(state.networks.size());
    state.networks.push_back(std::move(w));
  }
  const std::vector<int64_t> stages =
      d.stageNetwork.empty() ? std::vector<int64_t>{0} : d.stageNetwork;
  for (int64_t k : stages) {
    if (k < 0 || static_cast<size_t>(k) >= d.networks.size())
      throw std::runtime_error("the description maps a stage to network " + std::to_string(k) +
                               " of " + std::to_string(d.networks.size()));
    state.stageNetwork.push_back(uploaded[static_cast<size_t>(k)]);
  }
}

// Every network of `d` has the architecture of the first, and weights where it needs them.
void checkDescription(const NetworkDescription& d) {
  const std::vector<NetLayer>& first = d.networks[0];
  for (const std::vector<NetLayer>& layers : d.networks) {
    if (layers.size() != first.size())
      throw std::runtime_error("the description's networks differ in depth");
    for (size_t i = 0; i < layers.size(); ++i) {
      if (!sameArchitecture(layers[i], first[i]))
        throw std::runtime_error("the description's networks differ at layer " + std::to_string(i));
      const bool weighted =
          layers[i].kind == NetLayerKind::Conv || layers[i].kind == NetLayerKind::Dense;
      if (weighted && !layers[i].weight)
        throw std::runtime_error("layer " + std::to_string(i) +
                                 " of the description has no "
                                 "weights");
    }
  }
}

CudaKernel hostNetwork(const CudaBuildContext& c, std::unique_ptr<NetworkOperator> op,
                       const std::string& where) {
  auto s = std::make_unique<HostNetwork>();
  s->in = Tensor(toShape(c.operand(0)));
  s->out = Tensor(toShape(c.result()));
  s->memory = c.allocator;
  s->where = where;
  s->op = std::move(op);
  CudaKernel k;
  k.launch = hostNetworkLaunch;
  k.n = c.result().numel();
  k.state = std::move(s);
  return k;
}

CudaKernel buildNetwork(const CudaBuildContext& c) {
  CudaKernel k;
  if (!c.operand(0).isRealTensor() || !c.result().isRealTensor())
    return k;
  const NetworkProvider* provider =
      c.context && c.context->network ? c.context->network : defaultNetworkProvider();
  if (provider && !provider->describesLayers()) {
    k.unsupported = "the executor's network provider makes operators that do not describe their "
                    "layers (training's, whose weights change): apply() runs them on the host";
    return k;
  }
  k.launch = cudnnNetworkLaunch;
  k.n = c.result().numel();
  if (!c.allocator)
    return k; // probing: whether the plan fits is known only with the operator

  const ir::Attrs& a = c.node().attrs;
  NetworkDesc desc{a.getString("net"), a.getString("spec"),
                   ir::splitWeightPaths(a.getString("weights")),
                   a.has("prefix") ? a.getString("prefix") : std::string()};
  const std::string node = ir::describeNode(c.id.index, c.node().op, c.node().label);
  const std::string where = node + " network '" + desc.name + "'";
  if (!provider)
    throw std::runtime_error(node + ": network '" + desc.name +
                             "' needs a network provider; the podm command installs the "
                             "network library's, programs embedding the runtime call "
                             "setDefaultNetworkProvider or pass ExecutorOptions::network");
  std::unique_ptr<NetworkOperator> op;
  NetworkDescription d;
  try {
    op = provider->make(desc);
    if (!op)
      throw std::runtime_error("the network provider has no such network");
    d = op->describe();
  } catch (const std::exception& e) {
    throw std::runtime_error(where + ": " + e.what());
  }
  const Shape in = toShape(c.operand(0));
  auto onHost = [&] {
    try {
      op->prepare(in); // errors surface now, as on the CPU backend
    } catch (const std::exception& e) {
      throw std::runtime_error(where + ": " + e.what());
    }
    return hostNetwork(c, std::move(op), where);
  };
  if (!d.available())
    throw std::runtime_error(where + ": its provider says it describes its layers, but " +
                             (d.unavailable.empty() ? std::string("it does not") : d.unavailable));

  auto s = std::make_unique<CudnnNetwork>();
  s->where = where;
  s->memory = c.allocator;
  try {
    checkDescription(d);
    s->plan = planNetwork(d.networks[0], d.inChannels, d.residual, NetDims{in.n, in.c, in.h, in.w});
    if (s->plan.out.numel() != c.result().numel())
      throw std::runtime_error("the network's output " + s->plan.out.str() +
                               " does not have the node's " + std::to_string(c.result().numel()) +
                               " elements");
    if (!fitsCudnn(s->plan, nullptr))
      return onHost();
    uploadWeights(*c.allocator, d, *s);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw std::runtime_error(what.rfind(where, 0) == 0 ? what : where + ": " + what);
  }
  for (int slot = 0; slot < 2; ++slot)
    if (s->plan.bufferFloats[slot] > 0)
      s->buffers[slot] = DeviceBuffer(
          *c.allocator, static_cast<size_t>(s->plan.bufferFloats[slot]) * sizeof(float));
  k.state = std::move(s);
  return k;
}

} // namespace

void registerNetworkKernels(CudaKernelTable& t) {
  t.add(ir::Op::Network, buildNetwork);
}

} // namespace podm::cuda
