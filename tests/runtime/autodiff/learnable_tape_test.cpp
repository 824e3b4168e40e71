// End-to-end gradients of the relaxed deblurring model (Sec. 5.2, A = identity) with respect to
// its learnable parameters: the Tape's gradients of 0.5 ||u - ref||^2 for the learnable DCT
// filters and the mu mlp's weights agree with central finite differences of Executor runs that
// bind the perturbed params by name -- the path issue 6's end-to-end training takes.
#include "runtime/autodiff/tape.h"
#include "runtime/ir_types.h"
#include "tests/compiler/lower/lower_helpers.h"

#include <doctest/doctest.h>

using namespace podm;
using namespace podm::testing;

namespace {

// Box bounds far from the data, so the prox is the identity there and the loss is smooth.
const char* kModel = R"(model rpodm
input o : image
input k : kernel
input sigma : scalar = 0.01
op K = conv(k, boundary = "periodic")
op F = dct_filters(size = 3, learnable = true)
var u : image = o
f(u) = 0.5 * || K u - o ||^2
g(u) = box(u, lo = -10, hi = 10)
d(u, a) = mu / 2 * || F (u - a) ||^2
param mu_net[l] = mlp(sigma, hidden = [4, 4], init = 0.05)
stages 3 relaxed { gamma = 0.99 / L(f); mu = mu_net[l]; A = identity }
)";

Tensor initial(const ir::Graph& g, const std::string& name) {
  for (const ir::Node& n : g.nodes())
    if (n.op == ir::Op::Param && n.attrs.getString("name") == name) {
      Tensor t(toShape(n.type));
      auto v = n.attrs.getData("value").values();
      std::copy(v.begin(), v.end(), t.data());
      return t;
    }
  FAIL("no param " << name);
  return {};
}

double loss(const Tensor& u, const Tensor& ref) {
  double s = 0;
  for (int64_t i = 0; i < u.numel(); ++i)
    s += 0.5 * (static_cast<double>(u.data()[i]) - ref.data()[i]) *
         (static_cast<double>(u.data()[i]) - ref.data()[i]);
  return s;
}

} // namespace

TEST_CASE("tape: gradients of the learnable filters and the mu mlp match finite differences") {
  std::mt19937 rng(12);
  const lower::LowerResult lowered = lowerText(kModel, {{"o", {12, 10}}, {"k", {3, 3}}});
  const ir::Graph& g = lowered.graph;
  std::map<std::string, Tensor> inputs{{"o", randomImage(12, 10, rng)},
                                       {"k", randomKernel(3, rng)}};
  Tensor sigma(Shape{1, 1, 1, 1});
  sigma.data()[0] = 0.02f;
  inputs["sigma"] = sigma;
  const Tensor ref = randomImage(12, 10, rng);

  // The mlp's last layer starts at zero, which would leave w1, w2 without gradient: start the
  // check from a point where every weight matters.
  std::map<std::string, Tensor> params;
  params["param.F.filters"] = initial(g, "param.F.filters");
  Tensor w3 = initial(g, "param.mu_net.w3");
  std::normal_distribution<float> normal(0.f, 0.5f);
  for (int64_t i = 0; i < w3.numel(); ++i)
    w3.data()[i] = normal(rng);
  params["param.mu_net.w3"] = w3;
  params["param.mu_net.w1"] = initial(g, "param.mu_net.w1");
  params["param.mu_net.b3"] = initial(g, "param.mu_net.b3");

  cpu::CpuBackend cpu;
  autodiff::TapeOptions options{&engine::installStdlibProxProvider(), nullptr, {"o", "k", "sigma"}};
  autodiff::Tape tape(g, cpu, options);
  const Tensor u = tape.forward(inputs, params).outputs.at("u");
  Tensor cot(u.shape());
  for (int64_t i = 0; i < u.numel(); ++i)
    cot.data()[i] = u.data()[i] - ref.data()[i];
  const std::map<std::string, Tensor> grads = tape.backward({{"u", cot}});

  Executor ex(g, cpu);
  for (const char* name :
       {"param.F.filters", "param.mu_net.w1", "param.mu_net.w3", "param.mu_net.b3"}) {
    INFO(name);
    REQUIRE(grads.count(name));
    const Tensor& grad = grads.at(name);
    Tensor dir(params.at(name).shape());
    double an = 0, gnorm = 0;
    for (int64_t i = 0; i < dir.numel(); ++i) {
      dir.data()[i] = normal(rng);
      an += static_cast<double>(grad.data()[i]) * dir.data()[i];
      gnorm += static_cast<double>(grad.data()[i]) * grad.data()[i];
    }
    const float h = 1e-2f;
    auto at = [&](float t) {
      std::map<std::string, Tensor> p = params;
      Tensor v = p.at(name).clone();
      for (int64_t i = 0; i < v.numel(); ++i)
        v.data()[i] += t * dir.data()[i];
      p[name] = v;
      return loss(ex.run(inputs, p).outputs.at("u"), ref);
    };
    const double fd = (at(h) - at(-h)) / (2 * h);
    CHECK(gnorm > 0);
    CHECK_MESSAGE(std::fabs(fd - an) <= 2e-2 * (std::fabs(an) + 1e-3 * std::sqrt(gnorm)),
                  "finite difference " << fd << " vs tape " << an);
  }
}
