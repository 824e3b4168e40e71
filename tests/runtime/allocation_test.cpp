// Steady state allocates nothing per node: a run's heap allocations do not depend on the number
// of stages (outputs and monitor logs are allocated once per run). Counted by replacing the
// global operator new of this test program.
#include "ir/builder.h"
#include "prox_test_util.h"
#include "runtime/executor.h"
#include "sim_backend.h"

#include <atomic>
#include <cstdlib>
#include <doctest/doctest.h>
#include <new>

namespace {
std::atomic<bool> gCounting{false};
std::atomic<long> gAllocations{0};
} // namespace

// Every unaligned form is replaced, so that memory from any of them is released by the matching
// one (the sanitizer builds check that pairing).
namespace {
void* countedAlloc(std::size_t n) noexcept {
  if (gCounting.load(std::memory_order_relaxed))
    gAllocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* countedAllocOrThrow(std::size_t n) {
  if (void* p = countedAlloc(n))
    return p;
  throw std::bad_alloc();
}
} // namespace

void* operator new(std::size_t n) {
  return countedAllocOrThrow(n);
}
void* operator new[](std::size_t n) {
  return countedAllocOrThrow(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return countedAlloc(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return countedAlloc(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

using namespace podm;
using ir::Op;
using ir::ValueId;

namespace {

// A PODM-like stage: convolution, gradient step, prox, check, select, monitors.
ir::Graph stage(int stages) {
  ir::Graph g("alloc");
  ir::Builder b(g);
  const ir::Dims d{1, 1, 32, 32};
  ValueId y = b.input("y", ir::Type::real(d));
  ValueId k = b.input("k", ir::Type::real({1, 1, 5, 5}));
  b.beginLoop(stages);
  ValueId x = b.loopState(y, "x");
  ValueId gamma = b.schedule("gamma", std::vector<double>(static_cast<size_t>(stages), 0.5));
  ValueId r =
      b.op(Op::Sub, {b.op(Op::Conv2d, {x, k}, {{"boundary", std::string("symmetric")}}), y});
  ValueId grad = b.op(Op::Conv2dAdjoint, {r, k}, {{"boundary", std::string("symmetric")}});
  ValueId v = b.op(Op::Sub, {x, b.op(Op::Mul, {grad, gamma})});
  ValueId spectrum = b.op(Op::Rfft2, {v});
  ValueId smooth =
      b.op(Op::Irfft2, {b.op(Op::Mul, {spectrum, b.scalar(0.5f)})}, {{"width", int64_t{32}}});
  ValueId xg = b.op(Op::Prox, {smooth, gamma},
                    {{"fn", std::string("l1")}, {"args", ir::NamedFloats{{"lambda", 0.01}}}});
  ValueId change = b.op(Op::Norm2Sq, {b.op(Op::Sub, {xg, x})});
  b.monitor("change", change);
  b.carry(x, b.op(Op::Select, {b.op(Op::Le, {change, b.scalar(1e3f)}), xg, v}));
  b.endLoop();
  b.output("x", b.loopResult(x));
  return g;
}

long allocationsOfRun(Executor& ex, const std::map<std::string, Tensor>& inputs) {
  ex.run(inputs); // warm-up: plans, scratch buffers and caches fill here
  gAllocations = 0;
  gCounting = true;
  RunResult r = ex.run(inputs);
  gCounting = false;
  return gAllocations.load();
}

} // namespace

TEST_CASE("allocation: a run's allocations do not grow with the number of stages") {
  testing::TestProxProvider prox;
  ExecutorOptions options;
  options.prox = &prox;
  Tensor y(Shape{1, 1, 32, 32}), k(Shape{1, 1, 5, 5});
  for (int64_t i = 0; i < y.numel(); ++i)
    y.data()[i] = std::sin(0.2f * static_cast<float>(i));
  k.fill(0.04f);
  const std::map<std::string, Tensor> inputs = {{"y", y}, {"k", k}};

  cpu::CpuBackend cpu;
  Executor few(stage(3), cpu, nullptr, options);
  Executor many(stage(40), cpu, nullptr, options);
  const long a = allocationsOfRun(few, inputs), b = allocationsOfRun(many, inputs);
  CHECK(a == b);
  CHECK(a < 40);
  MESSAGE("allocations per run: " << a << " (3 stages), " << b << " (40 stages)");

  // The same with a device backend, CPU fallback and transfers every stage.
  testing::SimBackend simFew(
      {Op::Sub, Op::Mul, Op::Norm2Sq, Op::Le, Op::Select, Op::Schedule, Op::Monitor});
  testing::SimBackend simMany(
      {Op::Sub, Op::Mul, Op::Norm2Sq, Op::Le, Op::Select, Op::Schedule, Op::Monitor});
  Executor mixedFew(stage(3), simFew, &cpu, options);
  Executor mixedMany(stage(40), simMany, &cpu, options);
  CHECK(allocationsOfRun(mixedFew, inputs) == allocationsOfRun(mixedMany, inputs));
}
