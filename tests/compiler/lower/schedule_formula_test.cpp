// Schedules written as formulas (frontend/sema/list_checker.cpp): their entries as the stage
// loop's schedule nodes see them, and zero-padded numbers in per-stage weight paths.
#include "lower_helpers.h"

#include <cmath>

using namespace podm;
using namespace podm::testing;

namespace {

const char* kHead = "model t\ninput o : image\nvar x : image = o\nf(x) = 0.5 * || x - o ||^2\n"
                    "g(x) = nonneg(x)\n";

// The values of the schedule node the setting `name` became.
std::vector<float> scheduleOf(const ir::Graph& g, const std::string& name) {
  for (const ir::Node& n : g.nodes())
    if (n.op == ir::Op::Schedule && n.attrs.getString("name") == name) {
      const std::vector<double> v = n.attrs.getFloats("values");
      return std::vector<float>(v.begin(), v.end());
    }
  return {};
}

} // namespace

TEST_CASE("geomspace, linspace, arithmetic, ceil and clamp on lists give the schedule's entries") {
  lower::LowerResult r =
      lowerText(std::string(kHead) + "schedule s = geomspace(49, 2.55, 4) / 255\n"
                                     "schedule t = clamp(ceil(s * 255 / 2), 1, 20)\n"
                                     "schedule u = 2 * linspace(0, 1, 4) ^ 2 - [1, 1, 1, 1]\n"
                                     "stages 4 fista {\n  gamma = s[l] + t[l] + u[l]\n}\n",
                {{"o", {8, 8}}});
  const std::vector<float> got = scheduleOf(r.graph, "gamma");
  REQUIRE(got.size() == 4);
  for (int l = 0; l < 4; ++l) {
    const double s = 49 * std::pow(2.55 / 49, l / 3.0) / 255;
    const double t = std::clamp(std::ceil(s * 255 / 2), 1.0, 20.0);
    const double u = 2 * (l / 3.0) * (l / 3.0) - 1;
    CHECK(got[size_t(l)] == doctest::Approx(s + t + u).epsilon(1e-6));
  }
  CHECK(got[0] == doctest::Approx(49 / 255.0 + 20 - 1).epsilon(1e-6)); // ceil(24.5) clamped to 20
}

TEST_CASE("a weight path pads an interpolated number with zeros: {idx[l]:02}") {
  lower::LowerResult r =
      lowerText(std::string(kHead) +
                    "schedule idx = clamp(ceil(geomspace(49, 2.55, 3) / 2), 1, 25)\n"
                    "net A[l] = residual(dilated_cnn(depth = 3, channels = 4, dilations = [1, "
                    "2, 1]))\n  weights \"ircnn/gray_{idx[l]:02}_{l:03}.safetensors\"\n"
                    "d(x, a) = 1 / 2 * || x - a ||^2\nstages 3 naive { }\n",
                {{"o", {8, 8}}});
  std::string weights;
  for (const ir::Node& n : r.graph.nodes())
    if (n.op == ir::Op::Network)
      weights = n.attrs.getString("weights");
  // 49/2 -> 25, sqrt(49 * 2.55)/2 = 5.6 -> 6, 2.55/2 -> 2; l from 0.
  CHECK(weights == "ircnn/gray_25_000.safetensors\nircnn/gray_06_001.safetensors\n"
                   "ircnn/gray_02_002.safetensors");
}
