// Boundary-aware deblurring (stdlib/linop/pad.cpp, `output`): the fidelity o = crop(K x) with the
// unknown larger than the observation, against a dense "valid" convolution written out here; the
// F-step's PCG with the crop dropped from its preconditioner against CG run to convergence; the
// padded periodic model; and what `output` changes (the image written, the monitors' reference).
#include "lower_helpers.h"

#include <cmath>

using namespace podm;
using namespace podm::testing;

namespace {

constexpr int64_t kH = 9, kW = 8; // the observation

// An asymmetric kernel of even width, so that the crop's offsets (kh-1-kh/2 above, kh/2 below)
// and the correlation's flip both matter.
Tensor asymmetricKernel() {
  Tensor k(Shape{1, 1, 3, 4});
  const float v[] = {0.02f, 0.10f, 0.05f, 0.01f, 0.20f, 0.25f,
                     0.08f, 0.03f, 0.04f, 0.12f, 0.06f, 0.04f};
  std::copy(std::begin(v), std::end(v), k.data());
  return k;
}

// y = the valid part of the true convolution of x ((kH+kh-1) x (kW+kw-1)) with k: every output
// pixel sees only pixels of x, y(i, j) = Σ k(a, b) x(i + kh-1 - a, j + kw-1 - b). With
// `correlation`, k(a, b) is read as k(kh-1-a, kw-1-b). `adjoint` maps y back onto x's grid.
Image validConv(const Image& v, const Tensor& k, bool correlation, bool adjoint) {
  const int64_t kh = k.shape().h, kw = k.shape().w, xw = kW + kw - 1, xh = kH + kh - 1;
  Image out(adjoint ? size_t(xh * xw) : size_t(kH * kW), 0.0);
  for (int64_t i = 0; i < kH; ++i)
    for (int64_t j = 0; j < kW; ++j)
      for (int64_t a = 0; a < kh; ++a)
        for (int64_t b = 0; b < kw; ++b) {
          const double kv = correlation ? k.at(kh - 1 - a, kw - 1 - b) : k.at(a, b);
          const int64_t xi = (i + kh - 1 - a) * xw + (j + kw - 1 - b);
          if (adjoint)
            out[size_t(xi)] += kv * v[size_t(i * kW + j)];
          else
            out[size_t(i * kW + j)] += kv * v[size_t(xi)];
        }
  return out;
}

std::string validModel(const std::string& as, const std::string& tail) {
  return "model t\ninput o : image\ninput k : kernel\ninput ref : image optional\n"
         "op K = conv(k, as = \"" +
         as +
         "\")\nop C = crop(k)\nop P = pad(k, mode = \"zero\")\n"
         "var x : image = P o\nf(x) = 0.5 * || C K x - o ||^2\n" +
         tail;
}

double lastOf(const RunResult& r, const char* name) {
  const std::vector<float>* v = r.monitors.find(name);
  return v && !v->empty() ? double(v->back()) : std::nan("");
}

} // namespace

TEST_CASE("o = crop(K x): proximal gradient equals a loop on the dense valid convolution") {
  std::mt19937 rng(5);
  const Tensor o = randomImage(kH, kW, rng), k = asymmetricKernel();
  for (const char* as : {"convolution", "correlation"}) {
    INFO(as);
    const bool corr = std::string(as) == "correlation";
    lower::LowerResult r = lowerText(
        validModel(as, "g(x) = nonneg(x)\nstages 25 proxgrad { gamma = 0.8 }\noutput C x\n"),
        {{"o", {kH, kW}}, {"k", {3, 4}}});
    RunResult got = runGraph(r.graph, {{"o", o}, {"k", k}});
    const Tensor& y = got.outputs.at("x");
    REQUIRE(y.shape() == Shape{1, 1, kH, kW}); // the output is C x, the observation's size

    // x0 = o zero-padded: kh-1-kh/2 = 1 row above, kw-1-kw/2 = 1 column left.
    const int64_t xw = kW + 3;
    Image x(size_t((kH + 2) * xw), 0.0);
    for (int64_t i = 0; i < kH; ++i)
      for (int64_t j = 0; j < kW; ++j)
        x[size_t((i + 1) * xw + j + 1)] = o.at(i, j);
    const Image ob = toImage(o);
    for (int l = 0; l < 25; ++l) {
      Image res = validConv(x, k, corr, false);
      for (size_t i = 0; i < res.size(); ++i)
        res[i] -= ob[i];
      const Image grad = validConv(res, k, corr, true);
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = std::max(x[i] - 0.8 * grad[i], 0.0);
    }
    Image cropped(size_t(kH * kW));
    for (int64_t i = 0; i < kH; ++i)
      for (int64_t j = 0; j < kW; ++j)
        cropped[size_t(i * kW + j)] = x[size_t((i + 1) * xw + j + 1)];
    CHECK(relativeError(y, cropped) < 1e-5);
  }
}

TEST_CASE("the F-step with a crop: PCG preconditioned by K'K, by default and to convergence") {
  std::mt19937 rng(9);
  const Tensor o = randomImage(kH, kW, rng), k = asymmetricKernel();
  auto run = [&](const std::string& fstep, std::vector<std::string>* notes = nullptr) {
    lower::LowerResult r =
        lowerText(validModel("convolution", "g(x) = nonneg(x)\nd(x, a) = mu / 2 * || x - a ||^2\n"
                                            "stages 3 relaxed {\n  A = identity\n  mu = 0.05\n" +
                                                fstep + "}\noutput C x\n"),
                  {{"o", {kH, kW}}, {"k", {3, 4}}});
    if (notes)
      *notes = r.notes;
    return runGraph(r.graph, {{"o", o}, {"k", k}}).outputs.at("x");
  };
  std::vector<std::string> notes;
  const Tensor byDefault = run("", &notes);
  bool pcg = false;
  for (const std::string& n : notes)
    pcg |= n.find("F-step: pcg, 5 iterations") != std::string::npos;
  CHECK_MESSAGE(pcg, "the crop's F-step should be PCG with the periodic preconditioner");
  bool bound = false; // L_f from K'K's spectrum, not by power iteration
  for (const std::string& n : notes)
    bound |= n.find("L(f): the largest eigenvalue of the normal operator without its crop") !=
             std::string::npos;
  CHECK(bound);
  const Tensor exact = run("  fstep = cg(iters = 300)\n");
  const Tensor pcg40 = run("  fstep = pcg(iters = 40)\n");
  CHECK(relativeError(pcg40, toImage(exact)) < 1e-5); // the preconditioned solve converges to it
  // Five steps from x_A: on this 9x8 observation a third of the unknowns are border, which the
  // preconditioner treats as observed; still far closer than five plain CG steps.
  const double pcg5 = relativeError(byDefault, toImage(exact));
  const double cg5 = relativeError(run("  fstep = cg(iters = 5)\n"), toImage(exact));
  CHECK(pcg5 < 0.02);
  CHECK(pcg5 < 0.25 * cg5);
}

TEST_CASE("padding the observation: K x = pad(o) on the larger periodic grid, the result cropped") {
  std::mt19937 rng(3);
  const Tensor o = randomImage(kH, kW, rng), k = asymmetricKernel();
  const std::string text = "model t\ninput o : image\ninput k : kernel\ninput ref : image\n"
                           "op K = conv(k)\nop C = crop(k)\nop P = pad(k, mode = \"smooth\")\n"
                           "var x : image = P o\nf(x) = 0.5 * || K x - P o ||^2\n"
                           "g(x) = nonneg(x)\nstages 2 fista { }\noutput C x\n"
                           "monitor psnr(ref), recon_error(ref)\n";
  lower::LowerResult r = lowerText(text, {{"o", {kH, kW}}, {"k", {3, 4}}, {"ref", {kH, kW}}});
  bool fft = false;
  for (const ir::Node& n : r.graph.nodes())
    fft |= n.op == ir::Op::Rfft2; // circulant on the padded grid: FFT, no CG
  CHECK(fft);
  RunResult got = runGraph(r.graph, {{"o", o}, {"k", k}, {"ref", o}});
  const Tensor& y = got.outputs.at("x");
  REQUIRE(y.shape() == Shape{1, 1, kH, kW});
  // The monitors score the output against ref (both the observation's size).
  double mse = 0;
  for (int64_t i = 0; i < y.numel(); ++i)
    mse += (y.data()[i] - o.data()[i]) * (y.data()[i] - o.data()[i]);
  mse /= double(y.numel());
  CHECK(lastOf(got, "psnr") == doctest::Approx(-10 * std::log10(mse)).epsilon(1e-3));
}

TEST_CASE("output: a reference of the variable's size where the output is smaller is an error") {
  const std::string text = validModel("convolution", "g(x) = nonneg(x)\nstages 2 fista { }\n"
                                                     "output C x\nmonitor psnr(ref)\n");
  CHECK_THROWS_WITH_AS(lowerText(text, {{"o", {kH, kW}}, {"k", {3, 4}}, {"ref", {kH + 2, kW + 3}}}),
                       doctest::Contains("but the output is f32[1x1x9x8]"), lower::LowerError);
}

TEST_CASE("output is carried through the loop: every stage's K x is a loop result") {
  std::mt19937 rng(4);
  const Tensor o = randomImage(kH, kW, rng), k = asymmetricKernel();
  for (int stages : {0, 3}) {
    INFO(stages);
    lower::LowerResult r =
        lowerText(validModel("convolution", "g(x) = nonneg(x)\nstages " + std::to_string(stages) +
                                                " fista { }\noutput C x\n"),
                  {{"o", {kH, kW}}, {"k", {3, 4}}});
    // A loop result, so that the executor hands it to onStage after every stage (--save-stages).
    REQUIRE(r.graph.outputs().size() == 1);
    CHECK(r.graph.node(r.graph.outputs()[0].value).op == ir::Op::LoopResult);
    RunResult got = runGraph(r.graph, {{"o", o}, {"k", k}});
    if (stages == 0) // crop(pad(o, zero)) = o
      CHECK(relativeError(got.outputs.at("x"), toImage(o)) == 0.0);
  }
}

TEST_CASE("a fidelity whose sizes do not match is an error at its term, with the sizes") {
  // The crop forgotten: K u is the variable's size, larger than o.
  const std::string text = "model t\ninput o : image\ninput k : kernel\nop K = conv(k)\n"
                           "op P = pad(k)\nvar u : image = P o\nf(u) = 0.5 * || K u - o ||^2\n"
                           "g(u) = nonneg(u)\nstages 2 fista { }\n";
  try {
    lowerText(text, {{"o", {kH, kW}}, {"k", {3, 4}}});
    FAIL("expected an error");
  } catch (const lower::LowerError& e) {
    const std::string what = e.what();
    CHECK(what.find("maps the f32[1x1x11x11] variable to f32[1x1x11x11], but the data it is "
                    "compared with is f32[1x1x9x8]") != std::string::npos);
    CHECK(e.loc().line == 7);
  }
}
