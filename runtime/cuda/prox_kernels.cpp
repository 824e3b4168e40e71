// The prox node on the device: builders for the standard library's built-in prox functions, whose
// math (runtime/prox_math.h) the kernels of prox.cu share with the CPU. A node gets a device
// kernel only when its prox provider says the name binds the built-in (ProxProvider::builtin):
// a user plugin, or a provider's own function of the same name, is host code and stays on the
// CPU fallback. So do arguments a kernel cannot take on the device (TV's iteration count and warm
// flag computed at run time: they steer the host's loop) and arguments the provider rejects (the
// CPU kernel reports them). Run-time arguments (operands 2...) are read by the kernels on the
// device; unlike the CPU, which re-binds and checks each new value, the device does not check
// them (a run-time lo > hi clamps to hi, a fractional count is truncated).
#include "ir/builder.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/prox_launch.h"
#include "runtime/prox_math.h"
#include "runtime/prox_provider.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace podm::cuda {
namespace {

// The node's arguments by name: constants from `args`, run-time ones from `operand_args`.
class ProxArguments {
public:
  explicit ProxArguments(const ir::Node& node) {
    if (node.attrs.has("args")) {
      const ir::NamedFloats& args = node.attrs.getNamed("args");
      constants_.assign(args.begin(), args.end());
    }
    if (node.attrs.has("operand_args"))
      runtime_ = ir::splitNames(node.attrs.getString("operand_args"));
  }

  bool has(const std::string& name) const { return runtime(name) || constant(name); }
  bool runtime(const std::string& name) const {
    return std::find(runtime_.begin(), runtime_.end(), name) != runtime_.end();
  }
  bool anyRuntime() const { return !runtime_.empty(); }
  const ProxArgList& constants() const { return constants_; }

  // The argument as a kernel reads it; `fallback` when the node does not give it.
  ProxArg get(const std::string& name, double fallback = 0) const {
    for (size_t i = 0; i < runtime_.size(); ++i)
      if (runtime_[i] == name)
        return {0.0, static_cast<int>(2 + i)};
    const double* value = constant(name);
    return {value ? *value : fallback, -1};
  }

  // The first argument given that is not among `known` (null-terminated), or "".
  std::string unknown(const char* const* known) const {
    auto isKnown = [&](const std::string& name) {
      for (const char* const* k = known; *k; ++k)
        if (name == *k)
          return true;
      return false;
    };
    for (const auto& [name, value] : constants_)
      if (!isKnown(name))
        return name;
    for (const std::string& name : runtime_)
      if (!isKnown(name))
        return name;
    return "";
  }

private:
  const double* constant(const std::string& name) const {
    for (const auto& [n, v] : constants_)
      if (n == name)
        return &v;
    return nullptr;
  }

  ProxArgList constants_;
  std::vector<std::string> runtime_;
};

// A launch's parameters, handed to it as args.state.
template <class Params>
struct ParamsState final : NodeState {
  Params params;
  void bind(LaunchArgs& args) const override { args.state = &params; }
};

template <class Params>
CudaKernel kernelWith(const CudaBuildContext& c, Launch launch, const Params& params) {
  CudaKernel k;
  k.launch = launch;
  k.n = c.result().numel();
  auto state = std::make_unique<ParamsState<Params>>();
  state->params = params;
  k.state = std::move(state);
  return k;
}

CudaKernel unsupported(std::string why) {
  CudaKernel k;
  k.unsupported = std::move(why);
  return k;
}

CudaKernel separable(const CudaBuildContext& c, SeparableProx f, SeparableProxParams params = {}) {
  return kernelWith(c, separableProxLaunch(f), params);
}

using DeviceProxBuilder = CudaKernel (*)(const CudaBuildContext& c, const ProxArguments& args);

CudaKernel buildL1(const CudaBuildContext& c, const ProxArguments&) {
  return separable(c, SeparableProx::L1);
}
CudaKernel buildL0(const CudaBuildContext& c, const ProxArguments&) {
  return separable(c, SeparableProx::L0);
}
CudaKernel buildNonneg(const CudaBuildContext& c, const ProxArguments&) {
  return separable(c, SeparableProx::Nonneg);
}
CudaKernel buildBox(const CudaBuildContext& c, const ProxArguments& args) {
  if (!args.has("lo") || !args.has("hi"))
    return unsupported("box needs lo and hi; the host reports it");
  return separable(c, SeparableProx::Box, {args.get("lo"), args.get("hi"), {}});
}
CudaKernel buildLp(const CudaBuildContext& c, const ProxArguments& args) {
  if (!args.has("p"))
    return unsupported("lp needs p; the host reports it");
  return separable(c, SeparableProx::Lp, {args.get("p"), {}, {}});
}

CudaKernel buildHardThreBox(const CudaBuildContext& c, const ProxArguments& args) {
  if (!args.has("lo") || !args.has("hi") || args.has("count") == args.has("threshold"))
    return unsupported("hardthre_box needs lo, hi and one of count and threshold; the host "
                       "reports it");
  if (args.has("threshold"))
    return separable(c, SeparableProx::HardThreBoxThreshold,
                     {args.get("lo"), args.get("hi"), args.get("threshold")});
  const ProxArg count = args.get("count");
  if (count.operand < 0 && !(count.value >= 0 && count.value == std::floor(count.value)))
    return unsupported("hardthre_box's count is rejected; the host reports it");
  const ir::Dims& d = c.operand(0).dims;
  HardThreBoxCountParams params{args.get("lo"), args.get("hi"), count, d.n, d.c * d.h * d.w};
  // The selection counts a sample's entries in 32-bit counters.
  if (params.sampleSize >= (int64_t{1} << 31))
    return unsupported("hardthre_box with count: samples of 2^31 entries or more");
  return kernelWith(c, hardThreBoxCountLaunch(), params);
}

CudaKernel buildL21(const CudaBuildContext& c, const ProxArguments&) {
  const ir::Dims& d = c.operand(0).dims;
  return kernelWith(c, groupShrinkLaunch(), GroupShrinkParams{d.n, d.c, d.h * d.w});
}

// The FGP solver's device buffers and parameters (prox_launch.h); the buffers exist only on a
// prepared node (not when probing).
struct TvState final : NodeState {
  TvProxParams params;
  DeviceBuffer buffers, partials, planeControl, nodeControl;
  void bind(LaunchArgs& args) const override { args.state = &params; }
};

constexpr int64_t kMaxTvPlanes = 65535; // grid.y of the per-plane kernels

CudaKernel buildTv(const CudaBuildContext& c, const ProxArguments& args, bool isotropic) {
  if (args.runtime("iters") || args.runtime("warm"))
    return unsupported("tv's iters and warm steer the host's iteration loop: computed at run "
                       "time, they run on the host");
  const double iterations = args.get("iters", proxmath::kTvDefaultIterations).value;
  const double warm = args.get("warm", proxmath::kTvDefaultWarmStart ? 1 : 0).value;
  if (!(iterations >= 1 && iterations <= 1e6 && iterations == std::floor(iterations)) ||
      !(warm == 0 || warm == 1))
    return unsupported("tv's iters or warm is rejected; the host reports it");
  const ir::Dims& d = c.operand(0).dims;
  const int64_t planes = d.n * d.c;
  if (planes > kMaxTvPlanes)
    return unsupported("tv on more than 65535 planes");
  CudaKernel k;
  k.launch = tvProxLaunch();
  k.n = c.result().numel();
  if (!c.allocator)
    return k;
  auto state = std::make_unique<TvState>();
  TvProxParams& t = state->params;
  t.isotropic = isotropic;
  t.planes = planes;
  t.h = d.h;
  t.w = d.w;
  t.maxIterations = static_cast<int>(iterations);
  t.tolerance = args.get("tol", proxmath::kTvDefaultTolerance);
  t.lo = args.get("lo", -std::numeric_limits<double>::infinity());
  t.hi = args.get("hi", std::numeric_limits<double>::infinity());
  t.warmStart = warm != 0;
  const auto values = static_cast<size_t>(planes * d.h * d.w);
  const auto blocks = static_cast<size_t>(planes * tvBlocksPerPlane(d.h * d.w));
  state->buffers = DeviceBuffer(*c.allocator, 5 * values * sizeof(float));
  state->partials = DeviceBuffer(*c.allocator, 3 * blocks * sizeof(double));
  state->planeControl =
      DeviceBuffer(*c.allocator, static_cast<size_t>(planes) * sizeof(TvPlaneControl));
  state->nodeControl = DeviceBuffer(*c.allocator, sizeof(TvNodeControl));
  const TvNodeControl fresh{}; // no previous call: hasBound = 0
  c.allocator->upload(state->nodeControl.ptr(), &fresh, sizeof fresh);
  t.buffers = static_cast<float*>(state->buffers.get());
  t.partials = static_cast<double*>(state->partials.get());
  t.planeControl = static_cast<TvPlaneControl*>(state->planeControl.get());
  t.nodeControl = static_cast<TvNodeControl*>(state->nodeControl.get());
  k.state = std::move(state);
  return k;
}

CudaKernel buildTvIso(const CudaBuildContext& c, const ProxArguments& args) {
  return buildTv(c, args, true);
}
CudaKernel buildTvAniso(const CudaBuildContext& c, const ProxArguments& args) {
  return buildTv(c, args, false);
}

// The built-ins with a device kernel, and the arguments each takes (null-terminated).
struct DeviceProx {
  const char* name;
  DeviceProxBuilder build;
  const char* params[6];
};
constexpr DeviceProx kDeviceProxes[] = {
    {"l1", buildL1, {}},
    {"l0", buildL0, {}},
    {"nonneg", buildNonneg, {}},
    {"box", buildBox, {"lo", "hi"}},
    {"lp", buildLp, {"p"}},
    {"hardthre_box", buildHardThreBox, {"lo", "hi", "count", "threshold"}},
    {"l21", buildL21, {}},
    {"tv_iso", buildTvIso, {"iters", "tol", "warm", "lo", "hi"}},
    {"tv_aniso", buildTvAniso, {"iters", "tol", "warm", "lo", "hi"}},
};

const DeviceProx* deviceProx(const std::string& name) {
  for (const DeviceProx& p : kDeviceProxes)
    if (name == p.name)
      return &p;
  return nullptr;
}

bool bindsBuiltin(const ProxProvider* provider, const std::string& fn) {
  return provider && provider->builtin(fn);
}

// The executor's provider decides, when support is probed as when the kernel is prepared
// (Backend::supports gets the same context), so a name it binds to other code than the standard
// library's goes to the host backend, where that code runs. No context: the process default, as
// on the CPU.
CudaKernel buildProx(const CudaBuildContext& c) {
  const std::string& fn = c.node().attrs.getString("fn");
  const ProxProvider* provider =
      c.context && c.context->prox ? c.context->prox : defaultProxProvider();
  if (!bindsBuiltin(provider, fn))
    return unsupported("'" + fn +
                       "' is not bound to the standard library's built-in: user prox "
                       "plugins are host code");
  if (!c.operand(0).isRealTensor())
    return unsupported("prox takes an f32 tensor");
  const DeviceProx* device = deviceProx(fn);
  if (!device)
    return unsupported("the standard library's '" + fn + "' has no device kernel");
  const ProxArguments args(c.node());
  const std::string unknown = args.unknown(device->params);
  if (!unknown.empty())
    return unsupported(fn + " takes no argument '" + unknown + "'; the host reports it");
  // Constant arguments are checked by the provider now, as the CPU kernel checks them; a rejected
  // node stays on the host, whose kernel reports the provider's message. Beside run-time ones,
  // the compiler has checked them (run-time ones at placeholders, compiler/lower/prior.cpp).
  if (!args.anyRuntime()) {
    try {
      provider->make(fn, args.constants());
    } catch (const std::exception& e) {
      return unsupported(fn + "'s arguments are rejected (" + e.what() + ")");
    }
  }
  return device->build(c, args);
}

} // namespace

void registerProxKernels(CudaKernelTable& t) {
  t.add(ir::Op::Prox, buildProx);
}

} // namespace podm::cuda
