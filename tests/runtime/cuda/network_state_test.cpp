// The CUDA `network` node's builder on the host (no GPU needed, like cuda_state_test.cpp): a
// recording Backend stands in for device memory. It pins that probing allocates nothing, that
// each distinct weight set is uploaded once (laid out as the launch reads it) with the activation
// buffers the plan needs, that a provider whose operators do not describe their layers keeps its
// nodes off the device (and one that says so wrongly is an error), and that inputs the network
// does not fit are refused naming the node.
#include "ir/builder.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/network_provider.h"
#include "tests/runtime/recording_memory.h"

#include <cstdlib>
#include <cstring>
#include <doctest/doctest.h>
#include <map>
#include <stdexcept>

using namespace podm;
using namespace podm::cuda;
using ir::Op;
using ir::ValueId;

namespace {

using testing::RecordingMemory;

// conv 1->2 (3x3, ReLU), conv 2->1 (3x3), residual: weights 18 + 2 and 18 + 1 floats.
struct Weights {
  std::vector<float> w0, b0, w1, b1;
  explicit Weights(float base) {
    for (int i = 0; i < 18; ++i) {
      w0.push_back(base + float(i));
      w1.push_back(base - float(i));
    }
    b0 = {base * 2, base * 3};
    b1 = {base * 5};
  }
  std::vector<NetLayer> layers() const {
    NetLayer a;
    a.in = 1, a.out = 2, a.kernel = 3;
    a.activation = NetActivation::ReLU;
    a.weight = w0.data(), a.bias = b0.data();
    NetLayer b;
    b.in = 2, b.out = 1, b.kernel = 3;
    b.weight = w1.data(), b.bias = b1.data();
    return {a, b};
  }
};

// Describes stages 0, 1, 2 on weight sets A, B, A; `perStage` lists one network per stage (the
// first and last with the same pointers), as a provider without its own deduplication would.
class DescribedNetwork final : public NetworkOperator {
public:
  DescribedNetwork(const Weights& a, const Weights& b, bool perStage)
      : a_(a), b_(b), perStage_(perStage) {}
  void apply(const Tensor&, int64_t, Tensor&) override {
    throw std::logic_error("a described network runs on cuDNN, not through apply");
  }
  NetworkDescription describe() override {
    NetworkDescription d;
    d.inChannels = 1;
    d.residual = true;
    if (perStage_) {
      d.networks = {a_.layers(), b_.layers(), a_.layers()};
      d.stageNetwork = {0, 1, 2};
    } else {
      d.networks = {a_.layers(), b_.layers()};
      d.stageNetwork = {0, 1, 0};
    }
    return d;
  }

private:
  const Weights &a_, &b_;
  bool perStage_;
};

// out = (stage + 1) * in + 0.5, through apply() only.
class HostOnlyNetwork final : public NetworkOperator {
public:
  void apply(const Tensor& in, int64_t stage, Tensor& out) override {
    for (int64_t i = 0; i < in.numel(); ++i)
      out.data()[i] = float(stage + 1) * in.data()[i] + 0.5f;
  }
};

class Provider final : public NetworkProvider {
public:
  Weights a{1.0f}, b{100.0f};
  bool describes = true; // what describesLayers() claims
  std::unique_ptr<NetworkOperator> make(const NetworkDesc& desc) const override {
    if (desc.spec == "host only")
      return std::make_unique<HostOnlyNetwork>();
    return std::make_unique<DescribedNetwork>(a, b, desc.spec == "per stage");
  }
  bool describesLayers() const override { return describes; }
};

struct NetworkGraph {
  ir::Graph g{"cuda_network_state"};
  ValueId net;

  NetworkGraph(const std::string& spec, ir::Dims dims) {
    ir::Builder b(g);
    ValueId y = b.input("y", ir::Type::real(dims));
    b.beginLoop(3);
    ValueId x = b.loopState(y, "x");
    net = b.op(Op::Network, {x},
               {{"net", std::string("A")},
                {"spec", spec},
                {"weights", std::string("a.safetensors\nb.safetensors\na.safetensors")}});
    b.carry(x, net);
    b.endLoop();
    b.output("x", b.loopResult(x));
  }
};

CudaKernel build(const NetworkGraph& n, Backend* memory, const NetworkProvider* provider) {
  CudaKernelTable table;
  registerNetworkKernels(table);
  const CudaKernelBuilder* builder = table.find(Op::Network);
  REQUIRE(builder);
  PrepareContext context;
  context.network = provider;
  return (*builder)(CudaBuildContext{n.g, n.net, memory, &context});
}

// The floats of allocation `p` (a weight buffer: conv0 weights at 0, its bias at 64, conv1's
// weights at 128 and bias at 192, every layer 64-float aligned).
bool holds(const RecordingMemory& m, void* p, const Weights& w) {
  if (m.live.at(p) != 256 * sizeof(float))
    return false;
  const float* f = static_cast<const float*>(p);
  return std::equal(w.w0.begin(), w.w0.end(), f) && std::equal(w.b0.begin(), w.b0.end(), f + 64) &&
         std::equal(w.w1.begin(), w.w1.end(), f + 128) &&
         std::equal(w.b1.begin(), w.b1.end(), f + 192);
}

void checkUploads(const RecordingMemory& m, const Provider& p) {
  // Two weight sets and one activation buffer (conv0 writes it, conv1 the node's output).
  REQUIRE(m.live.size() == 3);
  int a = 0, b = 0, activations = 0;
  for (const auto& [ptr, bytes] : m.live) {
    a += holds(m, ptr, p.a);
    b += holds(m, ptr, p.b);
    activations += bytes == 2 * 8 * 8 * sizeof(float);
  }
  CHECK(a == 1);
  CHECK(b == 1);
  CHECK(activations == 1);
}

} // namespace

TEST_CASE("cuda network: probing allocates nothing and asks the provider only about layers") {
  NetworkGraph n("described", {1, 1, 8, 8});
  Provider provider;
  CudaKernel k = build(n, nullptr, &provider);
  CHECK(static_cast<bool>(k.launch));
  CHECK(k.state == nullptr);
  // No provider at all: the probe accepts, and preparing says what is missing (as on the CPU).
  setDefaultNetworkProvider(nullptr);
  CHECK(static_cast<bool>(build(n, nullptr, nullptr).launch));
}

TEST_CASE("cuda network: each distinct weight set is uploaded once, freed with the node") {
  Provider provider;
  RecordingMemory memory;
  for (const char* spec : {"described", "per stage"}) {
    CAPTURE(spec);
    NetworkGraph n(spec, {1, 1, 8, 8});
    {
      CudaKernel k = build(n, &memory, &provider);
      CHECK(static_cast<bool>(k.launch));
      REQUIRE(k.state != nullptr);
      checkUploads(memory, provider);
    }
    CHECK(memory.live.empty());
  }
}

TEST_CASE("cuda network: a provider whose operators do not describe layers stays on the host") {
  Provider provider;
  provider.describes = false;
  RecordingMemory memory;
  NetworkGraph n("host only", {1, 1, 4, 4});
  for (Backend* m : {static_cast<Backend*>(nullptr), static_cast<Backend*>(&memory)}) {
    const CudaKernel k = build(n, m, &provider);
    CHECK_FALSE(static_cast<bool>(k.launch)); // the executor puts the node on the host backend
    CHECK(k.unsupported.find("apply() runs them on the host") != std::string::npos);
  }
  CHECK(memory.live.empty());
  // A provider that claims layers for an operator without them is a bug, named at the node.
  provider.describes = true;
  CHECK_THROWS_WITH_AS(build(n, &memory, &provider),
                       doctest::Contains("says it describes its layers"), std::runtime_error);
  CHECK(memory.live.empty());
}

TEST_CASE("cuda network: an input the network does not fit is refused, naming the node") {
  Provider provider;
  RecordingMemory memory;
  NetworkGraph n("described", {1, 3, 8, 8});
  CHECK_THROWS_WITH_AS(build(n, &memory, &provider), doctest::Contains("network 'A'"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(build(n, &memory, &provider), doctest::Contains("3 channels"),
                       std::runtime_error);
  CHECK(memory.live.empty());
}
