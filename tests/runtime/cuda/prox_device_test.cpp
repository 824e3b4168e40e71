// The CUDA prox kernels (runtime/cuda/prox.cu) on a GPU against host loops over the same
// runtime/prox_math.h functions (prox_reference.h): the float kernels must agree bit for bit (no
// fma on either side), lp to its double rounding, TV to within what a reduction order may change
// in a restart decision. Without a GPU (or without CUDA in the build) the factory says why and
// these tests skip; the math itself is checked on every machine by prox_math_test.cpp.
#include "ir/builder.h"
#include "prox_reference.h"
#include "runtime/backend_factory.h"
#include "runtime/executor.h"
#include "runtime/prox_math.h"
#include "runtime/prox_provider.h"

#include <cmath>
#include <cstring>
#include <doctest/doctest.h>
#include <random>
#include <set>

using namespace podm;
using namespace podm::testing;
using ir::Op;
using ir::ValueId;

namespace {

std::unique_ptr<Backend> cudaOrSkip() {
  std::string why;
  auto cuda = makeCudaBackend(&why);
  if (!cuda)
    MESSAGE("cuda prox tests skipped: " << why);
  return cuda;
}

class Unused final : public ProxOperator {
public:
  void apply(const Tensor&, float, Tensor&) const override {
    throw std::logic_error("a built-in prox runs on the device here");
  }
};

// Claims the standard built-ins; the device kernels compute them, nothing on the host does.
class Builtins final : public ProxProvider {
public:
  std::unique_ptr<ProxOperator> make(std::string_view, const ProxArgList&) const override {
    return std::make_unique<Unused>();
  }
  bool builtin(std::string_view name) const override {
    static const std::set<std::string, std::less<>> names = {
        "l1", "l0", "nonneg", "box", "lp", "l21", "hardthre_box", "tv_iso", "tv_aniso"};
    return names.count(name) > 0;
  }
};

constexpr int64_t kN = 2, kC = 3, kH = 37, kW = 29;
constexpr float kGamma = 0.35f;

std::vector<float> noisyImage() {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.f, 0.3f);
  std::vector<float> v(size_t(kN * kC * kH * kW));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = ((i / 8) % 2 ? 0.7f : 0.1f) + normal(rng);
  return v;
}

// prox `fn` of noisyImage() at kGamma on the device. Run-time arguments are scalar inputs.
std::vector<float> onDevice(Backend& cuda, const std::string& fn, ir::NamedFloats args,
                            const std::vector<std::pair<std::string, float>>& runtime = {}) {
  ir::Graph g("cuda_prox_device");
  ir::Builder b(g);
  ValueId y = b.input("y", ir::Type::real({kN, kC, kH, kW}));
  std::vector<ValueId> operands{y, b.scalar(kGamma)};
  std::vector<std::string> names;
  for (const auto& [name, value] : runtime) {
    operands.push_back(b.input(name, ir::Type::scalar()));
    names.push_back(name);
  }
  ir::Attrs attrs{{"fn", fn}};
  if (!args.empty())
    attrs.set("args", args);
  if (!names.empty())
    attrs.set("operand_args", ir::joinNames(names));
  b.output("x", b.create(Op::Prox, operands, attrs, std::nullopt, "prox"));
  static const Builtins provider;
  setDefaultProxProvider(&provider);
  ExecutorOptions options;
  options.prox = &provider;
  auto cpu = makeCpuBackend();
  Executor ex(g, cuda, cpu.get(), options);
  setDefaultProxProvider(nullptr);
  CHECK(ex.notes().empty()); // the prox ran on the device
  std::map<std::string, Tensor> inputs;
  Tensor yt(Shape{kN, kC, kH, kW});
  const std::vector<float> v = noisyImage();
  std::copy(v.begin(), v.end(), yt.data());
  inputs.emplace("y", yt);
  for (const auto& [name, value] : runtime) {
    Tensor s(Shape{1, 1, 1, 1});
    s.data()[0] = value;
    inputs.emplace(name, s);
  }
  const Tensor& x = ex.run(inputs).outputs.at("x");
  return std::vector<float>(x.data(), x.data() + x.numel());
}

template <class F>
std::vector<float> onHost(F f) {
  std::vector<float> v = noisyImage();
  for (float& x : v)
    x = f(x);
  return v;
}

void checkSameBits(const std::vector<float>& device, const std::vector<float>& host) {
  REQUIRE(device.size() == host.size());
  size_t differ = 0;
  for (size_t i = 0; i < host.size(); ++i)
    differ += std::memcmp(&device[i], &host[i], sizeof(float)) != 0;
  CHECK(differ == 0);
}

} // namespace

TEST_CASE("cuda prox: the separable built-ins give the host's bits") {
  auto cuda = cudaOrSkip();
  if (!cuda)
    return;
  using namespace proxmath;
  checkSameBits(onDevice(*cuda, "l1", {}),
                onHost([](float x) { return softThreshold(x, kGamma); }));
  checkSameBits(onDevice(*cuda, "l0", {}),
                onHost([](float x) { return hardThreshold(x, l0CutoffSquared(kGamma)); }));
  checkSameBits(onDevice(*cuda, "nonneg", {}), onHost([](float x) { return nonnegative(x); }));
  checkSameBits(onDevice(*cuda, "box", {{"hi", 0.6}}, {{"lo", 0.2f}}),
                onHost([](float x) { return clampToBox(x, 0.2f, 0.6f); }));
  const float minimumGain = hardThreBoxMinimumGain(kGamma, 0.4f);
  checkSameBits(
      onDevice(*cuda, "hardthre_box", {{"hi", 1}, {"lo", 0.1}, {"threshold", 0.4}}),
      onHost([&](float x) { return hardThreBoxWithThreshold(x, 0.1f, 1.f, minimumGain); }));
  // lp: pow and fma in double differ from the host's in the last bits, not more.
  const LpShrinkage s = lpShrinkage(0.5, kGamma, lpIterationBound(0.5));
  const std::vector<float> lp = onDevice(*cuda, "lp", {}, {{"p", 0.5f}});
  const std::vector<float> lpHost = onHost([&](float x) { return lpShrink(x, s); });
  for (size_t i = 0; i < lp.size(); ++i)
    CHECK(lp[i] == doctest::Approx(lpHost[i]).epsilon(1e-6).scale(1e-6));
}

TEST_CASE("cuda prox: l21 and hardthre_box with count give the host's bits") {
  auto cuda = cudaOrSkip();
  if (!cuda)
    return;
  const std::vector<float> v = noisyImage();
  const int64_t plane = kH * kW, sample = kC * plane;
  std::vector<float> l21(v.size());
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t p = 0; p < plane; ++p) {
      float sumOfSquares = 0.f;
      for (int64_t c = 0; c < kC; ++c)
        sumOfSquares = proxmath::addSquare(sumOfSquares, v[size_t(n * sample + c * plane + p)]);
      const float factor = proxmath::groupShrinkFactor(sumOfSquares, kGamma);
      for (int64_t c = 0; c < kC; ++c)
        l21[size_t(n * sample + c * plane + p)] = v[size_t(n * sample + c * plane + p)] * factor;
    }
  checkSameBits(onDevice(*cuda, "l21", {}), l21);
  for (float count : {0.f, 1.f, 700.f, float(sample)}) {
    std::vector<float> host;
    for (int64_t n = 0; n < kN; ++n) {
      const std::vector<float> one(v.begin() + n * sample, v.begin() + (n + 1) * sample);
      const std::vector<float> kept = countProxLikeDevice(one, 0.2f, 0.9f, int64_t(count));
      host.insert(host.end(), kept.begin(), kept.end());
    }
    checkSameBits(onDevice(*cuda, "hardthre_box", {{"hi", 0.9}, {"lo", 0.2}}, {{"count", count}}),
                  host);
  }
}

TEST_CASE("cuda prox: TV's FGP on the device follows the host's iteration") {
  auto cuda = cudaOrSkip();
  if (!cuda)
    return;
  const std::vector<float> v = noisyImage();
  for (bool isotropic : {true, false})
    for (bool box : {false, true}) {
      const float lo = box ? 0.f : -INFINITY, hi = box ? 0.8f : INFINITY;
      std::vector<float> host;
      tvLikeDevice(v, host, kN * kC, PlaneSize{kH, kW}, kGamma, isotropic,
                   proxmath::kTvDefaultIterations, proxmath::kTvDefaultTolerance, lo, hi);
      ir::NamedFloats args;
      if (box)
        args = {{"hi", 0.8}, {"lo", 0.0}};
      const std::vector<float> device =
          onDevice(*cuda, isotropic ? "tv_iso" : "tv_aniso", args, {});
      // The per-pixel arithmetic is the host's; only the sums' order differs, which can move a
      // restart or the stop by an iteration.
      for (size_t i = 0; i < v.size(); ++i)
        CHECK(device[i] == doctest::Approx(host[i]).epsilon(1e-3).scale(1));
    }
  // Bounds read at run time.
  std::vector<float> host;
  tvLikeDevice(v, host, kN * kC, PlaneSize{kH, kW}, kGamma, true, 30, 0.0, 0.1f, 0.7f);
  const std::vector<float> device =
      onDevice(*cuda, "tv_iso", {{"iters", 30}, {"tol", 0}}, {{"lo", 0.1f}, {"hi", 0.7f}});
  for (size_t i = 0; i < v.size(); ++i)
    CHECK(device[i] == doctest::Approx(host[i]).epsilon(1e-4).scale(1));
}

TEST_CASE("cuda prox: a provider's own function stays on the host and the note says why") {
  auto cuda = cudaOrSkip();
  if (!cuda)
    return;
  class Own final : public ProxProvider {
  public:
    std::unique_ptr<ProxOperator> make(std::string_view, const ProxArgList&) const override {
      return std::make_unique<Unused>();
    }
  } own;
  ir::Graph g("cuda_prox_plugin");
  ir::Builder b(g);
  ValueId y = b.input("y", ir::Type::real({1, 1, 4, 4}));
  const std::vector<ValueId> operands{y, b.scalar(0.5f)};
  b.output("x", b.create(Op::Prox, operands, ir::Attrs{{"fn", std::string("l1")}}, std::nullopt,
                         "prox"));
  ExecutorOptions options;
  options.prox = &own;
  auto cpu = makeCpuBackend();
  Executor ex(g, *cuda, cpu.get(), options);
  REQUIRE(ex.notes().size() == 1);
  CHECK(ex.notes()[0].find("user prox plugins are host code") != std::string::npos);
}
