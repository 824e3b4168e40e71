// The prior g as lowered by compiler/lower/prior.cpp: prox arguments computed at run time from
// inputs (hardthre_box with lo = min(o), hi = max(o), the paper's Sec. 5.2 prior), the fused
// prox of tv + box (examples/proxgrad_deblur.podm against a plain proximal-gradient loop with the
// constrained TV prox), phi with a TV term, and the errors for sums that have no lowered prox.
#include "ir/printer.h"
#include "lower_helpers.h"
#include "runtime/io/image.h"
#include "runtime/io/metrics.h"
#include "runtime/run_scope.h"
#include "stdlib/prox/prox.h"
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace podm;
using namespace podm::testing;

namespace {

std::string readText(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The g line of a model file, as written.
std::string gLine(const std::string& text) {
  size_t at = text.find("\ng(");
  REQUIRE(at != std::string::npos);
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

std::string hardthreModel(const std::string& g) {
  return "model hb\ninput o : image\ninput k : kernel\nop K = conv(k, boundary = \"periodic\")\n"
         "var u : image = o\nf(u) = 0.5 * || K u - o ||^2\n" +
         g +
         "\nd(u, a) = mu / 2 * || u - a ||^2\n"
         "stages 6 podm { gamma = 0.99 / L(f); mu = 0.1; c = 0.05; A = identity }\n"
         "monitor phi, rel_change\n";
}

std::string exact(float v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", static_cast<double>(v)); // round-trips a float
  return buffer;
}

size_t countOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

// Half-sample symmetric extension (numerics/conv.h): x[-1] = x[0], x[n] = x[n-1].
int64_t reflect(int64_t i, int64_t n) {
  while (i < 0 || i >= n)
    i = i < 0 ? -i - 1 : 2 * n - i - 1;
  return i;
}

// True convolution with symmetric boundary and its exact adjoint (values folded back).
Image convSymmetric(const Image& x, int64_t h, int64_t w, const Tensor& k, bool adjoint) {
  const int64_t kh = k.shape().h, kw = k.shape().w;
  Image y(x.size(), 0.0);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j)
      for (int64_t a = 0; a < kh; ++a)
        for (int64_t b = 0; b < kw; ++b) {
          int64_t src = reflect(i + kh / 2 - a, h) * w + reflect(j + kw / 2 - b, w);
          if (adjoint)
            y[src] += k.at(a, b) * x[i * w + j];
          else
            y[i * w + j] += k.at(a, b) * x[src];
        }
  return y;
}

// A blocky image in [0.1, 0.9]: what TV + box is made for.
Tensor blocks(int64_t h, int64_t w) {
  Tensor t = Tensor::image(h, w);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j)
      t.data()[i * w + j] = 0.1f + 0.8f * static_cast<float>(((i / 6) * 3 + (j / 5) * 7) % 5) / 4;
  return t;
}

} // namespace

TEST_CASE("prior: hardthre_box with lo = min(o), hi = max(o) computed at run time") {
  // The example's own g line (deblur_rpodm needs learned weights to run; its prior does not).
  const std::string g =
      gLine(readText(std::string(PODM_SOURCE_DIR) + "/examples/deblur_rpodm.podm"));
  CHECK(g.find("lo = min(o)") != std::string::npos);
  std::mt19937 rng(21);
  Tensor o = randomImage(16, 14, rng, 0.2f, 0.85f), k = randomKernel(3, rng);
  const std::map<std::string, lower::InputShape> shapes = {{"o", {16, 14}}, {"k", {3, 3}}};
  auto runtime = lowerText(hardthreModel(g), shapes);
  const std::string dump = ir::dump(runtime.graph);
  CHECK(countOf(dump, "minval(") == 1);
  CHECK(countOf(dump, "maxval(") == 1);
  CHECK(countOf(dump, "operand_args=\"lo,hi\"") == 2); // x_G and the feedback step
  RunResult r = runGraph(runtime.graph, {{"o", o}, {"k", k}});
  const float lo = *std::min_element(o.data(), o.data() + o.numel());
  const float hi = *std::max_element(o.data(), o.data() + o.numel());
  const Tensor& u = r.outputs.at("u");
  int64_t nonzeros = 0;
  for (int64_t i = 0; i < u.numel(); ++i) {
    float v = u.data()[i];
    CHECK((v == 0.f || (v >= lo && v <= hi)));
    nonzeros += v != 0.f;
  }
  CHECK(nonzeros > u.numel() / 2);
  CHECK(r.monitors.find("phi") != nullptr);
  // The same bounds written as constants give the same run.
  auto constant = lowerText(hardthreModel("g(u) = hardthre_box(u, lo = " + exact(lo) +
                                          ", hi = " + exact(hi) + ", threshold = 1e-3)"),
                            shapes);
  CHECK(ir::dump(constant.graph).find("minval(") == std::string::npos);
  RunResult rc = runGraph(constant.graph, {{"o", o}, {"k", k}});
  CHECK(relativeError(rc.outputs.at("u"), toImage(u)) < 1e-6);
}

TEST_CASE("prior: a run-time argument the prox refuses stops the run naming it") {
  std::mt19937 rng(4);
  Tensor o = randomImage(8, 8, rng, 0.2f, 0.8f), k = randomKernel(3, rng);
  auto lowered =
      lowerText(hardthreModel("g(u) = hardthre_box(u, lo = max(o), hi = min(o), threshold = 1e-3)"),
                {{"o", {8, 8}}, {"k", {3, 3}}});
  CHECK_THROWS_WITH_AS(runGraph(lowered.graph, {{"o", o}, {"k", k}}),
                       doctest::Contains("prox 'hardthre_box' rejects the value of its run-time "
                                         "arguments lo = "),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(runGraph(lowered.graph, {{"o", o}, {"k", k}}), doctest::Contains("(from %"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(runGraph(lowered.graph, {{"o", o}, {"k", k}}),
                       doctest::Contains("must not exceed hi"), std::runtime_error);
}

TEST_CASE("prior: constant arguments beside run-time ones are still checked when compiling") {
  const std::map<std::string, lower::InputShape> shapes = {{"o", {8, 8}}, {"k", {3, 3}}};
  auto message = [&](const std::string& g) -> std::string {
    try {
      lowerText(hardthreModel(g), shapes);
    } catch (const lower::LowerError& e) {
      CHECK(e.loc().known());
      return e.what();
    }
    return "(no error)";
  };
  CHECK(message("g(u) = hardthre_box(u, lo = min(o), hi = max(o), count = 3, threshold = 0.1)")
            .find("give either count or threshold, not both") != std::string::npos);
  CHECK(message("g(u) = tv_iso(u, lo = min(o), hi = 1, iters = 2.5)")
            .find("iters must be a whole number") != std::string::npos);
  // A relation between a constant and a run-time argument waits for the run's values.
  auto deferred = lowerText(
      hardthreModel("g(u) = hardthre_box(u, lo = min(o), hi = -1, threshold = 0.1)"), shapes);
  bool noted = false;
  for (const std::string& n : deferred.notes)
    noted =
        noted || n.find("run-time arguments checked when the run binds them") != std::string::npos;
  CHECK(noted);
  std::mt19937 rng(6);
  Tensor o = randomImage(8, 8, rng, 0.2f, 0.8f), k = randomKernel(3, rng);
  CHECK_THROWS_WITH_AS(runGraph(deferred.graph, {{"o", o}, {"k", k}}),
                       doctest::Contains("lo = 0.2"), std::runtime_error);
}

TEST_CASE("prior: tv + box is one constrained TV prox; proxgrad_deblur matches a plain loop") {
  // examples/proxgrad_deblur.podm with a fixed step and stage count, so that the reference loop
  // does not have to reproduce the power-iteration estimate of L(f) or the stopping decision.
  std::string text = readText(std::string(PODM_SOURCE_DIR) + "/examples/proxgrad_deblur.podm");
  const size_t at = text.find("stages 300 proxgrad");
  REQUIRE(at != std::string::npos);
  text = text.substr(0, at) + "stages 40 proxgrad { gamma = 0.5 }\n\nmonitor phi, rel_change\n";
  const int64_t h = 30, w = 25;
  Tensor gt = blocks(h, w);
  Tensor k = randomKernel(5, *std::make_unique<std::mt19937>(8));
  Image o = convSymmetric(toImage(gt), h, w, k, false);
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 0.01);
  Tensor ot = Tensor::image(h, w);
  for (int64_t i = 0; i < ot.numel(); ++i)
    ot.data()[i] = static_cast<float>(o[static_cast<size_t>(i)] += noise(rng));
  auto lowered = lowerText(text, {{"o", {h, w}}, {"k", {5, 5}}});
  const std::string dump = ir::dump(lowered.graph);
  CHECK(countOf(dump, " = prox(") == 1);
  CHECK(dump.find("args={hi=1, iters=10, lo=0}, fn=\"tv_iso\"") != std::string::npos);
  CHECK(dump.find("[tv_iso + box: FGP with the projection onto the box]") != std::string::npos);
  bool noted = false;
  for (const std::string& n : lowered.notes)
    noted = noted || n.find("is one prox, tv_iso + box") != std::string::npos;
  CHECK(noted);
  RunResult r = runGraph(lowered.graph, {{"o", ot}, {"k", k}});
  REQUIRE(r.stages == 40);

  // The reference: x <- prox_{gamma (2e-3 TV + box)}(x - gamma K'(K x - o)), FGP with the box,
  // 10 iterations warm-started from the previous stage's dual within the run, as the model says.
  auto prox = stdlib::proxRegistry().make("tv_iso", {{"lo", 0.0}, {"hi", 1.0}, {"iters", 10}});
  const RunScope run;
  auto tv = stdlib::proxRegistry().make("tv_iso", {});
  const double gamma = 0.5;
  Image x = o;
  const auto* phi = r.monitors.find("phi");
  REQUIRE(phi);
  for (int l = 0; l < 40; ++l) {
    Image res = convSymmetric(x, h, w, k, false);
    for (size_t i = 0; i < res.size(); ++i)
      res[i] -= o[i];
    Image grad = convSymmetric(res, h, w, k, true);
    Tensor v = Tensor::image(h, w), next = Tensor::image(h, w);
    for (size_t i = 0; i < x.size(); ++i)
      v.data()[i] = static_cast<float>(x[i] - gamma * grad[i]);
    prox->prox(v, static_cast<float>(gamma * 2e-3), next);
    x = toImage(next);
    // phi = f + 2e-3 TV (the box counts as 0: x is inside it).
    Image kx = convSymmetric(x, h, w, k, false);
    double f = 0;
    for (size_t i = 0; i < kx.size(); ++i)
      f += 0.5 * (kx[i] - o[i]) * (kx[i] - o[i]);
    CHECK((*phi)[static_cast<size_t>(l)] ==
          doctest::Approx(f + 2e-3 * tv->value(next)).epsilon(1e-4));
  }
  const Tensor& got = r.outputs.at("x");
  CHECK(relativeError(got, x) < 1e-5);
  for (int64_t i = 0; i < got.numel(); ++i) {
    CHECK(got.data()[i] >= 0.f);
    CHECK(got.data()[i] <= 1.f);
  }
  CHECK(io::psnr(got, gt) > io::psnr(ot, gt) + 1);
}

TEST_CASE("prior: examples/proxgrad_deblur.podm restores a degraded image end to end") {
  namespace fs = std::filesystem;
  podm::test::ScratchDir scratch;
  const fs::path& dir = scratch.path();
  auto p = [&](const char* name) { return (dir / name).string(); };
  PodmResult made = runPodm("degrade --synthetic scene --size 48x48 --seed 3 -o " + p("gt.npy"));
  REQUIRE(made.status == 0);
  PodmResult blurred = runPodm("degrade " + p("gt.npy") +
                               " --blur gaussian:7:1.6 --boundary symmetric --noise 2 "
                               "--seed 1 -o " +
                               p("o.npy") + " --kernel-out " + p("k.txt"));
  REQUIRE(blurred.status == 0);
  PodmResult run = runPodm("run " + std::string(PODM_SOURCE_DIR) +
                           "/examples/proxgrad_deblur.podm --input o=" + p("o.npy") +
                           " --input k=" + p("k.txt") + " --input ref=" + p("gt.npy") + " -o " +
                           p("x.npy") + " --trace " + p("trace.csv"));
  INFO(run.out);
  REQUIRE(run.status == 0);
  Tensor gt = io::readImage(p("gt.npy")), o = io::readImage(p("o.npy")),
         x = io::readImage(p("x.npy"));
  const double before = io::psnr(o, gt), after = io::psnr(x, gt);
  MESSAGE("proxgrad_deblur on a 48x48 scene: PSNR " << before << " -> " << after);
  CHECK(after > before + 1);
  CHECK(*std::min_element(x.data(), x.data() + x.numel()) >= 0.f);
  CHECK(*std::max_element(x.data(), x.data() + x.numel()) <= 1.f);
  CHECK(readText(p("trace.csv")).find("psnr") != std::string::npos);
}

TEST_CASE("prior: sums of prox terms without a lowered prox are errors naming both terms") {
  const std::map<std::string, lower::InputShape> shapes = {{"o", {8, 8}}};
  auto message = [&](const std::string& g) -> std::string {
    try {
      lowerText("model t\ninput o : image\nop W = haar(levels = 1)\nvar x : image = o\n"
                "f(x) = 0.5 * || x - o ||^2\n" +
                    g + "\nstages 2 proxgrad { gamma = 0.5 }\n",
                shapes);
    } catch (const lower::LowerError& e) {
      CHECK(e.loc().known());
      return e.what();
    }
    return "(no error)";
  };
  std::string m = message("g(x) = 0.1 * tv_iso(x) + l1(x)");
  CHECK(m.find("the prox of '0.1 * tv_iso(x)' + 'l1(x)' is not lowered") != std::string::npos);
  CHECK(m.find("the sums lowered are") != std::string::npos);
  CHECK(message("g(x) = l1(x) + lp(x, p = 0.5)").find("'l1(x)' + 'lp(x, p = 0.5)'") !=
        std::string::npos);
  CHECK(message("g(x) = tv_aniso(W x) + box(x, lo = 0, hi = 1)").find("is not lowered") !=
        std::string::npos);
  CHECK(message("g(x) = l1(x) + tv_iso(x) + box(x, lo = 0, hi = 1)")
            .find("g has 3 prox terms ('l1(x)', 'tv_iso(x)', 'box(x, lo = 0, hi = 1)')") !=
        std::string::npos);
  CHECK(
      message("g(x) = tv_iso(x, lo = 0) + box(x, lo = 0, hi = 1)").find("already has box bounds") !=
      std::string::npos);
  // What is lowered: tv_aniso + nonneg fuses; l1 + box projects.
  CHECK(message("g(x) = tv_aniso(x) + nonneg(x)") == "(no error)");
  CHECK(message("g(x) = l1(x) + box(x, lo = 0, hi = 1)") == "(no error)");
}
