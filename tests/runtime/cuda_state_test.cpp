// The CUDA kernel records' per-node state (runtime/cuda/cuda_backend.h), checked on the host: the
// builders allocate through any Backend, so a recording one stands in for device memory and these
// tests run without a GPU. They pin who owns a node's buffers and when they are freed.
#include "ir/builder.h"
#include "runtime/cuda/cuda_backend.h"
#include "tests/runtime/recording_memory.h"

#include <cstdlib>
#include <cstring>
#include <doctest/doctest.h>
#include <map>

using namespace podm;
using namespace podm::cuda;
using ir::Op;
using ir::ValueId;

namespace {

using testing::RecordingMemory;

struct StateGraph {
  ir::Graph g{"cuda_state"};
  ValueId sum, gamma, product;

  StateGraph() {
    ir::Builder b(g);
    ValueId y = b.input("y", ir::Type::real({1, 1, 8, 8}));
    sum = b.op(Op::Sum, {y});
    b.beginLoop(3);
    ValueId x = b.loopState(y, "x");
    gamma = b.schedule("gamma", {0.5, 0.25, 0.125});
    product = b.op(Op::Mul, {x, gamma});
    b.carry(x, product);
    b.endLoop();
    b.output("x", b.loopResult(x));
  }
};

CudaKernel build(const StateGraph& s, ValueId v, Backend* memory) {
  CudaKernelTable table;
  registerCudaKernels(table);
  const CudaKernelBuilder* builder = table.find(s.g.node(v).op);
  REQUIRE(builder);
  return (*builder)(CudaBuildContext{s.g, v, memory});
}

} // namespace

TEST_CASE("cuda state: probing support allocates nothing") {
  StateGraph s;
  CudaKernel k = build(s, s.sum, nullptr);
  CHECK(static_cast<bool>(k.launch));
  CHECK(k.state == nullptr);
}

TEST_CASE("cuda state: a reduction owns its partials and binds them as the workspace") {
  StateGraph s;
  RecordingMemory memory;
  {
    CudaProgram program;
    program.kernels.push_back(build(s, s.sum, &memory));
    REQUIRE(memory.live.size() == 1);
    const auto [partials, bytes] = *memory.live.begin();
    CHECK(bytes == static_cast<size_t>(reduceWorkspaceDoubles()) * sizeof(double));
    DevicePtr in[1] = {};
    KernelIO io{in, DevicePtr{}, 0};
    CHECK(launchArgs(program.kernels[0], io).workspace == partials);
  }
  CHECK(memory.live.empty());
  CHECK(memory.frees == 1);
}

TEST_CASE("cuda state: a schedule uploads its table once; elementwise kernels own nothing") {
  StateGraph s;
  RecordingMemory memory;
  {
    CudaProgram program;
    program.kernels.push_back(build(s, s.gamma, &memory));
    program.kernels.push_back(build(s, s.product, &memory));
    CHECK(program.kernels[1].state == nullptr);
    REQUIRE(memory.live.size() == 1);
    DevicePtr in[2] = {};
    KernelIO io{in, DevicePtr{}, 1};
    const LaunchArgs args = launchArgs(program.kernels[0], io);
    REQUIRE(args.table != nullptr);
    CHECK(args.table[0] == 0.5f);
    CHECK(args.table[2] == 0.125f);
    CHECK(args.stage == 1);
    CHECK(args.workspace == nullptr);
  }
  CHECK(memory.live.empty());
}

TEST_CASE("cuda state: a device buffer frees once, wherever it is moved") {
  RecordingMemory memory;
  {
    DeviceBuffer a(memory, 64);
    DeviceBuffer b = std::move(a);
    CHECK(!a);
    CHECK(b);
    DeviceBuffer c(memory, 32);
    c = std::move(b); // c's own 32 bytes go back now
    CHECK(memory.frees == 1);
    CHECK(memory.live.size() == 1);
  }
  CHECK(memory.frees == 2);
  CHECK(memory.live.empty());
}
