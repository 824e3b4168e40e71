// Shared by the autodiff tests: random values of an IR type, the real dot product in double, a
// fake trainable network (a per-stage scalar weight), providers for the rule checks, and the small
// unrolled deblurring model the tape tests differentiate.
#pragma once

#include "engine/stdlib_prox_provider.h"
#include "runtime/autodiff/rule.h"
#include "runtime/ir_types.h"
#include "runtime/network_provider.h"

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace podm::testing {

inline autodiff::Value randomValue(const ir::Type& type, std::mt19937& rng, float lo = -1.f,
                                   float hi = 1.f) {
  autodiff::Value v = autodiff::OpRunner::filled(type, 0.f);
  std::uniform_real_distribution<float> u(lo, hi);
  const int64_t floats = v.tensor.numel() * (type.isComplexTensor() ? 2 : 1);
  for (int64_t i = 0; i < floats; ++i)
    v.tensor.data()[i] = u(rng);
  return v;
}

inline int64_t floatCount(const autodiff::Value& v) {
  return v.tensor.numel() * (v.type.isComplexTensor() ? 2 : 1);
}

// sum re*re' + im*im' in double.
inline double innerD(const autodiff::Value& a, const autodiff::Value& b) {
  double s = 0;
  for (int64_t i = 0; i < floatCount(a); ++i)
    s += static_cast<double>(a.tensor.data()[i]) * b.tensor.data()[i];
  return s;
}

inline double normD(const autodiff::Value& a) {
  return std::sqrt(innerD(a, a));
}

// a + t d (same type).
inline autodiff::Value shifted(const autodiff::Value& a, const autodiff::Value& d, double t) {
  autodiff::Value r{a.tensor.clone(), a.type};
  for (int64_t i = 0; i < floatCount(a); ++i)
    r.tensor.data()[i] = static_cast<float>(a.tensor.data()[i] + t * d.tensor.data()[i]);
  return r;
}

// Moves entries within `margin` of any kink to kink +- margin, so finite differences with a
// smaller step never straddle a point where the op is not differentiable.
inline void avoidKinks(autodiff::Value& v, std::initializer_list<float> kinks, float margin) {
  for (int64_t i = 0; i < floatCount(v); ++i) {
    float& x = v.tensor.data()[i];
    for (float k : kinks)
      if (std::fabs(x - k) < margin)
        x = x < k ? k - margin : k + margin;
  }
}

// Periodic deblurring with an l1 prior, unrolled for 4 stages of `solver` (proxgrad, fista,
// relaxed, podm); `extra` is inserted before the stages block (relaxed and podm need d(x, a)).
inline std::string unrolledModel(const std::string& solver, const std::string& extra) {
  return "model t\ninput o : image\ninput k : kernel\nop K = conv(k, boundary = \"periodic\")\n"
         "var x : image = o\n"
         "f(x) = 0.5 * || K x - o ||^2\n"
         "g(x) = 0.01 * l1(x)\n" +
         extra + "stages 4 " + solver + " {\n  gamma = 0.9 / L(f)\n" +
         (solver == "relaxed" ? "  mu = 0.5\n  A = identity\n" : "") +
         (solver == "podm" ? "  mu = 0.5\n  c = 0.2\n  A = identity\n" : "") + "}\n";
}

// A trainable "network" for the tests: out = theta_l * x + 0.1 x^2, with one scalar weight per
// stage, and a log of the stages backward() was called for.
class FakeNetwork final : public NetworkOperator {
public:
  explicit FakeNetwork(std::vector<Parameter>* weights, std::vector<int64_t>* calls)
      : weights_(weights), calls_(calls) {}
  void apply(const Tensor& in, int64_t stage, Tensor& out) override {
    const float theta = weight(stage).value.data()[0];
    for (int64_t i = 0; i < in.numel(); ++i)
      out.data()[i] = theta * in.data()[i] + 0.1f * in.data()[i] * in.data()[i];
  }
  ParameterList parameters(int64_t stage) override { return {&weight(stage)}; }
  void backward(const Tensor& in, int64_t stage, const Tensor& dOut, Tensor& dIn) override {
    Parameter& p = weight(stage);
    const float theta = p.value.data()[0];
    double g = 0;
    for (int64_t i = 0; i < in.numel(); ++i) {
      dIn.data()[i] = dOut.data()[i] * (theta + 0.2f * in.data()[i]);
      g += static_cast<double>(dOut.data()[i]) * in.data()[i];
    }
    p.grad.data()[0] += static_cast<float>(g);
    calls_->push_back(stage);
  }

private:
  Parameter& weight(int64_t stage) {
    return (*weights_)[static_cast<size_t>(stage) % weights_->size()];
  }
  std::vector<Parameter>* weights_;
  std::vector<int64_t>* calls_;
};

class FakeNetworkProvider final : public NetworkProvider {
public:
  explicit FakeNetworkProvider(std::vector<float> thetas) {
    for (size_t i = 0; i < thetas.size(); ++i) {
      Parameter p{"stage" + std::to_string(i) + ".theta", Tensor(Shape{1, 1, 1, 1}),
                  Tensor(Shape{1, 1, 1, 1})};
      p.value.data()[0] = thetas[i];
      weights.push_back(std::move(p));
    }
  }
  std::unique_ptr<NetworkOperator> make(const NetworkDesc&) const override {
    return std::make_unique<FakeNetwork>(&weights, &calls);
  }
  mutable std::vector<Parameter> weights;
  mutable std::vector<int64_t> calls;
};

} // namespace podm::testing
