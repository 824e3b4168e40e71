// A ProxProvider for runtime tests, so they do not depend on stdlib: l1 (soft thresholding by
// gamma * lambda) and box (projection on [lo, hi]).
#pragma once

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
