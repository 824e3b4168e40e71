// An example user prox built as a podm plugin: the elastic net
//   g(u) = ||u||_1 + ratio/2 ||u||^2     (ratio = lambda2 / lambda1 >= 0),
// whose prox is soft-thresholding followed by a shrink: sign(v) max(|v| - gamma, 0) / (1 + gamma
// ratio). The model's weight lambda1 is folded into gamma by podm, as for every prox.
// Build: this folder's CMakeLists.txt (part of the podm build, or on its own with
// -DPODM_SOURCE_DIR=/path/to/podm); load: `podm run --plugin libpodm_example_plugin.so ...`;
// check: `podm test-prox libpodm_example_plugin.so elastic_net --arg ratio=0.5`.
#include "stdlib/prox/prox.h"

#include <cmath>
#include <memory>

namespace {

using podm::Tensor;
using podm::stdlib::ProxArgs;
using podm::stdlib::ProxFunction;

class ElasticNetProx final : public ProxFunction {
public:
  explicit ElasticNetProx(double ratio) : ratio_(ratio) {}

  double value(const Tensor& x) const override {
    double l1 = 0, l2 = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
      double u = x.data()[i];
      l1 += std::fabs(u);
      l2 += u * u;
    }
    return l1 + 0.5 * ratio_ * l2;
  }

  // out may be the same tensor as v: each entry is read before it is written.
  void prox(const Tensor& v, float gamma, Tensor& out) const override {
    const float shrink = 1.0f / (1.0f + gamma * static_cast<float>(ratio_));
    const float* in = v.data();
    float* result = out.data();
    for (int64_t i = 0; i < v.numel(); ++i) {
      float magnitude = std::fmax(std::fabs(in[i]) - gamma, 0.0f) * shrink;
      result[i] = std::copysign(magnitude, in[i]);
    }
  }

private:
  double ratio_;
};

} // namespace

PODM_PLUGIN_EXPORT int podm_plugin_abi_version() {
  return podm::stdlib::kProxPluginAbiVersion;
}

PODM_PLUGIN_EXPORT void podm_register_prox_plugin(podm::stdlib::ProxRegistry& registry) {
  registry.add({.name = "elastic_net",
                .summary = "elastic net ||u||_1 + ratio/2 ||u||^2 (example plugin)",
                .params = {{.name = "ratio",
                            .defaultValue = 1.0,
                            .required = false,
                            .min = 0.0,
                            .max = 1e6,
                            .doc = "lambda2 / lambda1, weight of the squared l2 term"}},
                .traits = {.convex = true, .separable = true},
                .make = [](const ProxArgs& args) -> std::unique_ptr<ProxFunction> {
                  return std::make_unique<ElasticNetProx>(args.at("ratio"));
                }});
}
