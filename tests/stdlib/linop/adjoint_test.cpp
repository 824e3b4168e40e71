// The adjoint dot-product test <A x, y> = <x, A' y> for every registered operator (found through
// the registry, so a new operator is covered as soon as it is registered) and for combinators.
#include "stdlib/linop/ops.h"
#include "tests/stdlib/linop/op_test_cases.h"

#include <doctest/doctest.h>

using namespace podm;
using namespace podm::stdlib;
using namespace podm::stdlib::test;

namespace {

constexpr double kTolerance = 1e-5;
constexpr int kShapesPerCase = 6;

} // namespace

TEST_CASE("every registered operator passes the adjoint test on random sizes") {
  const auto entries = linopRegistry().all();
  REQUIRE(!entries.empty());
  for (const LinopEntry* entry : entries) {
    CAPTURE(entry->name);
    auto cases = casesFor(entry->name);
    if (cases.empty()) {
      FAIL_CHECK("operator '" << entry->name
                              << "' has no test construction arguments: add a case for it in "
                                 "tests/stdlib/linop/op_test_cases.cpp");
      continue;
    }
    std::mt19937_64 rng(std::hash<std::string>{}(entry->name));
    for (const OpCase& c : cases) {
      CAPTURE(c.label);
      LinopPtr op = entry->create(c.args);
      for (int trial = 0; trial < kShapesPerCase; ++trial) {
        Shape in = c.randomInputShape(rng);
        CAPTURE(in.str());
        double mismatch = adjointMismatch(*op, in, rng());
        CHECK(mismatch < kTolerance);
      }
    }
  }
}

TEST_CASE("combinators pass the adjoint test") {
  auto make = [](const char* name, LinopArgs args = {}) {
    return linopRegistry().find(name)->create(args);
  };
  LinopArgs kernel;
  kernel.tensors["kernel"] = randomTensor({1, 1, 5, 3}, 7);
  kernel.strings["boundary"] = "symmetric";
  LinopArgs two, levels2;
  two.numbers["s"] = 2;
  levels2.numbers["levels"] = 2;
  LinopPtr blur = make("conv", kernel), decimate = make("decimate", two),
           haar = make("haar", levels2), dct = make("dct"), grad = make("grad"),
           up = make("bicubic_up", two), down = make("bicubic_down", two),
           filters = make("dct_filters");

  struct Case {
    const char* label;
    LinopPtr op;
    Shape in;
  };
  const Case cases[] = {
      {"S K (decimated blur)", compose(decimate, blur), {1, 2, 12, 16}},
      {"S W^-1 (the sparse-coding D)", compose(decimate, adjointOf(haar)), {1, 1, 16, 8}},
      {"K' K", compose(adjointOf(blur), blur), {2, 1, 9, 7}},
      {"grad' grad", compose(adjointOf(grad), grad), {1, 3, 11, 5}},
      {"K + 0.5 I", sum(blur, scaled(0.5, make("identity"))), {1, 1, 13, 6}},
      {"-2.5 dct", scaled(-2.5, dct), {1, 1, 7, 9}},
      {"bicubic_down'", adjointOf(down), {1, 1, 5, 7}},
      {"filters after bicubic_up", compose(filters, up), {1, 1, 6, 5}},
      {"haar dct sum", sum(compose(haar, dct), dct), {1, 1, 8, 12}},
      {"adjoint of adjoint", adjointOf(adjointOf(blur)), {1, 1, 10, 10}},
  };
  uint64_t seed = 100;
  for (const Case& c : cases) {
    CAPTURE(c.label);
    CHECK(adjointMismatch(*c.op, c.in, seed++) < kTolerance);
  }
}

TEST_CASE("the adjoint-of combinator swaps the directions") {
  LinopArgs two;
  two.numbers["s"] = 2;
  LinopPtr decimate = linopRegistry().find("decimate")->create(two);
  LinopPtr up = adjointOf(decimate);
  CHECK(up->outputShape({1, 1, 4, 5}) == Shape{1, 1, 8, 10});
  CHECK(up->inputShape({1, 1, 8, 10}) == Shape{1, 1, 4, 5});
  CHECK(adjointOf(up) == decimate);
  CHECK(up->name() == "adjoint(decimate)");
}
