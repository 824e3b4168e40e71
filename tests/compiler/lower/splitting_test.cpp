// The splitting solvers (compiler/lower/solvers/{admm,hqs,pdhg}.cpp): each against a plain loop
// of its update equations in double precision on a small problem (the x-updates solved to
// round-off by CG on the operators written out here), convergence to a known minimizer, plug-and-
// play HQS with a network against Network::forward, the x-update's solver choice, and the errors
// for what a solver cannot take.
#include "engine/network_provider.h"
#include "lower_helpers.h"
#include "stdlib/nn/safetensors.h"
#include "stdlib/nn/spec_text.h"
#include "tests/support/scratch_dir.h"

#include <functional>
#include <optional>

using namespace podm;
using namespace podm::testing;

namespace {

constexpr int64_t kH = 12, kW = 10;

// Forward differences, channel 0 along x (columns), channel 1 along y (rows): periodic, or
// Neumann (the difference across the last column or row is 0).
Image gradOf(const Image& x, bool periodic) {
  Image g(2 * x.size(), 0.0);
  for (int64_t i = 0; i < kH; ++i)
    for (int64_t j = 0; j < kW; ++j) {
      if (periodic || j + 1 < kW)
        g[i * kW + j] = x[i * kW + (j + 1) % kW] - x[i * kW + j];
      if (periodic || i + 1 < kH)
        g[kH * kW + i * kW + j] = x[((i + 1) % kH) * kW + j] - x[i * kW + j];
    }
  return g;
}

Image gradAdjointOf(const Image& g, bool periodic) {
  Image x(g.size() / 2, 0.0);
  for (int64_t i = 0; i < kH; ++i)
    for (int64_t j = 0; j < kW; ++j) {
      const double gx = periodic || j + 1 < kW ? g[i * kW + j] : 0.0;
      const double gy = periodic || i + 1 < kH ? g[kH * kW + i * kW + j] : 0.0;
      x[i * kW + (j + 1) % kW] += gx;
      x[i * kW + j] -= gx + gy;
      x[((i + 1) % kH) * kW + j] += gy;
    }
  return x;
}

Image gradPeriodic(const Image& x) {
  return gradOf(x, true);
}
Image gradPeriodicAdjoint(const Image& g) {
  return gradAdjointOf(g, true);
}

// Per-pixel shrinkage of the 2-vector (channel 0, channel 1) by t: the prox of t ||.||_{2,1}.
Image shrinkL21(const Image& v, double t) {
  Image out(v.size());
  const size_t n = v.size() / 2;
  for (size_t p = 0; p < n; ++p) {
    const double norm = std::hypot(v[p], v[n + p]);
    const double s = norm > t ? 1 - t / norm : 0.0;
    out[p] = s * v[p];
    out[n + p] = s * v[n + p];
  }
  return out;
}

Image softThreshold(const Image& v, double t) {
  Image out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out[i] = std::copysign(std::max(std::fabs(v[i]) - t, 0.0), v[i]);
  return out;
}

Image axpy(double a, const Image& x, const Image& y) { // a x + y
  Image out(y);
  for (size_t i = 0; i < y.size(); ++i)
    out[i] += a * x[i];
  return out;
}

double dot(const Image& a, const Image& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    s += a[i] * b[i];
  return s;
}

// Solves M x = r for a symmetric positive definite M by CG to round-off.
Image solveCg(const std::function<Image(const Image&)>& m, const Image& r, Image x) {
  Image res = axpy(-1, m(x), r), p = res;
  double rs = dot(res, res);
  for (int k = 0; k < 2000 && rs > 1e-28; ++k) {
    Image mp = m(p);
    const double alpha = rs / dot(p, mp);
    x = axpy(alpha, p, x);
    res = axpy(-alpha, mp, res);
    const double next = dot(res, res);
    p = axpy(next / rs, p, res);
    rs = next;
  }
  return x;
}

Tensor toTensor(const Image& x, int64_t h, int64_t w) {
  Tensor t = Tensor::image(h, w);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = static_cast<float>(x[static_cast<size_t>(i)]);
  return t;
}

const char* kTvHead = R"(model t
input o : image
input k : kernel
op K = conv(k, boundary = "periodic")
op D = grad(boundary = "periodic")
var x : image = o
f(x) = 0.5 * || K x - o ||^2
g(x) = 0.02 * l21(D x) + nonneg(x)
)";

// The last stage's value of a monitor (NaN when the run did not record it).
double lastOf(const RunResult& r, const char* name) {
  const std::vector<float>* v = r.monitors.find(name);
  return v && !v->empty() ? double(v->back()) : std::nan("");
}

bool hasLabel(const ir::Graph& g, const std::string& part) {
  for (const ir::Node& n : g.nodes())
    if (n.label.find(part) != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST_CASE("admm on TV deconvolution equals a plain ADMM loop, its x-update one FFT solve") {
  std::mt19937 rng(11);
  Tensor o = randomImage(kH, kW, rng), k = randomKernel(3, rng);
  const double rho = 0.5, lambda = 0.02;
  const int stages = 15;
  lower::LowerResult r = lowerText(std::string(kTvHead) + "stages 15 admm { rho = 0.5 }\n" +
                                       "monitor phi, primal_res, dual_res\n",
                                   {{"o", {kH, kW}}, {"k", {3, 3}}});
  CHECK(hasLabel(r.graph, "x-update: FFT closed form"));
  RunResult got = runGraph(r.graph, {{"o", o}, {"k", k}});

  // x = argmin f + rho/2 (||D x - z1 + u1||^2 + ||x - z2 + u2||^2); z1 = shrink(D x + u1),
  // z2 = max(x + u2, 0); u += K x - z.
  const Image ob = toImage(o);
  auto conv = [&](const Image& v, bool adj) { return convPeriodic(v, kH, kW, k, adj); };
  auto m = [&](const Image& v) {
    Image out = conv(conv(v, false), true);
    out = axpy(rho, gradPeriodicAdjoint(gradPeriodic(v)), out);
    return axpy(rho, v, out);
  };
  Image x = ob, z1 = gradPeriodic(ob), z2 = ob, u1(z1.size(), 0.0), u2(ob.size(), 0.0);
  double primal = 0, dual = 0;
  for (int l = 0; l < stages; ++l) {
    Image rhs = conv(ob, true);
    rhs = axpy(rho, gradPeriodicAdjoint(axpy(-1, u1, z1)), rhs);
    rhs = axpy(rho, axpy(-1, u2, z2), rhs);
    x = solveCg(m, rhs, x);
    Image dx = gradPeriodic(x);
    Image z1n = shrinkL21(axpy(1, u1, dx), lambda / rho), z2n = axpy(1, u2, x);
    for (double& v : z2n)
      v = std::max(v, 0.0);
    u1 = axpy(-1, z1n, axpy(1, u1, dx));
    u2 = axpy(-1, z2n, axpy(1, u2, x));
    Image r1 = axpy(-1, z1n, dx), r2 = axpy(-1, z2n, x);
    primal = std::sqrt(dot(r1, r1) + dot(r2, r2));
    Image change = axpy(1, axpy(-1, z2, z2n), gradPeriodicAdjoint(axpy(-1, z1, z1n)));
    dual = rho * std::sqrt(dot(change, change));
    z1 = z1n;
    z2 = z2n;
  }
  CHECK(relativeError(got.outputs.at("x"), x) < 1e-5);
  CHECK(lastOf(got, "primal_res") == doctest::Approx(primal).epsilon(1e-3));
  CHECK(lastOf(got, "dual_res") == doctest::Approx(dual).epsilon(1e-3));
  // phi = 0.5 ||K x - o||^2 + lambda sum_p ||(D x)_p|| (the nonneg term counts 0).
  Image res = axpy(-1, ob, conv(x, false)), dx = gradPeriodic(x);
  double tv = 0;
  for (size_t p = 0; p < ob.size(); ++p)
    tv += std::hypot(dx[p], dx[ob.size() + p]);
  CHECK(lastOf(got, "phi") == doctest::Approx(0.5 * dot(res, res) + lambda * tv).epsilon(1e-4));
}

TEST_CASE("hqs with a growing mu equals a plain HQS loop") {
  std::mt19937 rng(12);
  Tensor o = randomImage(kH, kW, rng), k = randomKernel(3, rng);
  const double lambda = 0.05;
  lower::LowerResult r = lowerText("model t\ninput o : image\ninput k : kernel\n"
                                   "op K = conv(k, boundary = \"periodic\")\nvar x : image = o\n"
                                   "f(x) = 0.5 * || K x - o ||^2\ng(x) = 0.05 * l1(x)\n"
                                   "stages 10 hqs { mu = 0.2 * 1.5^l }\nmonitor primal_res\n",
                                   {{"o", {kH, kW}}, {"k", {3, 3}}});
  CHECK(hasLabel(r.graph, "x-update: FFT closed form"));
  RunResult got = runGraph(r.graph, {{"o", o}, {"k", k}});

  const Image ob = toImage(o);
  auto conv = [&](const Image& v, bool adj) { return convPeriodic(v, kH, kW, k, adj); };
  Image x = ob, z;
  for (int l = 0; l < 10; ++l) {
    const double mu = 0.2 * std::pow(1.5, l);
    z = softThreshold(x, lambda / mu);
    auto m = [&](const Image& v) { return axpy(mu, v, conv(conv(v, false), true)); };
    x = solveCg(m, axpy(mu, z, conv(ob, true)), x);
  }
  CHECK(relativeError(got.outputs.at("x"), x) < 1e-5);
  Image res = axpy(-1, z, x);
  CHECK(lastOf(got, "primal_res") == doctest::Approx(std::sqrt(dot(res, res))).epsilon(1e-3));
}

TEST_CASE("hqs with a Neumann gradient: the x-update by PCG (periodic preconditioner) is exact") {
  // grad with Neumann boundary is not circulant: the x-update is preconditioned CG whose
  // preconditioner is the FFT solve with periodic differences; with enough iterations it solves
  // (K'K + mu D'D) x = K'o + mu D'z to round-off, as the plain loop's CG does.
  std::mt19937 rng(16);
  Tensor o = randomImage(kH, kW, rng), k = randomKernel(3, rng);
  const double lambda = 0.05, mu = 0.7;
  const std::string model = "model t\ninput o : image\ninput k : kernel\n"
                            "op K = conv(k, boundary = \"periodic\")\nop D = grad\n"
                            "var x : image = o\nf(x) = 0.5 * || K x - o ||^2\n"
                            "g(x) = 0.05 * l21(D x)\n";
  lower::LowerResult automatic =
      lowerText(model + "stages 2 hqs { mu = 0.7 }\n", {{"o", {kH, kW}}, {"k", {3, 3}}});
  CHECK(hasLabel(automatic.graph, "x-update: pcg, 1 iterations"));
  lower::LowerResult r = lowerText(model + "stages 6 hqs { mu = 0.7; fstep = pcg(iters = 25) }\n",
                                   {{"o", {kH, kW}}, {"k", {3, 3}}});
  RunResult got = runGraph(r.graph, {{"o", o}, {"k", k}});
  const Image ob = toImage(o);
  auto conv = [&](const Image& v, bool adj) { return convPeriodic(v, kH, kW, k, adj); };
  auto m = [&](const Image& v) {
    return axpy(mu, gradAdjointOf(gradOf(v, false), false), conv(conv(v, false), true));
  };
  Image x = ob;
  for (int l = 0; l < 6; ++l) {
    Image z = shrinkL21(gradOf(x, false), lambda / mu);
    x = solveCg(m, axpy(mu, gradAdjointOf(z, false), conv(ob, true)), x);
  }
  CHECK(relativeError(got.outputs.at("x"), x) < 1e-5);
}

TEST_CASE("admm with one PCG step per x-update reaches FISTA's TV minimizer") {
  // l21(D x) with Neumann D is tv_iso(x): both solvers minimize the same objective.
  std::mt19937 rng(17);
  Tensor o = randomImage(kH, kW, rng), k = randomKernel(3, rng);
  const std::string head = "model t\ninput o : image\ninput k : kernel\n"
                           "op K = conv(k, boundary = \"periodic\")\nop D = grad\n"
                           "var x : image = o\nf(x) = 0.5 * || K x - o ||^2\n";
  const std::map<std::string, lower::InputShape> shapes{{"o", {kH, kW}}, {"k", {3, 3}}};
  RunResult admm = runGraph(lowerText(head + "g(x) = 0.05 * l21(D x) + nonneg(x)\n"
                                             "stages 600 admm { rho = 0.2 }\nmonitor phi\n",
                                      shapes)
                                .graph,
                            {{"o", o}, {"k", k}});
  RunResult fista = runGraph(lowerText(head + "g(x) = 0.05 * tv_iso(x) + nonneg(x)\n"
                                              "stages 3000 fista { }\nmonitor phi\n",
                                       shapes)
                                 .graph,
                             {{"o", o}, {"k", k}});
  CHECK(lastOf(admm, "phi") == doctest::Approx(lastOf(fista, "phi")).epsilon(1e-4));
  CHECK(relativeError(admm.outputs.at("x"), toImage(fista.outputs.at("x"))) < 1e-3);
}

TEST_CASE("pdhg with a mask and TV as dual blocks equals a plain Chambolle-Pock loop") {
  std::mt19937 rng(13);
  Tensor o = randomImage(kH, kW, rng), mask = Tensor::image(kH, kW);
  std::bernoulli_distribution keep(0.6);
  for (int64_t i = 0; i < mask.numel(); ++i)
    mask.data()[i] = keep(rng) ? 1.f : 0.f;
  const double tau = 0.3, sigma = 0.35, lambda = 0.03;
  lower::LowerResult r =
      lowerText("model t\ninput o : image\ninput m : image\nop M = mask(m)\n"
                "op D = grad(boundary = \"periodic\")\nvar x : image = o\n"
                "f(x) = 0.5 * || M x - o ||^2\ng(x) = box(x, lo = 0, hi = 1) + 0.03 * l21(D x)\n"
                "stages 25 pdhg { tau = 0.3; sigma = 0.35 }\nmonitor primal_res, dual_res\n",
                {{"o", {kH, kW}}, {"m", {kH, kW}}});
  RunResult got = runGraph(r.graph, {{"o", o}, {"m", mask}});

  // y1 (f block, K = M, c = -o): (v - sigma o) / (1 + sigma); y2 (TV block, K = D):
  // v - sigma shrink(v / sigma, lambda / sigma); x = clamp(x - tau (M y1 + D' y2), 0, 1).
  const Image ob = toImage(o), mb = toImage(mask);
  auto applyMask = [&](const Image& v) {
    Image out(v);
    for (size_t i = 0; i < v.size(); ++i)
      out[i] *= mb[i];
    return out;
  };
  Image x = ob, xbar = ob, y1(ob.size(), 0.0), y2(2 * ob.size(), 0.0);
  double primal = 0, dual = 0;
  for (int l = 0; l < 25; ++l) {
    Image v1 = axpy(sigma, applyMask(xbar), y1);
    Image y1n = axpy(-sigma, ob, v1);
    for (double& v : y1n)
      v /= 1 + sigma;
    Image v2 = axpy(sigma, gradPeriodic(xbar), y2), scaled = v2;
    for (double& v : scaled)
      v /= sigma;
    Image y2n = axpy(-sigma, shrinkL21(scaled, lambda / sigma), v2);
    Image xn = axpy(-tau, axpy(1, applyMask(y1n), gradPeriodicAdjoint(y2n)), x);
    for (double& v : xn)
      v = std::clamp(v, 0.0, 1.0);
    Image back = axpy(-1, xn, xbar), d1 = axpy(-1, y1n, y1), d2 = axpy(-1, y2n, y2);
    for (double& v : d1)
      v /= sigma;
    for (double& v : d2)
      v /= sigma;
    d1 = axpy(1, applyMask(back), d1);
    d2 = axpy(1, gradPeriodic(back), d2);
    dual = std::sqrt(dot(d1, d1) + dot(d2, d2));
    Image dx = axpy(-1, xn, x);
    primal = std::sqrt(dot(dx, dx)) / tau;
    xbar = axpy(2, xn, axpy(-1, x, Image(x.size(), 0.0)));
    x = xn;
    y1 = y1n;
    y2 = y2n;
  }
  CHECK(relativeError(got.outputs.at("x"), x) < 1e-5);
  CHECK(lastOf(got, "primal_res") == doctest::Approx(primal).epsilon(1e-3));
  CHECK(lastOf(got, "dual_res") == doctest::Approx(dual).epsilon(1e-3));
}

TEST_CASE("admm and pdhg reach the known minimizer of l1 denoising, hqs its own fixed point") {
  // argmin 0.5 ||x - o||^2 + lambda ||x||_1 = soft(o, lambda). HQS with a fixed mu converges to
  // the minimizer of f + the Moreau envelope of g: o - lambda sign(o) where |o| > lambda (1 +
  // 1/mu), else o / (1 + mu); it reaches the problem's minimizer only as mu grows without bound.
  std::mt19937 rng(14);
  Tensor o = randomImage(kH, kW, rng, -1, 1);
  const double lambda = 0.3, mu = 1;
  const Image soft = softThreshold(toImage(o), lambda);
  Image envelope(soft.size());
  for (size_t i = 0; i < soft.size(); ++i) {
    const double v = o.data()[i];
    envelope[i] =
        std::fabs(v) > lambda * (1 + 1 / mu) ? v - std::copysign(lambda, v) : v / (1 + mu);
  }
  const std::string head = "model t\ninput o : image\nvar x : image = o\n"
                           "f(x) = 0.5 * || x - o ||^2\ng(x) = 0.3 * l1(x)\n";
  const std::pair<const char*, const Image*> cases[] = {{"stages 200 admm { rho = 1 }", &soft},
                                                        {"stages 400 pdhg { }", &soft},
                                                        {"stages 80 hqs { mu = 1 }", &envelope}};
  for (const auto& [stages, want] : cases) {
    INFO(std::string(stages));
    lower::LowerResult r = lowerText(head + stages + "\n", {{"o", {kH, kW}}});
    RunResult got = runGraph(r.graph, {{"o", o}});
    double maxDiff = 0;
    for (int64_t i = 0; i < o.numel(); ++i)
      maxDiff = std::max(maxDiff, std::fabs(got.outputs.at("x").data()[i] - (*want)[size_t(i)]));
    CHECK(maxDiff < 1e-5);
  }
}

TEST_CASE("the x-update is chosen by structure: elementwise, FFT, CG") {
  const std::string mask = "model t\ninput o : image\ninput m : image\nop M = mask(m)\n"
                           "var x : image = o\nf(x) = 0.5 * || M x - o ||^2\n";
  lower::LowerResult diag = lowerText(mask + "g(x) = 0.1 * l1(x)\nstages 3 admm { rho = 1 }\n",
                                      {{"o", {8, 8}}, {"m", {8, 8}}});
  CHECK(hasLabel(diag.graph, "x-update: elementwise"));
  lower::LowerResult cg =
      lowerText(mask + "op D = grad\ng(x) = 0.1 * l21(D x)\nstages 3 admm { rho = 1 }\n",
                {{"o", {8, 8}}, {"m", {8, 8}}});
  CHECK(hasLabel(cg.graph, "x-update: cg"));
  // An orthogonal split contributes W'W = I: the mask's x-update stays elementwise.
  lower::LowerResult haar =
      lowerText(mask + "op W = haar(2)\ng(x) = 0.1 * l1(W x)\nstages 3 admm { rho = 1 }\n",
                {{"o", {8, 8}}, {"m", {8, 8}}});
  CHECK(hasLabel(haar.graph, "x-update: elementwise"));
  lower::LowerResult pdhg =
      lowerText(mask + "op D = grad\ng(x) = 0.1 * l21(D x)\nstages 3 pdhg { }\n",
                {{"o", {8, 8}}, {"m", {8, 8}}});
  CHECK_FALSE(hasLabel(pdhg.graph, "x-update"));
  CHECK(hasLabel(pdhg.graph, "||K||^2 (power iteration"));
}

// Plug-and-play HQS on periodic deconvolution with a random 2-layer denoiser, 4 stages with
// mu_l = 0.5 * 2^l: podm's run, and the pieces a hand loop needs (the loaded network, K).
struct PnpHqs {
  podm::test::ScratchDir scratch;
  std::mt19937 rng;
  nn::NetworkSpec spec = nn::residual(nn::dilatedCnn(2, 4, {1, 2}));
  Tensor o, k;
  RunResult got;
  std::optional<nn::Network> loaded; // the same weights, for the hand loop
  PnpHqs(unsigned seed, const std::string& settings) : rng(seed) {
    writeRandomWeights(spec, (scratch.path() / "den.safetensors").string(), rng);
    o = randomImage(kH, kW, rng), k = randomKernel(3, rng);
    lower::LowerResult r = lowerText(
        "model t\ninput o : image\ninput k : kernel\nop K = conv(k, boundary = \"periodic\")\n"
        "var x : image = o\nf(x) = 0.5 * || K x - o ||^2\n"
        "net A = residual(dilated_cnn(depth = 2, channels = 4, dilations = [1, 2])) "
        "weights \"den.safetensors\"\nstages 4 hqs { mu = 0.5 * 2^l; denoiser = A" +
            settings + " }\nmonitor primal_res\n",
        {{"o", {kH, kW}}, {"k", {3, 3}}});
    engine::StdlibNetworkProvider provider(scratch.path());
    setDefaultNetworkProvider(&provider);
    got = runGraph(r.graph, {{"o", o}, {"k", k}});
    setDefaultNetworkProvider(nullptr);
    loaded.emplace(nn::loadNetwork(spec, (scratch.path() / "den.safetensors").string()));
  }
  Image denoise(const Image& v) {
    Tensor in = toTensor(v, kH, kW), out(in.shape());
    loaded->forward(in, out);
    return toImage(out);
  }
  // argmin 0.5 ||K x - o||^2 + mu/2 ||x - v||^2 by CG from `start`.
  Image dataStep(double mu, const Image& v, const Image& start) {
    auto conv = [&](const Image& w, bool adj) { return convPeriodic(w, kH, kW, k, adj); };
    auto m = [&](const Image& w) { return axpy(mu, w, conv(conv(w, false), true)); };
    return solveCg(m, axpy(mu, v, conv(toImage(o), true)), start);
  }
};

TEST_CASE("plug-and-play hqs runs the denoiser where the prox was, as a hand loop does") {
  PnpHqs run(15, "");
  Image x = toImage(run.o);
  for (int l = 0; l < 4; ++l)
    x = run.dataStep(0.5 * std::pow(2, l), run.denoise(x), x);
  CHECK(relativeError(run.got.outputs.at("x"), x) < 1e-5);
}

TEST_CASE("hqs with estimate = \"z\" ends each stage with the denoiser, as IRCNN's loop does") {
  PnpHqs run(16, "; estimate = \"z\"");
  // IRCNN's order: the data step from the previous stage's denoised image, then the denoiser,
  // whose output is the estimate.
  Image z = toImage(run.o), x;
  for (int l = 0; l < 4; ++l) {
    x = run.dataStep(0.5 * std::pow(2, l), z, z);
    z = run.denoise(x);
  }
  CHECK(relativeError(run.got.outputs.at("x"), z) < 1e-5);
  CHECK_FALSE(relativeError(run.got.outputs.at("x"), x) < 1e-3); // not the x-update's result
}

TEST_CASE("what a solver cannot take is an error naming the place") {
  auto lowerError = [](const std::string& text) -> std::string {
    try {
      lowerText(text, {{"o", {8, 8}}});
    } catch (const lower::LowerError& e) {
      return e.what();
    }
    return "";
  };
  const std::string head = "model t\ninput o : image\nop D = grad\nvar x : image = o\n"
                           "f(x) = 0.5 * || x - o ||^2\n";
  // proxgrad needs the prox of g(D x), which has no closed form for a non-orthogonal D.
  CHECK(lowerError(head + "g(x) = 0.1 * l21(D x)\nstages 3 fista { }\n")
            .find("splitting solvers (admm, hqs, pdhg) take any operator") != std::string::npos);
  // pdhg's steps are fixed.
  CHECK(lowerError(head + "g(x) = 0.1 * l21(D x)\nstages 3 pdhg { tau = 0.1 * l }\n")
            .find("pdhg's steps tau and sigma are fixed") != std::string::npos);
  // hqs has no dual residual.
  CHECK(lowerError(head + "g(x) = 0.1 * l21(D x)\nstages 3 hqs { mu = 1 }\nmonitor dual_res\n")
            .find("'dual_res' is not available for hqs") != std::string::npos);
}
