// The lowering against plain-loop references (proximal gradient and FISTA on a periodic deblurring
// problem), the exact L_f of circulant models, the F-step choice shown in the graph, and the clear
// errors for what is not lowered.
#include "ir/printer.h"
#include "lower_helpers.h"

using namespace podm;
using namespace podm::testing;

namespace {

constexpr int64_t kH = 24, kW = 20;

std::string deblurModel(const std::string& solver, int stages) {
  return "model t\ninput o : image\ninput k : kernel\nop K = conv(k, boundary = \"periodic\")\n"
         "var x : image = o\n"
         "f(x) = 0.5 * || K x - o ||^2\n"
         "g(x) = 0.01 * l1(x)\n"
         "stages " +
         std::to_string(stages) + " " + solver +
         " { gamma = 0.9 }\n"
         "monitor phi, rel_change\n";
}

double soft(double v, double t) {
  return std::copysign(std::max(std::fabs(v) - t, 0.0), v);
}

Image gradStep(const Image& y, const Image& o, const Tensor& k, double gamma) {
  Image r = convPeriodic(y, kH, kW, k, false);
  for (size_t i = 0; i < r.size(); ++i)
    r[i] -= o[i];
  Image g = convPeriodic(r, kH, kW, k, true);
  Image out(y.size());
  for (size_t i = 0; i < y.size(); ++i)
    out[i] = soft(y[i] - gamma * g[i], gamma * 0.01);
  return out;
}

// max |DFT(k)|^2 on an n x n grid, times `factor` (the Lipschitz constant of factor/2 ||Kx -
// o||^2).
double circulantL(const Tensor& k, int n, double factor) {
  double lmax = 0;
  for (int u = 0; u < n; ++u)
    for (int v = 0; v < n; ++v) {
      double re = 0, im = 0;
      for (int64_t a = 0; a < k.shape().h; ++a)
        for (int64_t b = 0; b < k.shape().w; ++b) {
          double ph = -2 * M_PI * double(u * a + v * b) / n;
          re += k.at(a, b) * std::cos(ph);
          im += k.at(a, b) * std::sin(ph);
        }
      lmax = std::max(lmax, factor * (re * re + im * im));
    }
  return lmax;
}

} // namespace

TEST_CASE("a per-stage step gamma = sched[l] / L(f) is a schedule over a Pre L(f)") {
  std::mt19937 rng(12);
  Tensor o = randomImage(8, 8, rng), k = randomImage(3, 3, rng, -1, 1);
  std::string text = "model t\ninput o : image\ninput k : kernel\nop K = conv(k)\n"
                     "var x : image = o\nschedule gs = [0.5, 1]\n"
                     "f(x) = 0.5 * || K x - o ||^2\ng(x) = 0.1 * l1(x)\n"
                     "stages 2 proxgrad { gamma = gs[l] / L(f) }\n";
  RunResult r =
      runGraph(lowerText(text, {{"o", {8, 8}}, {"k", {3, 3}}}).graph, {{"o", o}, {"k", k}});
  const double L = circulantL(k, 8, 1);
  Image x = toImage(o), oi = x;
  for (double g : {0.5 / L, 1.0 / L}) {
    Image res = convPeriodic(x, 8, 8, k, false);
    for (size_t i = 0; i < res.size(); ++i)
      res[i] -= oi[i];
    Image gr = convPeriodic(res, 8, 8, k, true);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = soft(x[i] - g * gr[i], 0.1 * g);
  }
  CHECK(relativeError(r.outputs.at("x"), x) < 1e-5);
}

TEST_CASE("proximal gradient matches a plain-loop reference") {
  std::mt19937 rng(7);
  Tensor o = randomImage(kH, kW, rng), k = randomKernel(5, rng);
  const int stages = 30;
  auto lowered = lowerText(deblurModel("proxgrad", stages), {{"o", {kH, kW}}, {"k", {5, 5}}});
  RunResult r = runGraph(lowered.graph, {{"o", o}, {"k", k}});
  CHECK(r.stages == stages);
  Image x = toImage(o), oi = toImage(o);
  for (int l = 0; l < stages; ++l)
    x = gradStep(x, oi, k, 0.9);
  CHECK(relativeError(r.outputs.at("x"), x) < 1e-5);
  const auto* phi = r.monitors.find("phi");
  REQUIRE(phi);
  CHECK(phi->size() == stages);
}

TEST_CASE("FISTA matches a plain-loop reference") {
  std::mt19937 rng(11);
  Tensor o = randomImage(kH, kW, rng), k = randomKernel(3, rng);
  const int stages = 25;
  auto lowered = lowerText(deblurModel("fista", stages), {{"o", {kH, kW}}, {"k", {3, 3}}});
  RunResult r = runGraph(lowered.graph, {{"o", o}, {"k", k}});
  Image x = toImage(o), y = x, oi = toImage(o);
  double t = 1;
  for (int l = 0; l < stages; ++l) {
    Image xn = gradStep(y, oi, k, 0.9);
    double tn = (1 + std::sqrt(1 + 4 * t * t)) / 2;
    for (size_t i = 0; i < y.size(); ++i)
      y[i] = xn[i] + (t - 1) / tn * (xn[i] - x[i]);
    x = xn;
    t = tn;
  }
  CHECK(relativeError(r.outputs.at("x"), x) < 1e-5);
}

TEST_CASE("L(f) of a circulant model is the largest eigenvalue of K'K") {
  std::mt19937 rng(3);
  Tensor o = randomImage(8, 8, rng), k = randomImage(3, 3, rng, -1, 1);
  std::string text =
      "model t\ninput o : image\ninput k : kernel\nop K = conv(k)\nvar x : image = o\n"
      "f(x) = 2 * || K x - o ||^2\ng(x) = l1(x)\n"
      "stages 1 proxgrad { gamma = 1 / L(f) }\n";
  auto lowered = lowerText(text, {{"o", {8, 8}}, {"k", {3, 3}}});
  CHECK(ir::dump(lowered.graph).find("L_f (exact: circulant spectrum)") != std::string::npos);
  // gamma is a graph value; read it back through a one-stage run: with x0 = o, the prox argument
  // is known, so compare against the brute-force DFT of the kernel instead.
  double lmax = 0;
  for (int u = 0; u < 8; ++u)
    for (int v = 0; v < 8; ++v) {
      double re = 0, im = 0;
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
          double ph = -2 * M_PI * (u * a + v * b) / 8.0;
          re += k.at(a, b) * std::cos(ph);
          im += k.at(a, b) * std::sin(ph);
        }
      lmax = std::max(lmax, 4 * (re * re + im * im)); // ∇f = 4 K'(Kx - o)
    }
  // Run proxgrad one stage with gamma = 1/L and compare against the reference step.
  RunResult r = runGraph(lowered.graph, {{"o", o}, {"k", k}});
  Image x = toImage(o), oi = x;
  Image res = convPeriodic(x, 8, 8, k, false);
  for (size_t i = 0; i < res.size(); ++i)
    res[i] -= oi[i];
  Image gr = convPeriodic(res, 8, 8, k, true);
  Image want(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    want[i] = soft(x[i] - 4 * gr[i] / lmax, 1 / lmax);
  CHECK(relativeError(r.outputs.at("x"), want) < 1e-5);
}

TEST_CASE("the F-step solver follows operator structure and shows in the graph") {
  auto model = [](const std::string& f, const std::string& extra) {
    return "model t\ninput o : image\ninput k : kernel\ninput m : image\n"
           "op K = conv(k, boundary = \"periodic\")\nop S = decimate(2)\n"
           "var x : image(o.h, o.w)\n" +
           f + "\ng(x) = 0.1 * l1(x)\nd(x, a) = mu / 2 * || x - a ||^2\n" +
           "stages 3 podm { gamma = 0.5; mu = 0.5; c = 0.2; A = identity" + extra + " }\n";
  };
  std::map<std::string, lower::InputShape> shapes = {{"o", {8, 8}}, {"k", {3, 3}}, {"m", {8, 8}}};
  auto dumpOf = [&](const std::string& f, const std::string& extra = "") {
    return ir::dump(lowerText(model(f, extra), shapes).graph);
  };
  CHECK(dumpOf("f(x) = 0.5 * || K x - o ||^2").find("F-step: FFT closed form") !=
        std::string::npos);
  CHECK(dumpOf("f(x) = 0.5 * || mask(m) x - o ||^2").find("F-step: elementwise") !=
        std::string::npos);
  CHECK(dumpOf("f(x) = 0.5 * || x - o ||^2").find("F-step: elementwise") != std::string::npos);
  // A mask after a convolution is neither diagonal nor circulant: no FFT closed form.
  CHECK(dumpOf("f(x) = 0.5 * || mask(m) K x - o ||^2").find("F-step: cg") != std::string::npos);
  CHECK(dumpOf("f(x) = 0.5 * || mask(m) K x - o ||^2").find("FFT closed form") ==
        std::string::npos);
  CHECK(dumpOf("f(x) = 0.5 * || K x - o ||^2", "; fstep = cg(iters = 4)")
            .find("F-step: cg, 4 iterations") != std::string::npos);
  CHECK(dumpOf("f(x) = 0.5 * || K x - o ||^2", "; fstep = gradient(steps = 5, step = 0.5)")
            .find("F-step: gradient, 5 steps") != std::string::npos);
  CHECK(dumpOf("f(x) = 0.5 * || K x - o ||^2").find("check (Eq. 5)") != std::string::npos);
}

TEST_CASE("the closed-form F-step solves f + d exactly") {
  // With A = identity, x~ = F(x) minimises f + d(., x): its gradient K'(Kx~ - o) + mu (x~ - x)
  // vanishes. Check on a relaxed run of one stage with g = 0 in effect (a tiny l1 weight).
  std::mt19937 rng(5);
  Tensor o = randomImage(16, 16, rng), k = randomKernel(3, rng);
  for (std::string fstep : {"closed_form", "cg(iters = 60)"}) {
    std::string text = "model t\ninput o : image\ninput k : kernel\nop K = conv(k)\n"
                       "var x : image = o\nf(x) = 0.5 * || K x - o ||^2\ng(x) = 1e-12 * l1(x)\n"
                       "d(x, a) = mu / 2 * || x - a ||^2\n"
                       "stages 1 relaxed { gamma = 1e-9; mu = 0.3; A = identity; fstep = " +
                       fstep + " }\n";
    RunResult r =
        runGraph(lowerText(text, {{"o", {16, 16}}, {"k", {3, 3}}}).graph, {{"o", o}, {"k", k}});
    // gamma ~ 0: x_G = x~. Gradient of f + d at x~:
    Image xt = toImage(r.outputs.at("x")), oi = toImage(o);
    Image res = convPeriodic(xt, 16, 16, k, false);
    for (size_t i = 0; i < res.size(); ++i)
      res[i] -= oi[i];
    Image gr = convPeriodic(res, 16, 16, k, true);
    double n = 0;
    for (size_t i = 0; i < gr.size(); ++i)
      n += std::pow(gr[i] + 0.3 * (xt[i] - oi[i]), 2);
    CAPTURE(fstep);
    CHECK(std::sqrt(n) < 1e-4);
  }
}

TEST_CASE("what is not lowered fails with a clear error naming the place") {
  std::map<std::string, lower::InputShape> shapes = {{"o", {8, 8}}};
  auto message = [&](const std::string& text) -> std::string {
    try {
      lowerText(text, shapes);
    } catch (const lower::LowerError& e) {
      CHECK(e.loc().known());
      return e.what();
    }
    return "(no error)";
  };
  const std::string head = "model t\ninput o : image\nvar x : image = o\n"
                           "f(x) = 0.5 * || x - o ||^2\n";
  CHECK(message(head + "g(x) = l1(x)\nd(x, a) = mu / 2 * || x - a ||^2\n"
                       "net A = dilated_cnn(depth = 3, channels = 8)\n"
                       "stages 2 podm { c = 0.1; mu = 1 }\n")
            .find("net 'A' needs weights") != std::string::npos);
  CHECK(message(head + "g(x) = l1(x)\nd(x, a) = mu / 2 * || x - a ||^2\n"
                       "net A = dilated_cnn(depth = 3, channels = 8, dilations = [1, 2]) "
                       "weights \"a.safetensors\"\nstages 2 podm { c = 0.1; mu = 1 }\n")
            .find("one dilation per layer") != std::string::npos);
  CHECK(message(head + "g(x) = l1(x)\nd(x, a) = mu / 2 * || x - a ||^2\n"
                       "net A[l] = dilated_cnn(depth = 3, channels = 8) "
                       "weights \"a.safetensors\" prefix \"stage{l}.\"\n"
                       "stages 2 relaxed { mu = 1 }\n")
            .find("per-stage prefixes are not supported") != std::string::npos);
  CHECK(message(head + "g(x) = l1(x) + lp(x, p = 0.5)\nstages 2 proxgrad { gamma = 0.5 }\n")
            .find("the prox of 'l1(x)' + 'lp(x, p = 0.5)' is not lowered") != std::string::npos);
  // (l21 has a value lowering now; a plugin prox without one: tests/cli/run_options_test.cpp.)
  CHECK(message(head + "g(x) = l21(x)\nstages 2 proxgrad { gamma = 0.5 }\nmonitor phi\n") ==
        "(no error)");
  CHECK(message("model t\ninput o : image\ninput k : kernel\nop K = conv(k)\nvar x : image = o\n"
                "f(x) = 0.5 * || K x - o ||^2\ng(x) = l1(x)\nstages 2 proxgrad { gamma = 0.5 }\n")
            .find("--shape k=HxW") != std::string::npos);
}

TEST_CASE("scalar inputs are graph inputs, also when only d's weight reads them") {
  std::string text = "model t\ninput o : image\ninput s : scalar = 0.5\nvar x : image = o\n"
                     "f(x) = 0.5 * || x - o ||^2\ng(x) = 0.1 * l1(x)\n"
                     "d(x, a) = s / 2 * || x - a ||^2\n"
                     "stages 2 relaxed { gamma = 0.5; A = identity }\n";
  auto lowered = lowerText(text, {{"o", {4, 4}}});
  REQUIRE(lowered.graph.findInput("s"));
  std::mt19937 rng(2);
  Tensor s(Shape{1, 1, 1, 1});
  s.data()[0] = 0.5f;
  Tensor o = randomImage(4, 4, rng);
  RunResult r = runGraph(lowered.graph, {{"o", o}, {"s", s}});
  // f + d elementwise: x~ = (o + s x) / (1 + s); x_G = soft(x~ - gamma (x~ - o), gamma lambda)
  // (no mu setting: no mu term). With x0 = o the first stage gives soft(o).
  Image x1 = toImage(o), x2 = x1;
  for (double& v : x1)
    v = soft(v, 0.05);
  for (size_t i = 0; i < x2.size(); ++i) {
    double xt = (o.data()[i] + 0.5 * x1[i]) / 1.5;
    x2[i] = soft(xt - 0.5 * (xt - o.data()[i]), 0.05);
  }
  CHECK(relativeError(r.outputs.at("x"), x2) < 1e-5);
}

TEST_CASE("an orthogonal transform followed by a mask is solved in the transform domain") {
  std::mt19937 rng(8);
  Tensor o = randomImage(16, 16, rng), m = randomImage(16, 16, rng);
  auto model = [](const std::string& fstep) {
    return "model t\ninput o : image\ninput m : image\nop W = haar(levels = 2)\n"
           "var x : image = o\nf(x) = 0.5 * || mask(m) W x - o ||^2\ng(x) = 1e-12 * l1(x)\n"
           "d(x, a) = mu / 2 * || x - a ||^2\n"
           "stages 1 relaxed { gamma = 1e-9; mu = 0.3; A = identity; fstep = " +
           fstep + " }\n";
  };
  auto exact = lowerText(model("closed_form"), {{"o", {16, 16}}, {"m", {16, 16}}});
  CHECK(ir::dump(exact.graph).find("x~ [F-step: orthogonal transform]") != std::string::npos);
  auto cg = lowerText(model("cg(iters = 100)"), {{"o", {16, 16}}, {"m", {16, 16}}});
  // gamma ~ 0: the stage returns x~ itself, so both solves must agree.
  RunResult a = runGraph(exact.graph, {{"o", o}, {"m", m}});
  RunResult c = runGraph(cg.graph, {{"o", o}, {"m", m}});
  CHECK(relativeError(a.outputs.at("x"), toImage(c.outputs.at("x"))) < 1e-4);
}
