// A ProxProvider for runtime tests, so they do not depend on stdlib: l1 (soft thresholding by
// gamma * lambda) and box (projection on [lo, hi]); and a NetworkProvider of scaling "networks".
#pragma once

#include "runtime/network_provider.h"
#include "runtime/prox_provider.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace podm::testing {

inline double argOr(const ProxArgList& args, const std::string& name, double fallback) {
  for (const auto& [n, v] : args)
    if (n == name)
      return v;
  return fallback;
}

class SoftThreshold final : public ProxOperator {
public:
  explicit SoftThreshold(float lambda) : lambda_(lambda) {}
  void apply(const Tensor& v, float gamma, Tensor& out) const override {
    const float t = gamma * lambda_;
    for (int64_t i = 0; i < v.numel(); ++i) {
      float x = v.data()[i];
      out.data()[i] = std::copysign(std::max(std::fabs(x) - t, 0.f), x);
    }
  }

private:
  float lambda_;
};

class BoxProjection final : public ProxOperator {
public:
  BoxProjection(float lo, float hi) : lo_(lo), hi_(hi) {}
  void apply(const Tensor& v, float, Tensor& out) const override {
    for (int64_t i = 0; i < v.numel(); ++i)
      out.data()[i] = std::clamp(v.data()[i], lo_, hi_);
  }

private:
  float lo_, hi_;
};

// A NetworkProvider for runtime tests: "net" l maps x to (l + 1) * spec-scale * x + 0.5, where
// the spec is the text "scale S"; enough to see the stage index and the attributes arrive.
class ScaleNetwork final : public NetworkOperator {
public:
  explicit ScaleNetwork(float scale) : scale_(scale) {}
  void apply(const Tensor& in, int64_t stage, Tensor& out) override {
    const float s = scale_ * static_cast<float>(stage + 1);
    for (int64_t i = 0; i < in.numel(); ++i)
      out.data()[i] = s * in.data()[i] + 0.5f;
  }

private:
  float scale_;
};

class TestNetworkProvider final : public NetworkProvider {
public:
  std::unique_ptr<NetworkOperator> make(const NetworkDesc& desc) const override {
    if (desc.spec.rfind("scale ", 0) != 0)
      throw std::invalid_argument("test networks are 'scale S', not '" + desc.spec + "'");
    return std::make_unique<ScaleNetwork>(std::stof(desc.spec.substr(6)));
  }
};

class TestProxProvider final : public ProxProvider {
public:
  std::unique_ptr<ProxOperator> make(std::string_view name,
                                     const ProxArgList& args) const override {
    if (name == "l1")
      return std::make_unique<SoftThreshold>(static_cast<float>(argOr(args, "lambda", 1.0)));
    if (name == "box")
      return std::make_unique<BoxProjection>(static_cast<float>(argOr(args, "lo", 0.0)),
                                             static_cast<float>(argOr(args, "hi", 1.0)));
    throw std::invalid_argument("unknown prox '" + std::string(name) + "'");
  }
};

} // namespace podm::testing
