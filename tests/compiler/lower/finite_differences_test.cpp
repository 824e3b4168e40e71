// dx and dy (stdlib/linop/finite_differences.cpp) through the whole compiler: their values are
// forward differences, and since ||grad x||^2 = ||dx x||^2 + ||dy x||^2 with the same periodic
// boundary, a Tikhonov model written with dx, dy gives the result of the one written with grad,
// through the FFT closed-form F-step in both.
#include "lower_helpers.h"

#include <cmath>
#include <doctest/doctest.h>

using namespace podm;
using namespace podm::testing;

namespace {

std::string tikhonov(const std::string& smoothing) {
  return "model t\ninput o : image\nvar x : image = o\n"
         "f(x) = 0.5 * || x - o ||^2 + " +
         smoothing +
         "\n"
         "g(x) = box(x, lo = -10, hi = 10)\n"
         "d(x, a) = mu / 2 * || x - a ||^2\n"
         "stages 3 podm { gamma = 0.9 / L(f); mu = 0.5; c = 0.2; A = identity }\n";
}

Tensor run(const std::string& text, const Tensor& o) {
  lower::LowerResult r = lowerText(text, {{"o", {o.shape().h, o.shape().w}}});
  bool fft = false;
  for (const std::string& note : r.notes)
    fft = fft || note.find("FFT closed form") != std::string::npos;
  CHECK_MESSAGE(fft, "the F-step should be the FFT closed form");
  return runGraph(r.graph, {{"o", o}}).outputs.begin()->second;
}

} // namespace

TEST_CASE("dx and dy are forward differences with the chosen boundary") {
  const std::string model = "model t\ninput o : image\nvar x : image = o\n"
                            "f(x) = 0.5 * || dx(\"symmetric\") x - o ||^2\n"
                            "g(x) = box(x, lo = -10, hi = 10)\n" // the identity on this data
                            "stages 1 proxgrad { gamma = 0.5 }\n";
  std::mt19937 rng(3);
  Tensor o = randomImage(6, 7, rng);
  // One gradient step from x = o: x1 = o - 0.5 dx'(dx o - o). Compare against a hand loop.
  Tensor x1 = runGraph(lowerText(model, {{"o", {6, 7}}}).graph, {{"o", o}}).outputs.begin()->second;
  const int64_t h = 6, w = 7;
  auto at = [&](const Tensor& t, int64_t i, int64_t j) { return t.data()[i * w + j]; };
  std::vector<double> r(h * w), adj(h * w, 0.0);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) // Neumann: zero difference at the last column
      r[i * w + j] = (j + 1 < w ? at(o, i, j + 1) - at(o, i, j) : 0.0) - at(o, i, j);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j + 1 < w; ++j) { // dx' r: the transpose of the matrix above
      adj[i * w + j + 1] += r[i * w + j];
      adj[i * w + j] -= r[i * w + j];
    }
  double err = 0;
  for (int64_t k = 0; k < h * w; ++k)
    err = std::max(err, std::abs(x1.data()[k] - (o.data()[k] - 0.5 * adj[k])));
  CHECK(err < 1e-5);
}

TEST_CASE("a model written with dx and dy gives the one written with grad") {
  std::mt19937 rng(7);
  Tensor o = randomImage(12, 10, rng);
  Tensor a =
      run(tikhonov("0.8 * || dx(\"periodic\") x ||^2 + 0.8 * || dy(\"periodic\") x ||^2"), o);
  Tensor b = run(tikhonov("0.8 * || grad(boundary = \"periodic\") x ||^2"), o);
  REQUIRE(a.shape() == b.shape());
  double err = 0;
  for (int64_t k = 0; k < a.numel(); ++k)
    err = std::max(err, double(std::abs(a.data()[k] - b.data()[k])));
  CHECK(err < 1e-5);
}
