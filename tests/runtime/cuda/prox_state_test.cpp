// The CUDA `prox` node's builder on the host (no GPU needed, like cuda_state_test.cpp): a
// recording Backend stands in for device memory. It pins that only names the provider binds to
// the standard library's built-ins get a device kernel (user plugins and a provider's own function
// of the same name stay on the host, saying why), that an executor provider disagreeing with the
// one support was probed with is an error, that arguments a kernel cannot take on the device stay
// on the host, and what the TV solver allocates (nothing when probing) and frees.
#include "ir/builder.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/prox_launch.h"
#include "runtime/prox_provider.h"
#include "tests/runtime/recording_memory.h"

#include <cstdlib>
#include <cstring>
#include <doctest/doctest.h>
#include <map>
#include <set>
#include <stdexcept>

using namespace podm;
using namespace podm::cuda;
using ir::Op;
using ir::ValueId;

namespace {

using testing::RecordingMemory;

class Identity final : public ProxOperator {
public:
  void apply(const Tensor&, float, Tensor&) const override {}
};

// Binds every name; `builtins` are the names it says are the standard library's. An argument
// named "bad" is rejected, as a provider rejects a value.
class Provider final : public ProxProvider {
public:
  explicit Provider(std::set<std::string> builtins) : builtins_(std::move(builtins)) {}
  std::unique_ptr<ProxOperator> make(std::string_view, const ProxArgList& args) const override {
    for (const auto& [name, value] : args)
      if (name == "bad")
        throw std::invalid_argument("bad is not an argument");
    return std::make_unique<Identity>();
  }
  bool builtin(std::string_view name) const override {
    return builtins_.count(std::string(name)) > 0;
  }

private:
  std::set<std::string> builtins_;
};

const std::set<std::string> kStandard = {"l1",  "l0",           "nonneg", "box",     "lp",
                                         "l21", "hardthre_box", "tv_iso", "tv_aniso"};

// One prox node on a 2 x 3 x 9 x 7 input, with constant `args` and run-time `runtime` arguments
// (Pre-region scalars, as the lowering wires box bounds computed from an input).
struct ProxGraph {
  ir::Graph g{"cuda_prox_state"};
  ValueId prox;

  ProxGraph(const std::string& fn, ir::NamedFloats args, std::vector<std::string> runtime = {}) {
    ir::Builder b(g);
    ValueId y = b.input("y", ir::Type::real({2, 3, 9, 7}));
    std::vector<ValueId> operands{y, b.scalar(0.5f)};
    for (size_t i = 0; i < runtime.size(); ++i)
      operands.push_back(b.op(Op::Sum, {y}));
    ir::Attrs attrs{{"fn", fn}};
    if (!args.empty())
      attrs.set("args", args);
    if (!runtime.empty())
      attrs.set("operand_args", ir::joinNames(runtime));
    prox = b.create(Op::Prox, operands, attrs, std::nullopt, "prox");
    b.output("x", prox);
  }
};

bool onDevice(const CudaKernel& k) {
  return k.launch != nullptr;
}

CudaKernel build(const ProxGraph& s, Backend* memory, const PrepareContext* context) {
  CudaKernelTable table;
  registerProxKernels(table);
  const CudaKernelBuilder* builder = table.find(Op::Prox);
  REQUIRE(builder);
  return (*builder)(CudaBuildContext{s.g, s.prox, memory, context});
}

// Prepared with `provider` as the executor's and the process default.
CudaKernel prepared(const ProxGraph& s, Backend& memory, const ProxProvider& provider) {
  setDefaultProxProvider(&provider);
  PrepareContext context;
  context.prox = &provider;
  CudaKernel k = build(s, &memory, &context);
  setDefaultProxProvider(nullptr);
  return k;
}

} // namespace

TEST_CASE("cuda prox: the standard library's built-ins get device kernels, other names do not") {
  const Provider standard(kStandard), plugins({});
  RecordingMemory memory;
  for (const char* fn : {"l1", "l0", "nonneg", "l21"}) {
    ProxGraph s(fn, {});
    CHECK(onDevice(prepared(s, memory, standard)));
    const CudaKernel host = prepared(s, memory, plugins);
    CHECK_FALSE(onDevice(host));
    CHECK(host.unsupported.find("user prox plugins are host code") != std::string::npos);
  }
  CHECK(onDevice(prepared(ProxGraph("box", {{"hi", 1}, {"lo", 0}}), memory, standard)));
  CHECK(onDevice(prepared(ProxGraph("lp", {{"p", 0.5}}), memory, standard)));
  CHECK(onDevice(prepared(ProxGraph("hardthre_box", {{"hi", 1}, {"lo", 0}, {"threshold", 0.3}}),
                          memory, standard)));
  CHECK(onDevice(
      prepared(ProxGraph("hardthre_box", {{"count", 4}, {"hi", 1}, {"lo", 0}}), memory, standard)));
  // A built-in the device has no kernel for is the provider's business, and says so.
  const Provider more({"l1", "elastic"});
  const CudaKernel elastic = prepared(ProxGraph("elastic", {}), memory, more);
  CHECK_FALSE(onDevice(elastic));
  CHECK(elastic.unsupported.find("no device kernel") != std::string::npos);
  CHECK(memory.live.empty()); // the separable kernels own no device memory
}

TEST_CASE("cuda prox: probing asks the executor's provider, else the process default") {
  const Provider standard(kStandard), own({});
  ProxGraph s("l1", {});
  // No context and no provider installed: a runtime test's own l1 (tests/runtime/prox_test_util.h)
  // stays on the host.
  setDefaultProxProvider(nullptr);
  const CudaKernel probe = build(s, nullptr, nullptr);
  CHECK_FALSE(onDevice(probe));
  CHECK(probe.unsupported.find("user prox plugins are host code") != std::string::npos);
  setDefaultProxProvider(&standard);
  CHECK(onDevice(build(s, nullptr, nullptr)));
  // An executor binding its own l1 is asked when the backends are assigned (Backend::supports
  // gets its context), whatever the default says: its node stays on the host, where its l1 runs.
  PrepareContext context;
  context.prox = &own;
  CHECK_FALSE(onDevice(build(s, nullptr, &context)));
  // And the other way round: the executor's standard l1 goes to the device over a default that
  // binds its own.
  setDefaultProxProvider(&own);
  context.prox = &standard;
  CHECK(onDevice(build(s, nullptr, &context)));
  CHECK_FALSE(onDevice(build(s, nullptr, nullptr)));
  setDefaultProxProvider(nullptr);
}

TEST_CASE("cuda prox: arguments the device cannot take stay on the host, which reports them") {
  const Provider standard(kStandard);
  RecordingMemory memory;
  auto reason = [&](const ProxGraph& s) {
    const CudaKernel k = prepared(s, memory, standard);
    CHECK_FALSE(onDevice(k));
    return k.unsupported;
  };
  CHECK(reason(ProxGraph("l1", {{"bad", 1}})).find("bad") != std::string::npos);
  CHECK(reason(ProxGraph("l1", {}, {"lambda"})).find("lambda") != std::string::npos);
  CHECK(reason(ProxGraph("box", {{"lo", 0}})).find("lo and hi") != std::string::npos);
  CHECK(reason(ProxGraph("hardthre_box", {{"count", 2}, {"hi", 1}, {"lo", 0}, {"threshold", 1}}))
            .find("one of count and threshold") != std::string::npos);
  CHECK(reason(ProxGraph("hardthre_box", {{"count", 2.5}, {"hi", 1}}, {"lo"})).find("count") !=
        std::string::npos);
  CHECK(reason(ProxGraph("tv_iso", {}, {"iters"})).find("iters and warm") != std::string::npos);
  CHECK(reason(ProxGraph("tv_aniso", {{"lo", 0}}, {"warm"})).find("iters and warm") !=
        std::string::npos);
  CHECK(reason(ProxGraph("tv_iso", {{"iters", 2.5}}, {"lo"})).find("iters") != std::string::npos);
  // Run-time bounds are read on the device.
  CHECK(onDevice(prepared(ProxGraph("box", {}, {"lo", "hi"}), memory, standard)));
  CHECK(onDevice(
      prepared(ProxGraph("hardthre_box", {{"hi", 1}}, {"count", "lo"}), memory, standard)));
}

TEST_CASE("cuda prox: the run-time arguments' operands reach the launch parameters") {
  const Provider standard(kStandard);
  RecordingMemory memory;
  const CudaKernel k =
      prepared(ProxGraph("hardthre_box", {{"lo", -1}}, {"hi", "count"}), memory, standard);
  REQUIRE(k.state);
  LaunchArgs args;
  k.state->bind(args);
  const auto& params = *static_cast<const HardThreBoxCountParams*>(args.state);
  CHECK(params.lo.operand == -1);
  CHECK(params.lo.value == -1);
  CHECK(params.hi.operand == 2); // operands 2, 3 in operand_args' order
  CHECK(params.count.operand == 3);
  CHECK(params.samples == 2);
  CHECK(params.sampleSize == 3 * 9 * 7);
}

TEST_CASE("cuda prox: TV allocates its solver buffers when prepared, none when probing") {
  const Provider standard(kStandard);
  setDefaultProxProvider(&standard);
  ProxGraph s("tv_iso", {{"iters", 40}, {"tol", 1e-4}}, {"hi"});
  CHECK(onDevice(build(s, nullptr, nullptr)));
  RecordingMemory memory;
  {
    PrepareContext context;
    context.prox = &standard;
    CudaKernel k = build(s, &memory, &context);
    REQUIRE(onDevice(k));
    REQUIRE(k.state);
    const int64_t planes = 2 * 3, values = planes * 9 * 7;
    std::multiset<size_t> sizes;
    for (auto& [p, bytes] : memory.live)
      sizes.insert(bytes);
    CHECK(sizes ==
          std::multiset<size_t>{size_t(5 * values) * sizeof(float),
                                size_t(3 * planes * tvBlocksPerPlane(9 * 7)) * sizeof(double),
                                size_t(planes) * sizeof(TvPlaneControl), sizeof(TvNodeControl)});
    LaunchArgs args;
    k.state->bind(args);
    const auto& t = *static_cast<const TvProxParams*>(args.state);
    CHECK(t.isotropic);
    CHECK(t.planes == planes);
    CHECK(t.maxIterations == 40);
    CHECK(t.tolerance.value == 1e-4);
    CHECK(t.warmStart); // the default
    CHECK(t.lo.value == -std::numeric_limits<double>::infinity());
    CHECK(t.hi.operand == 2);
    // No call yet: the device starts the first one cold.
    TvNodeControl node;
    std::memcpy(&node, t.nodeControl, sizeof node);
    CHECK(node.hasBound == 0);
  }
  CHECK(memory.live.empty()); // the node's state returned every buffer
  setDefaultProxProvider(nullptr);
}
