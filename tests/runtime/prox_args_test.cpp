// Prox nodes with run-time arguments (operand_args): the CPU kernel binds the prox with the current
// operand values, re-binds only when a value changes (so a per-stage call with fixed bounds binds
// once), and a value the provider rejects stops the run with an error naming the argument.
#include "ir/builder.h"
#include "prox_test_util.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

#include <algorithm>
#include <atomic>
#include <doctest/doctest.h>
#include <stdexcept>

using namespace podm;
using ir::Op;
using ir::ValueId;

namespace {

// The test provider, counting how often a prox is bound and refusing lo > hi like stdlib's box.
class CountingProvider final : public ProxProvider {
public:
  mutable int makes = 0;
  std::unique_ptr<ProxOperator> make(std::string_view name,
                                     const ProxArgList& args) const override {
    ++makes;
    if (testing::argOr(args, "lo", 0) > testing::argOr(args, "hi", 1))
      throw std::invalid_argument("lo must not exceed hi");
    return inner_.make(name, args);
  }

private:
  testing::TestProxProvider inner_;
};

const ir::Dims kD{1, 1, 6, 5};

// x <- box_[lo, hi](x + 1) for `stages` stages; lo = min(y) and hi = max(y) (Pre), or, when
// `staged`, hi from a schedule that changes once.
ir::Graph boxLoop(int stages, bool staged) {
  ir::Graph g("box");
  ir::Builder b(g);
  ValueId y = b.input("y", ir::Type::real(kD));
  ValueId lo = b.op(Op::MinVal, {y}, {}, "lo = min(y)");
  ValueId hi = b.op(Op::MaxVal, {y}, {}, "hi = max(y)");
  b.beginLoop(stages);
  ValueId x = b.loopState(y, "x");
  if (staged) {
    std::vector<double> his(static_cast<size_t>(stages), 2.0);
    std::fill(his.begin() + stages / 2, his.end(), 3.0);
    hi = b.schedule("hi", his);
  }
  ValueId v = b.op(Op::Add, {x, b.scalar(1.f)});
  ValueId p = b.op(Op::Prox, {v, b.scalar(0.5f), lo, hi},
                   {{"fn", std::string("box")}, {"operand_args", std::string("lo,hi")}});
  b.carry(x, p);
  b.endLoop();
  b.output("x", b.loopResult(x));
  return g;
}

Tensor ramp(float from, float step) {
  Tensor t(Shape{1, 1, 6, 5});
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = from + step * static_cast<float>(i);
  return t;
}

} // namespace

TEST_CASE("prox run-time arguments: bound once while they do not change") {
  CountingProvider prox;
  ExecutorOptions options;
  options.prox = &prox;
  cpu::CpuBackend cpu;
  Executor ex(boxLoop(8, false), cpu, nullptr, options);
  CHECK(prox.makes == 0); // nothing to bind before the values exist
  Tensor y = ramp(-1.f, 0.1f);
  RunResult r = ex.run({{"y", y}});
  CHECK(prox.makes == 1);
  // Every entry climbs by 1 per stage and stops at max(y); nothing goes below min(y).
  const float lo = -1.f, hi = -1.f + 0.1f * 29;
  for (int64_t i = 0; i < y.numel(); ++i)
    CHECK(r.outputs.at("x").data()[i] == doctest::Approx(std::clamp(y.data()[i] + 8.f, lo, hi)));
  // Another run with the same data keeps the binding; new data re-binds once.
  ex.run({{"y", y}});
  CHECK(prox.makes == 1);
  Tensor shifted = ramp(0.f, 0.05f);
  r = ex.run({{"y", shifted}});
  CHECK(prox.makes == 2);
  CHECK(*std::max_element(r.outputs.at("x").data(), r.outputs.at("x").data() + 30) ==
        doctest::Approx(0.05f * 29));
}

TEST_CASE("prox run-time arguments: re-bound when a value changes between stages") {
  CountingProvider prox;
  ExecutorOptions options;
  options.prox = &prox;
  cpu::CpuBackend cpu;
  Executor ex(boxLoop(6, true), cpu, nullptr, options);
  RunResult r = ex.run({{"y", ramp(0.f, 0.01f)}});
  CHECK(prox.makes == 2); // hi = 2 for stages 0-2, 3 for stages 3-5
  for (int64_t i = 0; i < 30; ++i)
    CHECK(r.outputs.at("x").data()[i] == doctest::Approx(3.f));
}

TEST_CASE("prox run-time arguments: a rejected value is an error naming the argument") {
  CountingProvider prox;
  ExecutorOptions options;
  options.prox = &prox;
  cpu::CpuBackend cpu;
  // hi from the schedule (2, then 3) with lo = min(y) = 5 > hi.
  Executor ex(boxLoop(4, true), cpu, nullptr, options);
  CHECK_THROWS_WITH_AS(ex.run({{"y", ramp(5.f, 0.1f)}}),
                       doctest::Contains("prox 'box' rejects the value of its run-time arguments "
                                         "lo = 5.000000 (from %1 minval \"lo = min(y)\"), hi = "
                                         "2.000000 (from %"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(ex.run({{"y", ramp(5.f, 0.1f)}}), doctest::Contains("lo must not exceed hi"),
                       std::runtime_error);
}
