// TrainableNetwork (see trainable_network.h): layer validation through the inference Network of
// the same spec (so names, shapes and messages agree with what `podm run` binds), parameters,
// He initialisation and binding. The oneDNN forward/backward plans are in onednn_backward.cpp.
#include "stdlib/nn/trainable_impl.h"

#include <cmath>
#include <random>

namespace podm::nn {

namespace {

// Where a parameter's expected weight shape ([O, I, k, k], [out, in], [out]) lives in a Shape.
Shape tensorShape(const std::vector<int64_t>& s) {
  if (s.size() == 4)
    return Shape{s[0], s[1], s[2], s[3]};
  if (s.size() == 2)
    return Shape{1, 1, s[0], s[1]};
  return Shape{1, 1, 1, s.at(0)};
}

// One entry per layer of the device trainer's plain architecture: the weight and bias tensors
// (`field` of their Parameters: value or grad) of the spec layer it came from; null where none.
template <class Entry>
std::vector<Entry> perPlainLayer(TrainableNetwork::Impl& im, Tensor Parameter::*field) {
  std::vector<Entry> out(im.plainSource.size());
  for (size_t k = 0; k < out.size(); ++k) {
    const size_t l = im.plainSource[k];
    if (im.weight[l])
      out[k].weight = (im.weight[l]->*field).data();
    if (im.bias[l])
      out[k].bias = (im.bias[l]->*field).data();
  }
  return out;
}

const char* untrainable(LayerKind k) {
  switch (k) {
  case LayerKind::BatchNorm:
    return "batch norm layers are folded into the convolution at load time and cannot be "
           "trained; remove them from the architecture to train it";
  case LayerKind::Upsample:
    return "upsample layers are not supported in training";
  case LayerKind::ConcatInput:
    return "concat_input layers are not supported in training";
  default:
    return nullptr;
  }
}

} // namespace

TrainableNetwork::TrainableNetwork(NetworkSpec spec, std::string paramPrefix)
    : impl_(std::make_unique<Impl>(std::move(spec))) {
  Impl& im = *impl_;
  const auto& layers = im.spec.layers;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    std::string where = "network layer " + std::to_string(i);
    if (const char* why = untrainable(l.kind))
      throw WeightsError(where + ": " + why);
    if ((l.kind == LayerKind::ELU || l.kind == LayerKind::LeakyReLU) && l.alpha < 0)
      throw WeightsError(where + ": training needs a non-negative activation alpha (the "
                                 "backward pass recovers the derivative from the output)");
  }
  // Expected weights come in layer order, weight then bias, for conv and dense layers.
  std::vector<TensorInfo> expected = im.oracle.expectedWeights();
  im.weight.assign(layers.size(), nullptr);
  im.bias.assign(layers.size(), nullptr);
  size_t k = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    if (l.kind != LayerKind::Conv2d && l.kind != LayerKind::Dense)
      continue;
    for (int part = 0; part < (l.bias ? 2 : 1); ++part) {
      const TensorInfo& t = expected.at(k++);
      Shape s = tensorShape(t.shape);
      im.params.push_back(
          std::make_unique<Parameter>(Parameter{paramPrefix + t.name, Tensor(s), Tensor(s)}));
      (part == 0 ? im.weight : im.bias)[i] = im.params.back().get();
    }
  }
}

TrainableNetwork::~TrainableNetwork() = default;
TrainableNetwork::TrainableNetwork(TrainableNetwork&&) noexcept = default;
TrainableNetwork& TrainableNetwork::operator=(TrainableNetwork&&) noexcept = default;

const NetworkSpec& TrainableNetwork::spec() const {
  return impl_->spec;
}
std::vector<TensorInfo> TrainableNetwork::expectedWeights() const {
  return impl_->oracle.expectedWeights();
}

void TrainableNetwork::initialize(uint64_t seed) {
  std::mt19937_64 rng(seed);
  // Box–Muller on the raw 64-bit stream: std::normal_distribution differs between standard
  // libraries, and a seed must give the same network everywhere.
  auto uniform = [&] { return (double(rng() >> 11) + 1.0) * 0x1.0p-53; }; // (0, 1]
  const double twoPi = 6.283185307179586;
  Impl& im = *impl_;
  for (size_t i = 0; i < im.spec.layers.size(); ++i) {
    if (Parameter* b = im.bias[i])
      b->value.fill(0.0f);
    Parameter* w = im.weight[i];
    if (!w)
      continue;
    const Layer& l = im.spec.layers[i];
    double fanIn = l.kind == LayerKind::Conv2d ? double(l.in * l.kernel * l.kernel) : double(l.in);
    double sd = std::sqrt(2.0 / fanIn);
    float* v = w->value.data();
    for (int64_t k = 0; k < w->value.numel(); k += 2) {
      double r = std::sqrt(-2.0 * std::log(uniform())), th = twoPi * uniform();
      v[k] = float(sd * r * std::cos(th));
      if (k + 1 < w->value.numel())
        v[k + 1] = float(sd * r * std::sin(th));
    }
  }
}

void TrainableNetwork::bind(const TensorMap& weights, const std::string& prefix) {
  Impl& im = *impl_;
  // The inference network's bind does every check (missing, extra, shapes) with its messages.
  im.oracle.bind(weights, prefix);
  std::vector<TensorInfo> expected = im.oracle.expectedWeights();
  size_t k = 0;
  for (size_t i = 0; i < im.spec.layers.size(); ++i)
    for (Parameter* p : {im.weight[i], im.bias[i]}) {
      if (!p)
        continue;
      const HostTensor& t = weights.at(prefix + expected.at(k++).name);
      std::copy(t.data.begin(), t.data.end(), p->value.data());
    }
}

TensorMap TrainableNetwork::weights(const std::string& prefix) const {
  const Impl& im = *impl_;
  TensorMap out;
  std::vector<TensorInfo> expected = im.oracle.expectedWeights();
  size_t k = 0;
  for (size_t i = 0; i < im.spec.layers.size(); ++i)
    for (const Parameter* p : {im.weight[i], im.bias[i]}) {
      if (!p)
        continue;
      const TensorInfo& t = expected.at(k++);
      out[prefix + t.name] = HostTensor{
          t.shape, std::vector<float>(p->value.data(), p->value.data() + p->value.numel())};
    }
  return out;
}

Shape TrainableNetwork::outputShape(const Shape& in) const {
  return impl_->oracle.outputShape(in);
}

bool TrainableNetwork::trainOn(Backend& backend, std::string* whyNot) {
  Impl& im = *impl_;
  std::vector<size_t> source;
  const std::vector<NetLayer> layers = plainArchitecture(im.spec, &source);
  std::string why;
  std::unique_ptr<NetworkTrainer> trainer =
      backend.makeNetworkTrainer(layers, im.spec.inChannels, im.spec.residual, &why);
  if (!trainer) {
    if (whyNot)
      *whyNot = why;
    return false;
  }
  im.device = std::move(trainer);
  im.deviceName = backend.name();
  im.plainSource = std::move(source);
  return true;
}

std::string TrainableNetwork::device() const {
  return impl_->deviceName;
}

void TrainableNetwork::forward(const Tensor& in, Tensor& out) {
  if (in.dtype() != DType::F32 || in.empty())
    throw WeightsError("network: input must be a non-empty f32 tensor");
  Shape os = outputShape(in.shape());
  if (out.empty() || out.dtype() != DType::F32 || !(out.shape() == os))
    out = Tensor(os);
  Impl& im = *impl_;
  if (!im.device) {
    trainForward(im, in, out, os);
    return;
  }
  const std::vector<LayerWeights> weights = perPlainLayer<LayerWeights>(im, &Parameter::value);
  try {
    im.device->forward(in, weights, out);
  } catch (const std::runtime_error& e) {
    throw WeightsError(e.what());
  }
}

void TrainableNetwork::backward(const Tensor& dOut, Tensor* dIn) {
  Impl& im = *impl_;
  if (!im.device) {
    trainBackward(im, dOut, dIn);
    return;
  }
  const std::vector<LayerGrads> grads = perPlainLayer<LayerGrads>(im, &Parameter::grad);
  try {
    im.device->backward(dOut, grads, dIn);
  } catch (const std::runtime_error& e) {
    throw WeightsError(e.what());
  }
}

ParameterList TrainableNetwork::parameters() {
  ParameterList out;
  for (auto& p : impl_->params)
    out.push_back(p.get());
  return out;
}

void TrainableNetwork::zeroGrad() {
  for (auto& p : impl_->params)
    p->grad.fill(0.0f);
}

double TrainableNetwork::flops(const Shape& in) const {
  return impl_->oracle.flops(in);
}

size_t TrainableNetwork::cachedShapes() const {
  return trainCachedShapes(*impl_->dnnl);
}

} // namespace podm::nn
