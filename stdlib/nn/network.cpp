// Network descriptions (layers, the language's templates), validation of the layer chain, and
// weight binding with batch-norm folding. Execution is in onednn_exec.cpp.
#include "stdlib/nn/network.h"

#include "stdlib/nn/keras_hdf5.h"
#include "stdlib/nn/network_impl.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace podm::nn {

namespace {

std::string layerText(const Layer& l) {
  auto s = [](int64_t v) { return std::to_string(v); };
  switch (l.kind) {
  case LayerKind::Conv2d:
    return "conv " + s(l.in) + "->" + s(l.out) + " k" + s(l.kernel) + " d" + s(l.dilation) +
           (l.stride != 1 ? " s" + s(l.stride) : "") +
           (l.padding == Padding::Valid       ? " valid"
            : l.padding == Padding::Replicate ? " replicate"
                                              : "") +
           (l.bias ? "" : " nobias");
  case LayerKind::BatchNorm:
    return "batchnorm " + s(l.in);
  case LayerKind::ReLU:
    return "relu";
  case LayerKind::ELU:
    return "elu " + std::to_string(l.alpha);
  case LayerKind::LeakyReLU:
    return "leaky_relu " + std::to_string(l.alpha);
  case LayerKind::Upsample:
    return "upsample x" + s(l.factor);
  case LayerKind::ConcatInput:
    return "concat_input " + s(l.in) + "->" + s(l.out);
  case LayerKind::Dense:
    return "dense " + s(l.in) + "->" + s(l.out);
  }
  return "?";
}

[[noreturn]] void specError(const std::string& what) {
  throw WeightsError("network: " + what);
}

} // namespace

std::string NetworkSpec::str() const {
  std::string out = residual ? "residual x - net(x), " : "";
  out += "in " + std::to_string(inChannels) + "\n";
  for (size_t i = 0; i < layers.size(); ++i)
    out += "  " + std::to_string(i) + ": " + layerText(layers[i]) + "\n";
  return out;
}

NetworkSpec dilatedCnn(int64_t depth, int64_t channels, const std::vector<int64_t>& dilations,
                       int64_t in) {
  if (depth < 2 || static_cast<int64_t>(dilations.size()) != depth)
    specError("dilated_cnn needs depth >= 2 and one dilation per layer (depth " +
              std::to_string(depth) + ", " + std::to_string(dilations.size()) + " dilations)");
  NetworkSpec s;
  s.inChannels = in;
  for (int64_t i = 0; i < depth; ++i) {
    s.layers.push_back(Layer::conv(i == 0 ? in : channels, i == depth - 1 ? in : channels, 3,
                                   dilations[static_cast<size_t>(i)]));
    if (i != depth - 1)
      s.layers.push_back(Layer::relu());
  }
  return s;
}

NetworkSpec eluCnn(int64_t depth, int64_t channels, int64_t in) {
  if (depth < 2)
    specError("elu_cnn needs depth >= 2");
  NetworkSpec s;
  s.inChannels = in;
  for (int64_t i = 0; i < depth; ++i) {
    s.layers.push_back(Layer::conv(i == 0 ? in : channels, i == depth - 1 ? in : channels, 3, 1));
    if (i != depth - 1)
      s.layers.push_back(Layer::elu(1.0f));
  }
  return s;
}

NetworkSpec residual(NetworkSpec net) {
  net.residual = true;
  return net;
}

NetworkSpec mlp(int64_t in, const std::vector<int64_t>& hidden, int64_t out) {
  NetworkSpec s;
  s.inChannels = in;
  int64_t cur = in;
  for (int64_t h : hidden) {
    s.layers.push_back(Layer::dense(cur, h));
    s.layers.push_back(Layer::relu());
    cur = h;
  }
  s.layers.push_back(Layer::dense(cur, out));
  return s;
}

std::string Network::Impl::describe(size_t i) const {
  std::string name = prefixes[i].empty() ? "" : " '" + prefixes[i] + "'";
  return "layer " + std::to_string(i) + name + " (" + layerText(spec.layers[i]) + ")";
}

Network::Network(NetworkSpec spec) : impl_(std::make_unique<Impl>()) {
  impl_->spec = std::move(spec);
  const NetworkSpec& s = impl_->spec;
  if (s.inChannels < 1)
    specError("input channels must be positive");
  int convs = 0, bns = 0, fcs = 0;
  int64_t channels = s.inChannels;
  std::set<std::string> names;
  for (size_t i = 0; i < s.layers.size(); ++i) {
    const Layer& l = s.layers[i];
    std::string auto_;
    impl_->prefixes.push_back("");
    auto where = [&] { return impl_->describe(i); };
    switch (l.kind) {
    case LayerKind::Conv2d:
      auto_ = "conv" + std::to_string(convs++);
      if (l.kernel < 1 || l.dilation < 1 || l.stride < 1 || l.out < 1)
        specError(where() + ": kernel, dilation, stride and channels must be positive");
      break;
    case LayerKind::BatchNorm:
      auto_ = "bn" + std::to_string(bns++);
      if (i == 0 || s.layers[i - 1].kind != LayerKind::Conv2d)
        specError(where() +
                  ": batch norm must directly follow a convolution (it is folded into it)");
      break;
    case LayerKind::Dense:
      auto_ = "fc" + std::to_string(fcs++);
      if (l.out < 1 || l.in < 1)
        specError(where() + ": features must be positive");
      break;
    case LayerKind::Upsample:
      if (l.factor < 1 || l.factor > 64)
        specError(where() + ": factor must be in 1..64");
      break;
    default:
      break;
    }
    bool hasWeights = !auto_.empty();
    if (hasWeights) {
      impl_->prefixes[i] = l.name.empty() ? auto_ : l.name;
      if (!names.insert(impl_->prefixes[i]).second)
        specError(where() + ": duplicate layer name '" + impl_->prefixes[i] + "'");
    }
    if ((l.kind == LayerKind::Conv2d || l.kind == LayerKind::BatchNorm ||
         l.kind == LayerKind::ConcatInput) &&
        l.in != channels)
      specError(where() + ": expects " + std::to_string(l.in) + " input channels but receives " +
                std::to_string(channels));
    if (l.kind == LayerKind::ConcatInput && l.out != l.in + s.inChannels)
      specError(where() + ": output channels must be current + input channels");
    if (l.kind == LayerKind::Conv2d || l.kind == LayerKind::ConcatInput ||
        l.kind == LayerKind::Dense)
      channels = l.out;
  }
  if (s.residual && channels != s.inChannels)
    specError("residual output needs as many output channels (" + std::to_string(channels) +
              ") as input channels (" + std::to_string(s.inChannels) + ")");
  impl_->params.resize(s.layers.size());
}

Network::~Network() = default;
Network::Network(Network&&) noexcept = default;
Network& Network::operator=(Network&&) noexcept = default;

const NetworkSpec& Network::spec() const {
  return impl_->spec;
}
bool Network::bound() const {
  return impl_->bound;
}

std::vector<TensorInfo> Network::expectedWeights() const {
  std::vector<TensorInfo> out;
  const NetworkSpec& s = impl_->spec;
  for (size_t i = 0; i < s.layers.size(); ++i) {
    const Layer& l = s.layers[i];
    const std::string& p = impl_->prefixes[i];
    if (l.kind == LayerKind::Conv2d) {
      out.push_back({p + ".weight", "F32", {l.out, l.in, l.kernel, l.kernel}});
      if (l.bias)
        out.push_back({p + ".bias", "F32", {l.out}});
    } else if (l.kind == LayerKind::Dense) {
      out.push_back({p + ".weight", "F32", {l.out, l.in}});
      if (l.bias)
        out.push_back({p + ".bias", "F32", {l.out}});
    } else if (l.kind == LayerKind::BatchNorm) {
      for (const char* n : {".weight", ".bias", ".running_mean", ".running_var"})
        out.push_back({p + n, "F32", {l.in}});
    }
  }
  return out;
}

void Network::bind(const TensorMap& weights, const std::string& prefix) {
  Impl& im = *impl_;
  std::vector<std::string> problems;
  std::set<std::string> used;
  auto get = [&](size_t layer, const std::string& name,
                 const std::vector<int64_t>& shape) -> const std::vector<float>* {
    std::string full = prefix + name;
    auto it = weights.find(full);
    if (it == weights.end()) {
      problems.push_back(im.describe(layer) + ": missing tensor '" + full + "' of shape " +
                         shapeString(shape));
      return nullptr;
    }
    used.insert(full);
    if (it->second.shape != shape ||
        it->second.data.size() != static_cast<size_t>(checkedNumel(shape))) {
      problems.push_back(im.describe(layer) + ": tensor '" + full + "' has shape " +
                         shapeString(it->second.shape) + " but the layer needs " +
                         shapeString(shape));
      return nullptr;
    }
    return &it->second.data;
  };
  std::vector<LayerParams> params(im.spec.layers.size());
  for (size_t i = 0; i < im.spec.layers.size(); ++i) {
    const Layer& l = im.spec.layers[i];
    const std::string& p = im.prefixes[i];
    if (l.kind == LayerKind::Conv2d || l.kind == LayerKind::Dense) {
      std::vector<int64_t> ws = l.kind == LayerKind::Conv2d
                                    ? std::vector<int64_t>{l.out, l.in, l.kernel, l.kernel}
                                    : std::vector<int64_t>{l.out, l.in};
      if (const auto* w = get(i, p + ".weight", ws))
        params[i].weight = *w;
      params[i].bias.assign(static_cast<size_t>(l.out), 0.0f);
      if (l.bias)
        if (const auto* b = get(i, p + ".bias", {l.out}))
          params[i].bias = *b;
    } else if (l.kind == LayerKind::BatchNorm) {
      const auto* g = get(i, p + ".weight", {l.in});
      const auto* b = get(i, p + ".bias", {l.in});
      const auto* m = get(i, p + ".running_mean", {l.in});
      const auto* v = get(i, p + ".running_var", {l.in});
      // PyTorch state dicts carry this counter; it plays no part in inference.
      if (weights.count(prefix + p + ".num_batches_tracked"))
        used.insert(prefix + p + ".num_batches_tracked");
      LayerParams& conv = params[i - 1]; // validated: a conv precedes every batch norm
      if (g && b && m && v && !conv.weight.empty()) {
        size_t per = conv.weight.size() / static_cast<size_t>(l.in);
        for (size_t o = 0; o < static_cast<size_t>(l.in); ++o) {
          if (!((*v)[o] + l.eps > 0))
            problems.push_back(im.describe(i) + ": running_var + eps is not positive at channel " +
                               std::to_string(o));
          float scale = (*g)[o] / std::sqrt((*v)[o] + l.eps);
          for (size_t k = 0; k < per; ++k)
            conv.weight[o * per + k] *= scale;
          conv.bias[o] = (conv.bias[o] - (*m)[o]) * scale + (*b)[o];
        }
      }
    }
  }
  // `param.*` tensors are the model's learnable parameters (mlp weights, filters) stored next to
  // the network's weights; `podm run` binds them to the graph, not to a layer.
  for (const auto& [name, t] : weights)
    if (name.compare(0, prefix.size(), prefix) == 0 && !used.count(name) &&
        name.compare(0, 6, "param.") != 0)
      problems.push_back("tensor '" + name + "' of shape " + shapeString(t.shape) +
                         " is not used by any layer");
  if (!problems.empty()) {
    std::string msg = "cannot bind weights:";
    for (const std::string& p : problems)
      msg += "\n  " + p;
    throw WeightsError(msg);
  }
  im.params = std::move(params);
  im.bound = true;
  dnnlClear(*im.dnnl);
}

Shape Network::outputShape(const Shape& in) const {
  const NetworkSpec& s = impl_->spec;
  // A network that starts with a dense layer takes any C×H×W with the right feature count.
  bool flatInput = !s.layers.empty() && s.layers[0].kind == LayerKind::Dense;
  if (!flatInput && in.c != s.inChannels)
    throw WeightsError("network: input has " + std::to_string(in.c) + " channels, the network " +
                       std::to_string(s.inChannels));
  if (in.n < 1 || in.h < 1 || in.w < 1)
    throw WeightsError("network: empty input " + in.str());
  Shape cur = in;
  for (size_t i = 0; i < s.layers.size(); ++i) {
    const Layer& l = s.layers[i];
    if (l.kind == LayerKind::Conv2d) {
      int64_t extent = l.dilation * (l.kernel - 1) + 1;
      if (l.padding != Padding::Valid) {
        cur.h = (cur.h + l.stride - 1) / l.stride;
        cur.w = (cur.w + l.stride - 1) / l.stride;
      } else {
        if (cur.h < extent || cur.w < extent)
          throw WeightsError("network: " + impl_->describe(i) + ": input " + cur.str() +
                             " smaller than the kernel extent " + std::to_string(extent));
        cur.h = (cur.h - extent) / l.stride + 1;
        cur.w = (cur.w - extent) / l.stride + 1;
      }
      cur.c = l.out;
    } else if (l.kind == LayerKind::Dense) {
      if (cur.c * cur.h * cur.w != l.in)
        throw WeightsError("network: " + impl_->describe(i) + ": receives " +
                           std::to_string(cur.c * cur.h * cur.w) + " features (" + cur.str() + ")");
      cur = Shape{cur.n, l.out, 1, 1};
    } else if (l.kind == LayerKind::Upsample) {
      cur.h *= l.factor;
      cur.w *= l.factor;
    } else if (l.kind == LayerKind::ConcatInput) {
      if (cur.h != in.h || cur.w != in.w)
        throw WeightsError("network: " + impl_->describe(i) + ": spatial size " + cur.str() +
                           " differs from the input " + in.str());
      cur.c = l.out;
    }
  }
  if (s.residual && !(cur == in))
    throw WeightsError("network: residual output shape " + cur.str() + " differs from input " +
                       in.str());
  return cur;
}

double Network::flops(const Shape& in) const {
  double total = 0;
  Shape cur = in;
  const NetworkSpec& s = impl_->spec;
  for (const Layer& l : s.layers) {
    NetworkSpec one;
    one.inChannels = cur.c;
    one.layers = {l};
    if (l.kind == LayerKind::Conv2d) {
      Shape o = Network(one).outputShape(cur);
      total += 2.0 * double(o.numel()) * double(l.in * l.kernel * l.kernel);
      cur = o;
    } else if (l.kind == LayerKind::Dense) {
      total += 2.0 * double(in.n) * double(l.in) * double(l.out);
      cur = Shape{cur.n, l.out, 1, 1};
    } else if (l.kind == LayerKind::Upsample) {
      cur.h *= l.factor;
      cur.w *= l.factor;
    } else if (l.kind == LayerKind::ConcatInput) {
      cur.c = l.out;
    }
  }
  return total;
}

void Network::forward(const Tensor& in, Tensor& out) {
  if (!impl_->bound)
    throw WeightsError("network: forward before weights were bound");
  if (in.dtype() != DType::F32 || in.empty())
    throw WeightsError("network: input must be a non-empty f32 tensor");
  Shape os = outputShape(in.shape());
  if (out.empty() || out.dtype() != DType::F32 || !(out.shape() == os))
    out = Tensor(os);
  dnnlForward(*impl_, in, out, os);
}

size_t sharedActivationBytes() {
  return dnnlSharedActivationBytes();
}

bool bf16Supported() {
  return dnnlHasBf16();
}

void Network::setPrecision(Precision p) {
  if (p == impl_->precision)
    return;
  if (p == Precision::BF16) {
    if (!bf16Supported())
      throw WeightsError("network: this CPU has no native bf16 arithmetic (AVX512_BF16 or AMX)");
    for (const Layer& l : impl_->spec.layers)
      if (l.kind == LayerKind::ConcatInput)
        throw WeightsError("network: bf16 is not available for networks that concatenate "
                           "their input");
  }
  impl_->precision = p;
  dnnlClear(*impl_->dnnl);
}

Precision Network::precision() const {
  return impl_->precision;
}

void Network::prepare(const Shape& in) {
  if (!impl_->bound)
    throw WeightsError("network: planned before weights were bound");
  dnnlPrepare(*impl_, in, outputShape(in));
}

size_t Network::weightBytes() const {
  size_t floats = 0;
  for (const LayerParams& p : impl_->params)
    floats += p.weight.size() + p.bias.size();
  return floats * sizeof(float);
}

size_t Network::cachedShapes() const {
  return dnnlCachedShapes(*impl_->dnnl);
}

namespace {

bool isActivation(LayerKind k) {
  return k == LayerKind::ReLU || k == LayerKind::ELU || k == LayerKind::LeakyReLU;
}

NetActivation plainActivation(LayerKind k) {
  return k == LayerKind::ELU         ? NetActivation::ELU
         : k == LayerKind::LeakyReLU ? NetActivation::LeakyReLU
                                     : NetActivation::ReLU;
}

NetPadding plainPadding(Padding p) {
  return p == Padding::Valid       ? NetPadding::Valid
         : p == Padding::Replicate ? NetPadding::Replicate
                                   : NetPadding::Same;
}

} // namespace

std::vector<NetLayer> plainArchitecture(const NetworkSpec& spec, std::vector<size_t>* sourceLayer) {
  const auto& layers = spec.layers;
  std::vector<NetLayer> out;
  if (sourceLayer)
    sourceLayer->clear();
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    const size_t source = i;
    NetLayer p;
    p.in = l.in;
    p.out = l.out;
    switch (l.kind) {
    case LayerKind::BatchNorm:
      continue; // folded into the convolution before it at bind time
    case LayerKind::Conv2d:
    case LayerKind::Dense: {
      p.kind = l.kind == LayerKind::Conv2d ? NetLayerKind::Conv : NetLayerKind::Dense;
      p.kernel = l.kernel;
      p.dilation = l.dilation;
      p.stride = l.stride;
      p.padding = plainPadding(l.padding);
      // The activation it absorbs, as the oneDNN plan fuses it (onednn_exec.cpp).
      size_t next = i + 1;
      if (next < layers.size() && layers[next].kind == LayerKind::BatchNorm)
        ++next;
      if (next < layers.size() && isActivation(layers[next].kind)) {
        p.activation = plainActivation(layers[next].kind);
        p.alpha = layers[next].kind == LayerKind::ReLU ? 0.0f : layers[next].alpha;
        i = next;
      }
      break;
    }
    case LayerKind::ReLU:
    case LayerKind::ELU:
    case LayerKind::LeakyReLU:
      p.kind = NetLayerKind::Activation;
      p.activation = plainActivation(l.kind);
      p.alpha = l.kind == LayerKind::ReLU ? 0.0f : l.alpha;
      break;
    case LayerKind::Upsample:
      p.kind = NetLayerKind::Upsample;
      p.factor = l.factor;
      break;
    case LayerKind::ConcatInput:
      p.kind = NetLayerKind::ConcatInput;
      break;
    }
    out.push_back(p);
    if (sourceLayer)
      sourceLayer->push_back(source);
  }
  return out;
}

std::vector<NetLayer> Network::plainLayers() const {
  if (!impl_->bound)
    throw WeightsError("network: described before weights were bound");
  std::vector<size_t> source;
  std::vector<NetLayer> out = plainArchitecture(impl_->spec, &source);
  for (size_t k = 0; k < out.size(); ++k)
    if (out[k].kind == NetLayerKind::Conv || out[k].kind == NetLayerKind::Dense) {
      out[k].weight = impl_->params[source[k]].weight.data();
      out[k].bias = impl_->params[source[k]].bias.data(); // zeros when the layer has no bias
    }
  return out;
}

// The error of a weight file, prefixed with its path unless it already names it.
WeightsError fileError(const std::string& path, const WeightsError& e) {
  std::string what = e.what();
  return WeightsError(what.rfind(path, 0) == 0 ? what : path + ": " + what);
}

Network networkFromKeras(NetworkSpec spec, const KerasModel& m, const std::string& path,
                         const std::string& prefix) {
  Network net(std::move(spec));
  try {
    // A Keras file records its architecture: check it, since a network with other dilations
    // (or activations) has the same tensor shapes and would bind silently.
    const auto& mine = net.spec().layers;
    for (size_t i = 0; i < std::max(mine.size(), m.spec.layers.size()); ++i) {
      std::string want = i < mine.size() ? layerText(mine[i]) : "nothing";
      std::string have = i < m.spec.layers.size() ? layerText(m.spec.layers[i]) : "nothing";
      if (want != have)
        throw WeightsError("the file's model_config differs from the network at layer " +
                           std::to_string(i) + ": the file has '" + have + "', the network '" +
                           want + "'");
    }
    net.bind(m.weights, prefix);
  } catch (const WeightsError& e) {
    throw fileError(path, e);
  }
  return net;
}

Network loadNetwork(NetworkSpec spec, const std::string& path, const std::string& prefix) {
  if (isHdf5File(path)) {
    KerasModel m;
    try {
      m = readKerasHdf5(path);
    } catch (const WeightsError& e) {
      throw fileError(path, e);
    }
    return networkFromKeras(std::move(spec), m, path, prefix);
  }
  Network net(std::move(spec));
  try {
    net.bind(loadWeights(path), prefix);
  } catch (const WeightsError& e) {
    throw fileError(path, e);
  }
  return net;
}

} // namespace podm::nn
