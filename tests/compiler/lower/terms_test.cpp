// ∇f of the model's terms (compiler/lower/terms.cpp): a circulant f applies its normal operator
// through one shared spectrum (one rfft2/irfft2 pair per gradient, no adjoint convolution), a
// non-circulant one keeps A then A'; both give the gradient a plain loop computes.
#include "compiler/passes/passes.h"
#include "engine/cpu_evaluator.h"
#include "lower_helpers.h"

#include <doctest/doctest.h>

using namespace podm;
using namespace podm::testing;
using ir::Op;

namespace {

size_t countIn(const ir::Graph& g, ir::Region r, Op op) {
  size_t n = 0;
  for (const ir::Node& node : g.nodes())
    n += node.region == r && node.op == op;
  return n;
}

std::string model(const std::string& boundary, const std::string& solver) {
  bool withF = solver == "podm";
  return "model t\ninput o : image\ninput k : kernel\nop K = conv(k, boundary = \"" + boundary +
         "\")\nvar x : image = o\nf(x) = 0.5 * || K x - o ||^2\n"
         "g(x) = 0.01 * l1(x) + box(x, lo = 0, hi = 1)\n" +
         (withF ? "d(x, a) = mu / 2 * || x - a ||^2\n" : "") + "stages 6 " + solver +
         " { gamma = 0.9 / L(f)" + (withF ? "; mu = 0.5; c = 0.2; A = identity" : "") +
         " }\nmonitor phi\n";
}

} // namespace

TEST_CASE("a circulant f applies grad f through the spectrum of its normal operator") {
  ir::Graph g = lowerText(model("periodic", "podm"), {{"o", {16, 16}}, {"k", {3, 3}}}).graph;
  passes::PipelineOptions options{engine::cpuEvaluator(), nullptr};
  options.fuse = false;
  ir::Graph opt = passes::optimize(g, options);
  // Per stage: the F-step and the gradients at x~, x_G and x (feedback) are one rfft2/irfft2 pair
  // each; phi's ||K x+ - o||^2 is one more rfft2 (Parseval), no convolution.
  CHECK(countIn(opt, ir::Region::Body, Op::Rfft2) == 5);
  CHECK(countIn(opt, ir::Region::Body, Op::Irfft2) == 4);
  CHECK(countIn(opt, ir::Region::Body, Op::Conv2dAdjoint) == 0);
  CHECK(countIn(opt, ir::Region::Body, Op::Conv2d) == 0);
  // One impulse constant and one spectrum, shared by L_f, the F-step and grad f.
  size_t deltas = 0, spectra = 0;
  for (const ir::Node& n : g.nodes()) {
    deltas += n.op == Op::Constant && n.label == "delta";
    spectra += n.label == "spectrum of N";
  }
  CHECK(deltas == 1);
  CHECK(spectra == 1);
}

TEST_CASE("grad f through the spectrum is K'(K x - o) for a periodic K") {
  // One proximal-gradient step with gamma = 1 and a prox that is the identity on the data (a box
  // far outside it): x1 = x0 - grad f(x0), so x0 - x1 is podm's gradient.
  std::mt19937 rng(5);
  const int64_t h = 12, w = 10;
  Tensor o = randomImage(h, w, rng), k = randomKernel(5, rng);
  std::string text = "model t\ninput o : image\ninput k : kernel\n"
                     "op K = conv(k, boundary = \"periodic\")\nvar x : image = o\n"
                     "f(x) = 0.7 * || K x - o ||^2\ng(x) = box(x, lo = -1000, hi = 1000)\n"
                     "stages 1 proxgrad { gamma = 1 }\n";
  ir::Graph g = lowerText(text, {{"o", {h, w}}, {"k", {5, 5}}}).graph;
  // The spectrum and K'o are built on first use, in the loop, and hoisted out of it.
  passes::PipelineOptions options{engine::cpuEvaluator(), nullptr};
  options.fuse = false;
  CHECK(countIn(passes::optimize(g, options), ir::Region::Body, Op::Conv2dAdjoint) == 0);
  RunResult r = runGraph(g, {{"o", o}, {"k", k}});
  Image x0 = toImage(o), residual = convPeriodic(x0, h, w, k, false);
  for (size_t i = 0; i < residual.size(); ++i)
    residual[i] -= x0[i];
  Image grad = convPeriodic(residual, h, w, k, true);
  Tensor got = Tensor::image(h, w);
  for (int64_t i = 0; i < h * w; ++i)
    got.data()[i] = o.data()[i] - r.outputs.at("x").data()[i];
  for (double& v : grad)
    v *= 2 * 0.7;
  CHECK(relativeError(got, grad) < 1e-5);
}
