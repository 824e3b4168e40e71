// Each sum of proxes the lowering composes (a separable convex term plus box or nonneg on the
// variable: prox = projection after the term's prox) against the separate proxes applied one after
// the other, through the whole pipeline (fused or not). With f = 1/2 ||x - o||^2 and gamma = 1 one
// proxgrad stage gives x+ = prox_g(o) exactly (issue 18: outputs unchanged to 1e-6 by the fusions).
#include "compiler/passes/passes.h"
#include "engine/cpu_evaluator.h"
#include "lower_helpers.h"
#include "stdlib/prox/prox.h"

#include <doctest/doctest.h>

using namespace podm;
using namespace podm::testing;

namespace {

struct Sum {
  const char* g;    // the model's prior
  const char* term; // the convex term's prox, and its weight
  stdlib::ProxArgs termArgs;
  double weight;
  const char* set; // the indicator's prox
  stdlib::ProxArgs setArgs;
};

Tensor separately(const Sum& s, const Tensor& o) {
  Tensor u(o.shape()), x(o.shape());
  stdlib::proxRegistry().make(s.term, s.termArgs)->prox(o, static_cast<float>(s.weight), u);
  stdlib::proxRegistry().make(s.set, s.setArgs)->prox(u, 1.f, x);
  return x;
}

} // namespace

TEST_CASE("every lowered sum of proxes equals its two proxes applied in turn") {
  // l1 is the standard library's separable convex term; lp and l0 are not convex, and the
  // projection of their prox is not the prox of the sum (a sum with them is refused, prior_test).
  const Sum sums[] = {
      {"0.05 * l1(x) + nonneg(x)", "l1", {}, 0.05, "nonneg", {}},
      {"0.05 * l1(x) + box(x, lo = 0.2, hi = 0.7)",
       "l1",
       {},
       0.05,
       "box",
       {{"lo", 0.2}, {"hi", 0.7}}},
      {"0.3 * l1(x) + box(x, lo = -0.1, hi = 0.4)",
       "l1",
       {},
       0.3,
       "box",
       {{"lo", -0.1}, {"hi", 0.4}}},
  };

  std::mt19937 rng(5);
  Tensor o = randomImage(21, 34, rng, -0.5f, 1.2f);
  for (const Sum& s : sums) {
    CAPTURE(s.g);
    const std::string text = std::string("model t\ninput o : image\nvar x : image = o\n") +
                             "f(x) = 0.5 * || x - o ||^2\ng(x) = " + s.g +
                             "\nstages 1 proxgrad { gamma = 1 }\n";
    ir::Graph g = lowerText(text, {{"o", {21, 34}}}).graph;
    const Tensor want = separately(s, o);
    for (bool fuse : {false, true}) {
      passes::PipelineOptions options{engine::cpuEvaluator(), nullptr};
      options.fuse = fuse;
      const Tensor got = runGraph(passes::optimize(g, options), {{"o", o}}).outputs.at("x");
      double worst = 0;
      for (int64_t i = 0; i < o.numel(); ++i)
        worst = std::max(worst, double(std::fabs(got.data()[i] - want.data()[i])));
      CHECK(worst <= 1e-6);
    }
  }
}

TEST_CASE("a nonconvex term plus a box is refused: clamping its prox is not the prox of the sum") {
  const std::string text = "model t\ninput o : image\nvar x : image = o\n"
                           "f(x) = 0.5 * || x - o ||^2\n"
                           "g(x) = 0.05 * lp(x, p = 0.5) + box(x, lo = 0, hi = 0.6)\n"
                           "stages 1 proxgrad { gamma = 1 }\n";
  CHECK_THROWS_WITH(lowerText(text, {{"o", {8, 8}}}), doctest::Contains("is not lowered"));
}
