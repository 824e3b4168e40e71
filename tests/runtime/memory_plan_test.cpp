// Memory planning: the arena planner never overlaps buffers live at the same time, and on real
// graphs the planned arena is smaller than one buffer per value -- checked against liveness the
// test computes itself from the graph.
#include "ir/builder.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/memory_plan.h"

#include <cstring>
#include <doctest/doctest.h>
#include <random>

using namespace podm;
using ir::Op;
using ir::ValueId;

namespace {

bool bytesOverlap(size_t a, size_t an, size_t b, size_t bn) {
  return a < b + alignArena(bn) && b < a + alignArena(an);
}

void checkNoConflicts(std::span<const LiveInterval> live, const ArenaPlan& plan) {
  for (size_t i = 0; i < live.size(); ++i) {
    CHECK(plan.offsets[i] % kArenaAlignment == 0);
    CHECK(plan.offsets[i] + live[i].bytes <= plan.arenaBytes);
    for (size_t j = i + 1; j < live.size(); ++j)
      if (live[i].overlaps(live[j]))
        CHECK_MESSAGE(!bytesOverlap(plan.offsets[i], live[i].bytes, plan.offsets[j], live[j].bytes),
                      "buffers " << i << " and " << j << " are live together and overlap");
  }
}

// A chain with side branches: many values, few of them live at once.
ir::Graph chainGraph(int length) {
  ir::Graph g("chain");
  ir::Builder b(g);
  ValueId x = b.input("x", ir::Type::real({1, 1, 32, 32}));
  ValueId acc = x;
  for (int i = 0; i < length; ++i) {
    ValueId t = b.op(Op::Scale, {acc}, {{"alpha", 0.5}});
    ValueId s = b.op(i % 2 ? Op::Abs : Op::Neg, {t});
    acc = b.op(Op::Add, {s, i % 3 == 0 ? x : t});
  }
  b.output("y", acc);
  return g;
}

} // namespace

TEST_CASE("arena planner: random intervals never share bytes while live together") {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<LiveInterval> live(1 + rng() % 40);
    for (LiveInterval& l : live) {
      l.start = static_cast<int32_t>(rng() % 50);
      l.end = l.start + static_cast<int32_t>(rng() % 20);
      l.bytes = 1 + rng() % 5000;
    }
    ArenaPlan plan = planArena(live);
    checkNoConflicts(live, plan);
    CHECK(plan.arenaBytes >= plan.peakLiveBytes);
    CHECK(plan.arenaBytes <= plan.naiveBytes);
    ArenaPlan naive = planArena(live, false);
    CHECK(naive.arenaBytes == naive.naiveBytes);
    checkNoConflicts(live, naive);
  }
}

TEST_CASE("arena planner: disjoint lifetimes share one buffer") {
  std::vector<LiveInterval> live = {{1000, 0, 1}, {1000, 2, 3}, {1000, 4, 5}};
  ArenaPlan plan = planArena(live);
  CHECK(plan.arenaBytes == alignArena(1000));
  CHECK(plan.naiveBytes == 3 * alignArena(1000));
  CHECK(plan.peakLiveBytes == alignArena(1000));
}

TEST_CASE("memory plan: a chain graph reuses buffers, checked against the graph's liveness") {
  ir::Graph g = chainGraph(30);
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  const MemoryReport& m = ex.memory();
  REQUIRE(m.backends.size() == 1);
  CHECK(m.backends[0].plannedBytes < m.backends[0].naiveBytes / 10);
  CHECK(m.backends[0].plannedBytes <= 2 * m.backends[0].peakLiveBytes);
  MESSAGE(m.str());

  // Liveness from the graph alone: a value is live from its node to its last user (outputs to the
  // end). Nodes run in order on one backend, so node order is schedule order.
  const size_t n = g.size();
  std::vector<size_t> last(n);
  for (size_t i = 0; i < n; ++i)
    last[i] = i;
  for (size_t i = 0; i < n; ++i)
    for (ValueId op : g.nodes()[i].operands)
      last[op.index] = std::max(last[op.index], i);
  for (const ir::Output& o : g.outputs())
    last[o.value.index] = n;
  // Inputs are uploaded before anything runs.
  auto first = [&](size_t i) { return g.nodes()[i].op == Op::Input ? size_t{0} : i; };
  std::vector<const Slot*> slotOf(n, nullptr);
  for (const Slot& s : m.slots)
    slotOf[s.value.index] = &s;
  size_t pairs = 0;
  for (size_t a = 0; a < n; ++a)
    for (size_t b = a + 1; b < n; ++b) {
      if (!slotOf[a] || !slotOf[b])
        continue;
      const bool liveTogether = first(a) <= last[b] && first(b) <= last[a];
      if (!liveTogether)
        continue;
      ++pairs;
      CHECK_MESSAGE(
          !bytesOverlap(slotOf[a]->offset, slotOf[a]->bytes, slotOf[b]->offset, slotOf[b]->bytes),
          "%" << a << " and %" << b << " are live together but share bytes");
    }
  CHECK(pairs > 0);

  // Planned and unplanned runs agree bit for bit.
  Tensor x(Shape{1, 1, 32, 32});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data()[i] = std::sin(0.1f * static_cast<float>(i));
  ExecutorOptions naive;
  naive.planMemory = false;
  Executor unplanned(g, cpu, nullptr, naive);
  Tensor a = ex.run({{"x", x}}).outputs.at("y");
  Tensor b = unplanned.run({{"x", x}}).outputs.at("y");
  CHECK(std::memcmp(a.data(), b.data(), a.bytes()) == 0);
}

TEST_CASE("memory plan: loop values are reused across stages, carries keep two slots") {
  ir::Graph g("loop");
  ir::Builder b(g);
  const ir::Dims d{1, 1, 64, 64};
  ValueId y = b.input("y", ir::Type::real(d));
  b.beginLoop(10);
  ValueId x = b.loopState(y, "x");
  ValueId t = x;
  for (int i = 0; i < 12; ++i)
    t = b.op(i % 2 ? Op::Neg : Op::Abs, {t});
  ValueId next = b.op(Op::Add, {t, y});
  b.carry(x, next);
  b.endLoop();
  b.output("x", b.loopResult(x));
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  const MemoryReport& m = ex.memory();
  // y, two carry slots, and a couple of temporaries: far below one buffer per value.
  CHECK(m.backends[0].plannedBytes <= 5 * alignArena(d.numel() * 4));
  CHECK(m.backends[0].plannedBytes < m.backends[0].naiveBytes / 2);
  int carrySlots = 0;
  for (const Slot& s : m.slots)
    carrySlots += s.role == SlotRole::CarryA || s.role == SlotRole::CarryB;
  CHECK(carrySlots == 2);
  std::vector<LiveInterval> live;
  std::vector<size_t> offsets;
  for (const Slot& s : m.slots) {
    live.push_back(s.live);
    offsets.push_back(s.offset);
  }
  ArenaPlan check;
  check.offsets = offsets;
  check.arenaBytes = m.backends[0].plannedBytes;
  checkNoConflicts(live, check);
  // The claimed next value writes into the spare carry slot: no slot of its own.
  for (const Slot& s : m.slots)
    CHECK(s.value != next);
}
