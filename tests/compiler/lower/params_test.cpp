// Learnable parameters in the lowering (compiler/lower/params.cpp): the relaxed PODM deblurring
// model of Sec. 5.2 (examples/deblur_rpodm.podm with A = identity) lowers with `param` nodes for
// the mu mlp and the learnable DCT filters; at their initial values it computes exactly what the
// fixed model (dct_filters, mu = init) computes; the mlp's output at init equals `init` for any
// input; binding other values by name changes the result; bad bindings are clear errors.
#include "ir/printer.h"
#include "ir/serialize.h"
#include "lower_helpers.h"
#include "runtime/io/image.h"
#include "stdlib/nn/network.h"
#include "stdlib/nn/safetensors.h"
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

using namespace podm;
using namespace podm::testing;

namespace {

// deblur_rpodm with A = identity; `filters` and `mu` are substituted.
std::string model(const std::string& filters, const std::string& mu,
                  const std::string& param = "param mu_net[l] = mlp(sigma, hidden = [16, 16], "
                                             "init = 1e-2)") {
  return "model rpodm\n"
         "input o : image\n"
         "input k : kernel\n"
         "input sigma : scalar = 0.01\n"
         "op K = conv(k, boundary = \"periodic\")\n"
         "op F = " +
         filters +
         "\n"
         "var u : image = o\n"
         "f(u) = 0.5 * || K u - o ||^2\n"
         "g(u) = box(u, lo = 0, hi = 1)\n"
         "d(u, a) = mu / 2 * || F (u - a) ||^2\n" +
         param +
         "\n"
         "stages 6 relaxed { gamma = 0.99 / L(f); mu = " +
         mu + "; A = identity }\n";
}

const std::string kLearnable = "dct_filters(size = 3, learnable = true)";
const std::string kFixed = "dct_filters(size = 3)";

struct Problem {
  std::map<std::string, Tensor> inputs;
  std::map<std::string, lower::InputShape> shapes{{"o", {24, 20}}, {"k", {5, 5}}};
};

Problem problem() {
  std::mt19937 rng(7);
  Problem p;
  p.inputs["o"] = randomImage(24, 20, rng);
  p.inputs["k"] = randomKernel(5, rng);
  Tensor sigma(Shape{1, 1, 1, 1});
  sigma.data()[0] = 0.03f;
  p.inputs["sigma"] = sigma;
  return p;
}

double maxRelDiff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.numel() == b.numel());
  double scale = 0, diff = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    scale = std::max(scale, std::fabs(static_cast<double>(b.data()[i])));
    diff = std::max(diff, std::fabs(static_cast<double>(a.data()[i]) - b.data()[i]));
  }
  return diff / std::max(scale, 1e-30);
}

const ir::Node* param(const ir::Graph& g, const std::string& name) {
  for (const ir::Node& n : g.nodes())
    if (n.op == ir::Op::Param && n.attrs.getString("name") == name)
      return &n;
  return nullptr;
}

Tensor paramTensor(const ir::Node& n) {
  Tensor t(Shape{n.type.dims.n, n.type.dims.c, n.type.dims.h, n.type.dims.w});
  auto v = n.attrs.getData("value").values();
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

} // namespace

TEST_CASE("params: deblur_rpodm lowers to param nodes named param.<name>.<tensor>") {
  Problem p = problem();
  lower::LowerResult r = lowerText(model(kLearnable, "mu_net[l]"), p.shapes);
  const ir::Graph& g = r.graph;
  const ir::Node* filters = param(g, "param.F.filters");
  REQUIRE(filters);
  CHECK(filters->type.dims == ir::Dims{1, 8, 3, 3});
  // Three dense layers 1 -> 16 -> 16 -> 1, one slice per stage.
  const std::pair<const char*, ir::Dims> layers[] = {
      {"param.mu_net.w1", {6, 1, 16, 1}},  {"param.mu_net.b1", {6, 1, 16, 1}},
      {"param.mu_net.w2", {6, 1, 16, 16}}, {"param.mu_net.b2", {6, 1, 16, 1}},
      {"param.mu_net.w3", {6, 1, 1, 16}},  {"param.mu_net.b3", {6, 1, 1, 1}}};
  for (const auto& [name, dims] : layers) {
    INFO(name);
    const ir::Node* n = param(g, name);
    REQUIRE(n);
    CHECK(n->type.dims == dims);
    CHECK(n->region == ir::Region::Pre);
  }
  std::multiset<ir::Op> ops;
  for (const ir::Node& n : g.nodes())
    ops.insert(n.op);
  CHECK(ops.count(ir::Op::PickStage) == 6);
  CHECK(ops.count(ir::Op::Matvec) == 3);
  CHECK(ops.count(ir::Op::Elu) == 2);
  CHECK(ops.count(ir::Op::Softplus) == 1);
  CHECK(ops.count(ir::Op::FilterSpectrum) == 1);
  CHECK(ops.count(ir::Op::FilterBank) >= 1);
  CHECK(ops.count(ir::Op::DctFilters) == 0);
  // Deterministic init: lowering twice gives the same weights; hidden weights are not all zero.
  lower::LowerResult again = lowerText(model(kLearnable, "mu_net[l]"), p.shapes);
  CHECK(param(again.graph, "param.mu_net.w2")->attrs == param(g, "param.mu_net.w2")->attrs);
  auto w2 = param(g, "param.mu_net.w2")->attrs.getData("value").values();
  CHECK(std::any_of(w2.begin(), w2.end(), [](float v) { return v != 0.f; }));
}

TEST_CASE("params: dct_filters' arguments are read at their declared positions") {
  // size, boundary, learnable: written without names, the filters are still the learnable bank.
  Problem p = problem();
  lower::LowerResult r =
      lowerText(model("dct_filters(5, \"periodic\", true)", "mu_net[l]"), p.shapes);
  const ir::Node* filters = param(r.graph, "param.F.filters");
  REQUIRE(filters);
  CHECK(filters->type.dims == ir::Dims{1, 24, 5, 5});
}

TEST_CASE("params: at their initial values the learnable model equals the fixed one") {
  Problem p = problem();
  lower::LowerResult learn = lowerText(model(kLearnable, "mu_net[l]"), p.shapes);
  lower::LowerResult fixed = lowerText(model(kFixed, "1e-2"), p.shapes);
  RunResult a = runGraph(learn.graph, p.inputs);
  RunResult b = runGraph(fixed.graph, p.inputs);
  const Tensor& ua = a.outputs.at("u");
  const Tensor& ub = b.outputs.at("u");
  CHECK(maxRelDiff(ua, ub) <= 1e-5);
  // The comparison is not vacuous: the iteration moved away from the observation.
  CHECK(maxRelDiff(ua, p.inputs.at("o")) > 1e-3);
}

TEST_CASE("params: the mlp's output at init equals init for every input") {
  Problem p = problem();
  lower::LowerResult r = lowerText(
      model(kFixed, "m[l]", "param m = mlp(sigma, hidden = [8, 4], init = 0.37)"), p.shapes);
  const ir::Node* label = nullptr;
  uint32_t index = 0;
  for (uint32_t i = 0; i < r.graph.size(); ++i)
    if (r.graph.nodes()[i].label == "m (mlp)") {
      label = &r.graph.nodes()[i];
      index = i;
    }
  REQUIRE(label);
  REQUIRE(label->region == ir::Region::Pre);
  r.graph.mutableOutputs().push_back({"mu", ir::ValueId{index}});
  for (float sigma : {0.f, 0.03f, 0.5f, 3.f}) {
    p.inputs["sigma"].data()[0] = sigma;
    RunResult out = runGraph(r.graph, p.inputs);
    CHECK(out.outputs.at("mu").data()[0] == doctest::Approx(0.37).epsilon(1e-6));
  }
  // A learned scalar is its init.
  lower::LowerResult s =
      lowerText(model(kFixed, "mu_s[l]", "param mu_s[l] = learned(init = 0.2)"), p.shapes);
  const ir::Node* v = param(s.graph, "param.mu_s.value");
  REQUIRE(v);
  CHECK(v->type.dims == ir::Dims{6, 1, 1, 1});
  for (float x : v->attrs.getData("value").values())
    CHECK(x == doctest::Approx(0.2));
}

TEST_CASE("params: binding values by name changes the result; bad bindings are errors") {
  Problem p = problem();
  lower::LowerResult r = lowerText(model(kLearnable, "mu_net[l]"), p.shapes);
  engine::installStdlibProxProvider();
  cpu::CpuBackend cpu;
  Executor ex(r.graph, cpu);
  const Tensor base = ex.run(p.inputs).outputs.at("u");

  Tensor filters = paramTensor(*param(r.graph, "param.F.filters"));
  Tensor same = ex.run(p.inputs, {{"param.F.filters", filters}}).outputs.at("u");
  CHECK(maxRelDiff(same, base) == 0);

  for (int64_t i = 0; i < filters.numel(); ++i)
    filters.data()[i] *= 3.f;
  Tensor stronger = ex.run(p.inputs, {{"param.F.filters", filters}}).outputs.at("u");
  CHECK(maxRelDiff(stronger, base) > 1e-4);

  Tensor b3 = paramTensor(*param(r.graph, "param.mu_net.b3"));
  for (int64_t i = 0; i < b3.numel(); ++i)
    b3.data()[i] = 2.f; // softplus(2) / softplus(b3 init) ~ 3.1x larger mu
  Tensor mu = ex.run(p.inputs, {{"param.mu_net.b3", b3}}).outputs.at("u");
  CHECK(maxRelDiff(mu, base) > 1e-4);

  // The override does not leak into the next run.
  CHECK(maxRelDiff(ex.run(p.inputs).outputs.at("u"), base) == 0);

  CHECK_THROWS_WITH_AS(ex.run(p.inputs, {{"param.G.filters", filters}}),
                       doctest::Contains("no param named 'param.G.filters'"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(ex.run(p.inputs, {{"param.F.filters", Tensor(Shape{1, 8, 5, 5})}}),
                       doctest::Contains("param 'param.F.filters' must be f32[1x8x3x3], got "
                                         "f32[1x8x5x5]"),
                       std::invalid_argument);
}

TEST_CASE("params: misuse is a lowering error at the use") {
  Problem p = problem();
  CHECK_THROWS_WITH_AS(lowerText(model(kFixed, "mu_net[0]"), p.shapes),
                       doctest::Contains("indexed by the stage index: mu_net[l]"),
                       lower::LowerError);
  CHECK_THROWS_WITH_AS(
      lowerText(model(kFixed, "m[l]", "param m[l] = mlp(sigma, hidden = [4], init = -1)"),
                p.shapes),
      doctest::Contains("init must be positive"), lower::LowerError);
}

TEST_CASE("params: the lowered graph prints its params and survives a .pgraph round trip") {
  Problem p = problem();
  ir::Graph g = lowerText(model(kLearnable, "mu_net[l]"), p.shapes).graph;
  const std::string text = ir::dump(g);
  CHECK(text.find("param.F.filters") != std::string::npos);
  CHECK(text.find("filter_spectrum") != std::string::npos);
  CHECK(text.find("pick_stage") != std::string::npos);
  ir::Graph back = ir::deserialize(ir::serialize(g));
  CHECK(back == g);
  CHECK(ir::dump(back) == text);
}

TEST_CASE("params: podm run reads param.<name>.<tensor> from the net's weight file") {
  namespace fs = std::filesystem;
  podm::test::ScratchDir scratch;
  const fs::path& dir = scratch.path();
  std::mt19937 rng(5);
  // The relaxed model with a small residual CNN as A (weights in w.safetensors).
  std::string text = model(kLearnable, "mu_net[l]");
  text.replace(text.find("A = identity"), 12, "A = A");
  text.replace(
      text.find("stages"), 0,
      "net A = residual(dilated_cnn(depth = 2, channels = 4)) weights \"w.safetensors\"\n");
  std::ofstream(dir / "m.podm") << text;
  Problem p = problem();
  io::writeNpy((dir / "o.npy").string(), p.inputs.at("o"));
  io::writeNpy((dir / "k.npy").string(), p.inputs.at("k"));

  nn::Network net(nn::residual(nn::dilatedCnn(2, 4, {1, 1})));
  nn::TensorMap weights;
  std::normal_distribution<float> normal(0.f, 0.1f);
  for (const nn::TensorInfo& info : net.expectedWeights()) {
    nn::HostTensor t;
    t.shape = info.shape;
    t.data.resize(static_cast<size_t>(nn::checkedNumel(info.shape)));
    for (float& v : t.data)
      v = normal(rng);
    weights[info.name] = t;
  }
  const std::string run = "run " + (dir / "m.podm").string() +
                          " --input o=" + (dir / "o.npy").string() +
                          " --input k=" + (dir / "k.npy").string() + " -o ";

  nn::writeSafetensors((dir / "w.safetensors").string(), weights);
  PodmResult atInit = runPodm(run + (dir / "x1.npy").string());
  REQUIRE_MESSAGE(atInit.status == 0, atInit.out);
  CHECK(atInit.out.find("initial values (not in the net's weight file): param.F.filters") !=
        std::string::npos);

  // Trained filters in the same file: used, and only the mlp stays at its init.
  nn::HostTensor filters;
  filters.shape = {1, 8, 3, 3};
  const lower::LowerResult lowered = lowerText(model(kLearnable, "mu_net[l]"), p.shapes);
  auto init = param(lowered.graph, "param.F.filters")->attrs.getData("value").values();
  for (float v : init)
    filters.data.push_back(3.f * v);
  weights["param.F.filters"] = filters;
  nn::writeSafetensors((dir / "w.safetensors").string(), weights);
  PodmResult trained = runPodm(run + (dir / "x2.npy").string());
  REQUIRE_MESSAGE(trained.status == 0, trained.out);
  CHECK(trained.out.find("param.F.filters") == std::string::npos);
  CHECK(trained.out.find("param.mu_net.w1") != std::string::npos);
  CHECK(maxRelDiff(io::readImage((dir / "x2.npy").string()),
                   io::readImage((dir / "x1.npy").string())) > 1e-4);

  filters.shape = {8, 5, 5};
  filters.data.assign(200, 0.1f);
  weights["param.F.filters"] = filters;
  nn::writeSafetensors((dir / "w.safetensors").string(), weights);
  PodmResult wrong = runPodm(run + (dir / "x3.npy").string());
  CHECK(wrong.status == 1);
  CHECK(wrong.out.find("tensor 'param.F.filters' has shape [8, 5, 5] but the model's param "
                       "needs [1, 8, 3, 3]") != std::string::npos);
  CHECK(!fs::exists(dir / "x3.npy"));
}
