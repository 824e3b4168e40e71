// The tape: its forward pass equals Executor::run on the lowered examples; gradients of a loss
// through unrolled stages (proximal gradient, relaxed PODM with A = identity, a fake trainable
// network) agree with finite differences; params are bound by name and get gradients; network
// weights get theirs most recent stage first; misuse fails with clear messages.
#include "gradcheck.h"
#include "ir/builder.h"
#include "runtime/autodiff/tape.h"
#include "tests/compiler/lower/lower_helpers.h"

#include <doctest/doctest.h>
#include <fstream>
#include <sstream>

using namespace podm;
using namespace podm::testing;
using autodiff::Tape;
using autodiff::TapeOptions;
using autodiff::Value;
using ir::Op;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot read " << path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Random data for every input of a graph: images in [0, 1], kernels positive with unit sum,
// scalars 0.01.
std::map<std::string, Tensor> randomInputs(const ir::Graph& g, std::mt19937& rng) {
  std::map<std::string, Tensor> in;
  for (ir::ValueId v : g.inputs()) {
    const ir::Node& n = g.node(v);
    const std::string& name = n.attrs.getString("name");
    Tensor t(toShape(n.type));
    if (n.type.isScalar())
      t.data()[0] = 0.01f;
    else if (name == "k")
      t = randomKernel(n.type.dims.h, rng);
    else
      t = randomImage(n.type.dims.h, n.type.dims.w, rng).reshaped(toShape(n.type));
    in.emplace(name, t);
  }
  return in;
}

double maxRelDiff(const Tensor& a, const Tensor& b) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    num = std::max(num, std::fabs(static_cast<double>(a.data()[i]) - b.data()[i]));
    den = std::max(den, std::fabs(static_cast<double>(b.data()[i])));
  }
  return num / std::max(den, 1e-30);
}

double lossOf(const Tensor& x, const Tensor& ref) {
  double s = 0;
  for (int64_t i = 0; i < x.numel(); ++i)
    s += (static_cast<double>(x.data()[i]) - ref.data()[i]) *
         (static_cast<double>(x.data()[i]) - ref.data()[i]);
  return s;
}

// d loss / d (x) = 2 (x - ref).
Tensor lossGrad(const Tensor& x, const Tensor& ref) {
  Tensor g(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i)
    g.data()[i] = 2.f * (x.data()[i] - ref.data()[i]);
  return g;
}

double innerT(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    s += static_cast<double>(a.data()[i]) * b.data()[i];
  return s;
}

Tensor plusT(const Tensor& a, const Tensor& d, double t) {
  Tensor r = a.clone();
  for (int64_t i = 0; i < a.numel(); ++i)
    r.data()[i] = static_cast<float>(a.data()[i] + t * d.data()[i]);
  return r;
}

// Gradient of ||x_out - ref||^2 with respect to input `name` against central differences along
// three random directions; returns the worst relative error.
double lossGradientError(const ir::Graph& g, const std::string& name,
                         std::map<std::string, Tensor> inputs, std::mt19937& rng, double h) {
  cpu::CpuBackend cpu;
  TapeOptions options;
  options.prox = &engine::installStdlibProxProvider();
  for (ir::ValueId v : g.inputs())
    if (g.node(v).attrs.getString("name") != name)
      options.noGradient.insert(g.node(v).attrs.getString("name"));
  Tape tape(g, cpu, options);
  const std::string out = g.outputs()[0].name;
  const Tensor x = tape.forward(inputs).outputs.at(out);
  const Tensor ref = randomImage(x.shape().h, x.shape().w, rng).reshaped(x.shape());
  auto grads = tape.backward({{out, lossGrad(x, ref)}});
  REQUIRE(grads.size() == 1);
  const Tensor grad = grads.at(name);
  double worst = 0;
  for (int k = 0; k < 3; ++k) {
    const Tensor dir =
        randomImage(grad.shape().h, grad.shape().w, rng, -1, 1).reshaped(grad.shape());
    const Tensor base = inputs.at(name);
    inputs[name] = plusT(base, dir, h);
    const double lp = lossOf(tape.forward(inputs).outputs.at(out), ref);
    inputs[name] = plusT(base, dir, -h);
    const double lm = lossOf(tape.forward(inputs).outputs.at(out), ref);
    inputs[name] = base;
    const double fd = (lp - lm) / (2 * h), an = innerT(grad, dir);
    INFO("direction " << k << ": finite difference " << fd << ", tape " << an);
    worst = std::max(worst, std::fabs(fd - an) / std::max(std::fabs(an), 1e-12));
  }
  return worst;
}

constexpr int64_t kH = 12, kW = 10;

} // namespace

// Networks in the examples run as the fake network of gradcheck.h (no weight files needed).
TEST_CASE("the tape's forward pass equals Executor::run on the lowered examples") {
  engine::installStdlibProxProvider();
  FakeNetworkProvider nets({0.5f}); // contractive on [0, 1]: the iterations stay finite
  const std::map<std::string, std::map<std::string, lower::InputShape>> examples = {
      {"deblur_podm", {{"o", {16, 16}}, {"k", {5, 5}}, {"ref", {16, 16}}}},
      {"proxgrad_deblur", {{"o", {16, 16}}, {"k", {5, 5}}, {"ref", {16, 16}}}},
      {"inpaint_mask", {{"o", {16, 16}}, {"m", {16, 16}}, {"ref", {16, 16}}}},
      {"fista_sr", {{"o", {8, 8}}}},
      {"naive_sr", {{"o", {8, 8}}}},
      {"sr_lp", {{"o", {8, 8}}}},
  };
  std::mt19937 rng(3);
  for (const auto& [name, shapes] : examples) {
    INFO(name);
    auto lowered =
        lowerText(readFile(std::string(PODM_SOURCE_DIR) + "/examples/" + name + ".podm"), shapes);
    auto inputs = randomInputs(lowered.graph, rng);
    cpu::CpuBackend cpu;
    ExecutorOptions exOptions;
    exOptions.network = &nets;
    Executor ex(lowered.graph, cpu, nullptr, exOptions);
    const RunResult want = ex.run(inputs);
    Tape tape(lowered.graph, cpu, TapeOptions{nullptr, &nets, {}});
    const RunResult got = tape.forward(inputs);
    CHECK(got.stages == want.stages);
    CHECK(tape.stagesRun() == want.stages);
    REQUIRE(got.outputs.size() == want.outputs.size());
    for (const auto& [out, t] : want.outputs) {
      INFO("output " << out);
      CHECK(maxRelDiff(got.outputs.at(out), t) <= 1e-6);
    }
    REQUIRE(got.monitors.names == want.monitors.names);
    for (size_t m = 0; m < want.monitors.names.size(); ++m) {
      INFO("monitor " << want.monitors.names[m]);
      REQUIRE(got.monitors.values[m].size() == want.monitors.values[m].size());
      for (size_t l = 0; l < want.monitors.values[m].size(); ++l)
        CHECK(std::fabs(got.monitors.values[m][l] - want.monitors.values[m][l]) <=
              1e-6 * std::max(1.f, std::fabs(want.monitors.values[m][l])));
    }
  }
}

// podm goes through its optimality check (a select per stage) along the branch taken; the step is
// small enough that no branch flips.
TEST_CASE("gradients through unrolled stages agree with finite differences in the image") {
  std::mt19937 rng(17);
  for (const std::string solver : {"proxgrad", "fista", "relaxed", "podm"}) {
    INFO(solver);
    auto lowered = lowerText(unrolledModel(solver, solver == "relaxed" || solver == "podm"
                                                       ? "d(x, a) = mu / 2 * || x - a ||^2\n"
                                                       : ""),
                             {{"o", {kH, kW}}, {"k", {5, 5}}});
    // Images away from 0, so the soft-thresholding kinks near 0 are not crossed by the steps.
    std::map<std::string, Tensor> inputs{{"o", randomImage(kH, kW, rng, 0.4f, 1.f)},
                                         {"k", randomKernel(5, rng)}};
    CHECK(lossGradientError(lowered.graph, "o", inputs, rng, 1e-3) <= 1e-2);
  }
}

TEST_CASE("network weights and inputs get gradients through the stages, latest stage first") {
  // x_{l+1} = 0.5 x_l + 0.5 A_l(x_l), three stages, A_l(x) = theta_l x + 0.1 x^2.
  ir::Graph g("net");
  ir::Builder b(g);
  const ir::Type img = ir::Type::real({1, 1, 4, 5});
  ir::ValueId x0 = b.input("x0", img);
  ir::ValueId half = b.scalar(0.5f);
  b.beginLoop(3);
  ir::ValueId x = b.loopState(x0, "x");
  ir::ValueId a = b.op(Op::Network, {x},
                       {{"net", std::string("A")},
                        {"spec", std::string("fake")},
                        {"weights", ir::joinWeightPaths({"s0", "s1", "s2"})},
                        {"prefix", std::string("")}},
                       "x_A");
  b.carry(x, b.op(Op::Axpby, {half, x, half, a}));
  b.endLoop();
  b.output("x", b.loopResult(x));

  FakeNetworkProvider nets({0.9f, -0.4f, 1.3f});
  cpu::CpuBackend cpu;
  Tape tape(g, cpu, TapeOptions{nullptr, &nets, {}});
  std::mt19937 rng(23);
  const Tensor x0v = randomImage(4, 5, rng, -1, 1);
  const Tensor out = tape.forward({{"x0", x0v}}).outputs.at("x");
  const Tensor ref = randomImage(4, 5, rng);
  auto grads = tape.backward({{"x", lossGrad(out, ref)}});
  CHECK(nets.calls == std::vector<int64_t>{2, 1, 0});

  const double h = 1e-3;
  for (size_t l = 0; l < 3; ++l) {
    INFO("theta of stage " << l);
    float& theta = nets.weights[l].value.data()[0];
    const float keep = theta;
    theta = keep + static_cast<float>(h);
    const double lp = lossOf(tape.forward({{"x0", x0v}}).outputs.at("x"), ref);
    theta = keep - static_cast<float>(h);
    const double lm = lossOf(tape.forward({{"x0", x0v}}).outputs.at("x"), ref);
    theta = keep;
    const double fd = (lp - lm) / (2 * h), an = nets.weights[l].grad.data()[0];
    CHECK(std::fabs(fd - an) <= 5e-3 * std::max(std::fabs(an), 1e-3));
  }
  const Tensor dir = randomImage(4, 5, rng, -1, 1);
  const double lp = lossOf(tape.forward({{"x0", plusT(x0v, dir, h)}}).outputs.at("x"), ref);
  const double lm = lossOf(tape.forward({{"x0", plusT(x0v, dir, -h)}}).outputs.at("x"), ref);
  const double fd = (lp - lm) / (2 * h), an = innerT(grads.at("x0"), dir);
  CHECK(std::fabs(fd - an) <= 5e-3 * std::max(std::fabs(an), 1e-3));
}

TEST_CASE("params are bound by name, default to their initial value and get gradients") {
  ir::Graph g("param");
  ir::Builder b(g);
  const ir::Type t = ir::Type::real({1, 1, 2, 3});
  ir::ValueId x = b.input("x", t);
  ir::ValueId p =
      b.create(Op::Param, {},
               {{"name", std::string("w")}, {"value", ir::TensorData({1, 2, 3, 4, 5, 6})}}, t);
  b.output("y", b.op(Op::Mul, {x, p}));
  cpu::CpuBackend cpu;
  Tape tape(g, cpu);
  std::mt19937 rng(29);
  const Tensor xv = randomImage(2, 3, rng, -1, 1), wv = randomImage(2, 3, rng, -1, 1),
               dy = randomImage(2, 3, rng, -1, 1);

  Tensor y = tape.forward({{"x", xv}}).outputs.at("y");
  for (int64_t i = 0; i < 6; ++i)
    CHECK(y.data()[i] == doctest::Approx(xv.data()[i] * static_cast<float>(i + 1)));
  y = tape.forward({{"x", xv}}, {{"w", wv}}).outputs.at("y");
  auto grads = tape.backward({{"y", dy}});
  REQUIRE(grads.count("w"));
  REQUIRE(grads.count("x"));
  for (int64_t i = 0; i < 6; ++i) {
    CHECK(y.data()[i] == doctest::Approx(xv.data()[i] * wv.data()[i]));
    CHECK(grads.at("w").data()[i] == doctest::Approx(dy.data()[i] * xv.data()[i]));
    CHECK(grads.at("x").data()[i] == doctest::Approx(dy.data()[i] * wv.data()[i]));
  }
  CHECK_THROWS_WITH(tape.forward({{"x", xv}}, {{"v", wv}}),
                    doctest::Contains("no param named 'v'"));
  CHECK_THROWS_WITH(tape.forward({{"x", xv}}, {{"w", Tensor::image(3, 2)}}),
                    doctest::Contains("param 'w' must be"));
}

TEST_CASE("backward needs a forward, and names the op and node without a rule") {
  cpu::CpuBackend cpu;
  // An op with a kernel but no backward rule, found in the op table so the test keeps working
  // as rules are added: one real operand, no required attributes.
  const ir::OpInfo* ruleless = nullptr;
  for (const ir::OpInfo& info : ir::allOps()) {
    bool required = false;
    for (const ir::AttrSpec& a : info.attrs)
      required = required || a.required;
    if (!autodiff::ruleTable().find(info.op) && info.signature == "R" && !required &&
        info.region == ir::RegionRule::Any && !info.has(ir::trait::NoKernel))
      ruleless = &info;
  }
  REQUIRE_MESSAGE(ruleless, "every op has a backward rule now: pick another failure case");
  ir::Graph g("norule");
  ir::Builder b(g);
  ir::ValueId x = b.input("x", ir::Type::real({1, 1, 2, 2}));
  ir::ValueId ids[] = {x};
  ir::ValueId y = b.create(ruleless->op, ids, {}, std::nullopt, "the_node");
  b.output("y", y);
  Tape tape(g, cpu);
  const Tensor dy(toShape(g.type(y)));
  CHECK_THROWS_WITH(tape.backward({{"y", dy}}), doctest::Contains("needs a forward()"));
  tape.forward({{"x", Tensor::image(2, 2)}});
  const std::string message = "no backward rule for op '" + std::string(ruleless->name) + "'";
  CHECK_THROWS_WITH(tape.backward({{"y", dy}}), doctest::Contains(message.c_str()));
  CHECK_THROWS_WITH(tape.backward({{"y", dy}}), doctest::Contains("\"the_node\""));
  CHECK_THROWS_WITH(tape.backward({{"nope", dy}}), doctest::Contains("no output named 'nope'"));
  CHECK_THROWS_WITH(Tape(g, cpu, TapeOptions{nullptr, nullptr, {"z"}}),
                    doctest::Contains("noGradient names 'z'"));
}

// Box bounds computed from the observation (lo = min(o)) are run-time prox arguments: data, so a
// gradient with respect to o that would flow through them is refused, naming the node.
TEST_CASE("a gradient through run-time prox arguments is refused with a clear message") {
  auto lowered = lowerText(
      "model t\ninput o : image\ninput k : kernel\nop K = conv(k, boundary = \"periodic\")\n"
      "var x : image = o\nf(x) = 0.5 * || K x - o ||^2\n"
      "g(x) = box(x, lo = min(o), hi = max(o))\n"
      "stages 2 proxgrad {\n  gamma = 0.9 / L(f)\n}\n",
      {{"o", {kH, kW}}, {"k", {5, 5}}});
  std::mt19937 rng(31);
  const std::map<std::string, Tensor> inputs{{"o", randomImage(kH, kW, rng)},
                                             {"k", randomKernel(5, rng)}};
  cpu::CpuBackend cpu;
  TapeOptions options;
  options.prox = &engine::installStdlibProxProvider();
  options.noGradient = {"k"};
  Tape tape(lowered.graph, cpu, options);
  const Tensor x = tape.forward(inputs).outputs.at("x");
  CHECK_THROWS_WITH(tape.backward({{"x", x}}),
                    doctest::Contains("no gradient with respect to the prox's run-time argument"));
}
