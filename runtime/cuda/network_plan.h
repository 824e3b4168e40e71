// The steps that run a described network (runtime/network_provider.h's NetLayer list) on one input
// shape, as plain data: which buffer each step reads and writes, the explicit border a convolution
// needs when cuDNN cannot pad it itself, and each step's shapes. The CUDA network node
// (network_kernels.cpp) runs these steps with cuDNN and network.cu; the host tests run the same
// steps with a reference convolution and network_math.h, so the plan's geometry is checked where
// there is no GPU. Host-only and header-only (the host tests include it without the backend).
//
// Buffers: a step reads the network input or the most recent intermediate and writes the other of
// two ping-pong buffers, or the node's output when it is the last step, so a deep network needs
// two activation buffers, whatever its depth and however many stages share the node.
#pragma once

#include "runtime/network_provider.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace podm::cuda {

struct NetDims {
  int64_t n = 1, c = 1, h = 1, w = 1;
  int64_t numel() const { return n * c * h * w; }
  int64_t plane() const { return h * w; }
  bool operator==(const NetDims&) const = default;
  std::string str() const {
    return std::to_string(n) + "x" + std::to_string(c) + "x" + std::to_string(h) + "x" +
           std::to_string(w);
  }
};

enum class NetStepKind : uint8_t { Pad, Conv, Activation, Upsample, ConcatInput, Copy };
inline constexpr int kNetStepKinds = 6;

// Where a step reads or writes: the network input, a ping-pong buffer, or the node's output.
enum class NetSlot : int8_t { Input = -2, Output = -1, A = 0, B = 1 };

struct NetStep {
  NetStepKind kind = NetStepKind::Copy;
  NetSlot from = NetSlot::Input, to = NetSlot::Output;
  NetDims src, dst;
  // Conv: the layer whose weights it uses (dense layers are convolutions whose filter covers the
  // whole input: out x C x H x W, no padding).
  size_t layer = 0;
  int64_t kh = 1, kw = 1, stride = 1, dilation = 1;
  int64_t padH = 0, padW = 0; // cuDNN's symmetric zero padding
  // Conv (applied after the bias) and Activation.
  NetActivation activation = NetActivation::None;
  float alpha = 0;
  // Pad: the border around src (dst = src grown by it), zeros or the nearest pixel.
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  bool replicate = false;
  int64_t factor = 1; // Upsample
};

struct NetPlan {
  NetDims in, out;
  std::vector<NetStep> steps;
  bool residual = false;            // out = in - out after the last step
  int64_t bufferFloats[2] = {0, 0}; // of the ping-pong buffers A and B (0: never written)
  int64_t largestTensor = 0;        // elements of the largest tensor a step touches
  int64_t maxFilterFloats = 0;
};

// Fields of two layers that must agree for them to share one plan (all but the weights).
inline bool sameArchitecture(const NetLayer& a, const NetLayer& b) {
  return a.kind == b.kind && a.in == b.in && a.out == b.out && a.kernel == b.kernel &&
         a.dilation == b.dilation && a.stride == b.stride && a.padding == b.padding &&
         a.factor == b.factor && a.activation == b.activation && a.alpha == b.alpha;
}

namespace netplan_detail {

[[noreturn]] inline void misfit(size_t layer, const std::string& what) {
  throw std::runtime_error("layer " + std::to_string(layer) + ": " + what);
}

// The convolution of a 'same' or 'valid' layer on src: its output size and the total border
// (before + after, before = total / 2) along one axis, as the oneDNN plan computes them.
struct Axis {
  int64_t out = 0, before = 0, after = 0;
};
inline Axis convAxis(int64_t n, const NetLayer& l, size_t index) {
  const int64_t extent = l.dilation * (l.kernel - 1) + 1;
  Axis a;
  if (l.padding == NetPadding::Valid) {
    if (n < extent)
      misfit(index, "input size " + std::to_string(n) + " is smaller than the kernel extent " +
                        std::to_string(extent));
    a.out = (n - extent) / l.stride + 1;
    return a;
  }
  a.out = (n + l.stride - 1) / l.stride;
  const int64_t total = std::max<int64_t>((a.out - 1) * l.stride + extent - n, 0);
  a.before = total / 2;
  a.after = total - a.before;
  return a;
}

} // namespace netplan_detail

// The steps of `layers` (one distinct network of a NetworkDescription) on an input of `in`.
// Throws std::runtime_error naming the layer when the input does not fit the network (channel
// counts, kernel extents, dense features, concatenation sizes, the residual's shape).
inline NetPlan planNetwork(const std::vector<NetLayer>& layers, int64_t inChannels, bool residual,
                           const NetDims& in) {
  using namespace netplan_detail;
  NetPlan plan;
  plan.in = in;
  plan.residual = residual;
  const bool flatInput = !layers.empty() && layers[0].kind == NetLayerKind::Dense;
  if (!flatInput && in.c != inChannels)
    throw std::runtime_error("input has " + std::to_string(in.c) + " channels, the network " +
                             std::to_string(inChannels));
  NetDims cur = in;
  auto add = [&](NetStep s) {
    s.src = cur;
    plan.steps.push_back(s);
    cur = s.dst;
  };
  for (size_t i = 0; i < layers.size(); ++i) {
    const NetLayer& l = layers[i];
    NetStep s;
    s.layer = i;
    switch (l.kind) {
    case NetLayerKind::Conv: {
      if (l.in != cur.c)
        misfit(i,
               "expects " + std::to_string(l.in) + " channels, receives " + std::to_string(cur.c));
      if (l.kernel < 1 || l.dilation < 1 || l.stride < 1 || l.out < 1)
        misfit(i, "kernel, dilation, stride and channels must be positive");
      const Axis y = convAxis(cur.h, l, i), x = convAxis(cur.w, l, i);
      // cuDNN pads with zeros, the same amount on both sides: anything else is bordered first.
      const bool anyBorder = y.before + y.after + x.before + x.after > 0;
      const bool replicate = l.padding == NetPadding::Replicate && anyBorder;
      if (replicate || y.before != y.after || x.before != x.after) {
        NetStep pad;
        pad.kind = NetStepKind::Pad;
        pad.layer = i;
        pad.top = y.before, pad.bottom = y.after, pad.left = x.before, pad.right = x.after;
        pad.replicate = replicate;
        pad.dst = {cur.n, cur.c, cur.h + y.before + y.after, cur.w + x.before + x.after};
        add(pad);
      } else {
        s.padH = y.before, s.padW = x.before;
      }
      s.kind = NetStepKind::Conv;
      s.kh = s.kw = l.kernel;
      s.stride = l.stride;
      s.dilation = l.dilation;
      s.activation = l.activation;
      s.alpha = l.alpha;
      s.dst = {cur.n, l.out, y.out, x.out};
      add(s);
      break;
    }
    case NetLayerKind::Dense:
      if (l.in != cur.c * cur.h * cur.w || l.out < 1)
        misfit(i, "a dense layer of " + std::to_string(l.in) + " features receives " +
                      std::to_string(cur.c * cur.h * cur.w) + " (" + cur.str() + ")");
      s.kind = NetStepKind::Conv;
      s.kh = cur.h, s.kw = cur.w;
      s.activation = l.activation;
      s.alpha = l.alpha;
      s.dst = {cur.n, l.out, 1, 1};
      add(s);
      break;
    case NetLayerKind::Activation:
      s.kind = NetStepKind::Activation;
      s.activation = l.activation;
      s.alpha = l.alpha;
      s.dst = cur;
      add(s);
      break;
    case NetLayerKind::Upsample:
      if (l.factor < 1)
        misfit(i, "upsampling factor must be positive");
      s.kind = NetStepKind::Upsample;
      s.factor = l.factor;
      s.dst = {cur.n, cur.c, cur.h * l.factor, cur.w * l.factor};
      add(s);
      break;
    case NetLayerKind::ConcatInput:
      if (cur.h != in.h || cur.w != in.w)
        misfit(i, "concatenates the input " + in.str() + " to features " + cur.str());
      s.kind = NetStepKind::ConcatInput;
      s.dst = {cur.n, cur.c + in.c, cur.h, cur.w};
      add(s);
      break;
    }
  }
  if (plan.steps.empty()) { // no layers: the network is the identity
    NetStep copy;
    copy.dst = cur;
    add(copy);
  }
  if (residual && !(cur == in))
    throw std::runtime_error("residual output " + cur.str() + " differs from the input " +
                             in.str());
  plan.out = cur;

  // Route the buffers: every step but the last writes the ping-pong buffer its source is not in.
  NetSlot last = NetSlot::Input;
  plan.largestTensor = in.numel();
  for (size_t k = 0; k < plan.steps.size(); ++k) {
    NetStep& s = plan.steps[k];
    s.from = last;
    const bool final = k + 1 == plan.steps.size();
    s.to = final ? NetSlot::Output : last == NetSlot::A ? NetSlot::B : NetSlot::A;
    if (!final) {
      int64_t& floats = plan.bufferFloats[static_cast<int>(s.to)];
      floats = std::max(floats, s.dst.numel());
    }
    plan.largestTensor = std::max(plan.largestTensor, s.dst.numel());
    if (s.kind == NetStepKind::Conv)
      plan.maxFilterFloats = std::max(plan.maxFilterFloats, s.dst.c * s.src.c * s.kh * s.kw);
    last = s.to;
  }
  return plan;
}

// Whether cuDNN's 4-d descriptors (int dimensions and strides) can describe every tensor and
// filter of the plan; *why gets the reason when not.
inline bool fitsCudnn(const NetPlan& plan, std::string* why) {
  const int64_t limit = std::numeric_limits<int32_t>::max();
  if (plan.largestTensor <= limit && plan.maxFilterFloats <= limit)
    return true;
  if (why)
    *why = "a tensor of " + std::to_string(std::max(plan.largestTensor, plan.maxFilterFloats)) +
           " elements exceeds cuDNN's 32-bit descriptors";
  return false;
}

} // namespace podm::cuda
