// The CUDA backend through the factory every build has: without a GPU (or without CUDA in the
// build) the factory says why and these tests skip; with one, memory round trips, native kernels
// and a stage loop with CPU fallback (prox, conv) must match the CPU.
#include "ir/builder.h"
#include "prox_test_util.h"
#include "runtime/backend_factory.h"
#include "runtime/executor.h"

#include <cmath>
#include <doctest/doctest.h>

using namespace podm;
using ir::Op;
using ir::ValueId;

namespace {

std::unique_ptr<Backend> cudaOrSkip() {
  std::string why;
  auto cuda = makeCudaBackend(&why);
  if (!cuda) {
    CHECK(!why.empty());
    MESSAGE("cuda tests skipped: " << why);
  }
  return cuda;
}

} // namespace

TEST_CASE("cuda: the factory answers in every build") {
  std::string why;
  auto cuda = makeCudaBackend(&why);
  if (cuda) {
    CHECK(cuda->name() == "cuda");
    CHECK(!cuda->hostAddressable());
    CHECK(cudaCompiledIn());
  } else {
    CHECK(!why.empty());
  }
  auto cpu = makeCpuBackend();
  REQUIRE(cpu);
  CHECK(cpu->name() == "cpu");
}

TEST_CASE("cuda: memory round trip") {
  auto cuda = cudaOrSkip();
  if (!cuda)
    return;
  std::vector<float> host(1000), back(1000);
  for (size_t i = 0; i < host.size(); ++i)
    host[i] = static_cast<float>(i) * 0.5f;
  DevicePtr a = cuda->allocate(4000), b = cuda->allocate(4000);
  cuda->upload(a, host.data(), 4000);
  cuda->copy(b + 400, a, 3600);
  cuda->download(back.data(), b + 400, 3600);
  cuda->synchronize();
  for (size_t i = 0; i < 900; ++i)
    CHECK(back[i] == host[i]);
  cuda->deallocate(a);
  cuda->deallocate(b);
}

TEST_CASE("cuda: a stage loop with native kernels and a CPU-fallback prox matches the CPU") {
  auto cuda = cudaOrSkip();
  if (!cuda)
    return;
  ir::Graph g("cuda_loop");
  ir::Builder b(g);
  const ir::Dims d{1, 1, 64, 64};
  ValueId y = b.input("y", ir::Type::real(d));
  ValueId k =
      b.constant(ir::Type::real({1, 1, 3, 3}), {0.f, 0.1f, 0.f, 0.1f, 0.6f, 0.1f, 0.f, 0.1f, 0.f});
  b.beginLoop(20);
  ValueId x = b.loopState(y, "x");
  ValueId gamma = b.schedule("gamma", std::vector<double>(20, 0.8));
  ValueId r = b.op(Op::Sub, {b.op(Op::Conv2d, {x, k}), y});
  ValueId v = b.op(Op::Sub, {x, b.op(Op::Mul, {b.op(Op::Conv2dAdjoint, {r, k}), gamma})});
  ValueId xg = b.op(Op::Prox, {v, gamma},
                    {{"fn", std::string("l1")}, {"args", ir::NamedFloats{{"lambda", 0.01}}}});
  ValueId change = b.op(Op::Norm2Sq, {b.op(Op::Sub, {xg, x})});
  b.monitor("change", change);
  b.carry(x, b.op(Op::Select, {b.op(Op::Le, {change, b.scalar(1e3f)}), xg, v}));
  b.endLoop();
  b.output("x", b.loopResult(x));

  testing::TestProxProvider prox;
  ExecutorOptions options;
  options.prox = &prox;
  auto cpu = makeCpuBackend();
  Executor onCuda(g, *cuda, cpu.get(), options);
  Executor onCpu(g, *cpu, nullptr, options);
  // Only the prox falls back: the test's provider is host code, not the stdlib's built-in l1.
  REQUIRE(onCuda.notes().size() == 1);
  CHECK(onCuda.notes().front().find("prox") != std::string::npos);
  Tensor yt(Shape{1, 1, 64, 64});
  for (int64_t i = 0; i < yt.numel(); ++i)
    yt.data()[i] = std::sin(0.05f * static_cast<float>(i));
  RunResult a = onCuda.run({{"y", yt}});
  RunResult c = onCpu.run({{"y", yt}});
  for (int64_t i = 0; i < yt.numel(); ++i)
    CHECK(a.outputs.at("x").data()[i] ==
          doctest::Approx(c.outputs.at("x").data()[i]).epsilon(1e-5));
  const auto& ca = *a.monitors.find("change");
  const auto& cc = *c.monitors.find("change");
  for (size_t i = 0; i < ca.size(); ++i)
    CHECK(ca[i] == doctest::Approx(cc[i]).epsilon(1e-4));
}
