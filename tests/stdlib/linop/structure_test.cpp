// Structure flags: each operator reports the expected flags, and every flag is checked against
// the operator's numbers (a claimed property must hold, a denied one must fail on random data).
#include "stdlib/linop/ops.h"
#include "tests/stdlib/linop/op_test_cases.h"

#include <doctest/doctest.h>

using namespace podm;
using namespace podm::stdlib;
using namespace podm::stdlib::test;

namespace {

// Relative size below which a numerical difference counts as zero (float kernels on small images).
constexpr double kZero = 1e-5;

Tensor applied(const LinearOperator& op, const Tensor& x) {
  Tensor y(op.outputShape(x.shape()));
  op.apply(x, y);
  return y;
}

Tensor adjointApplied(const LinearOperator& op, const Tensor& y) {
  Tensor x(op.inputShape(y.shape()));
  op.adjoint(y, x);
  return x;
}

// Circular shift of every plane by (dy, dx).
Tensor shifted(const Tensor& t, int64_t dy, int64_t dx) {
  const Shape& s = t.shape();
  Tensor out(s);
  for (int64_t p = 0; p < s.n * s.c; ++p)
    for (int64_t i = 0; i < s.h; ++i)
      for (int64_t j = 0; j < s.w; ++j)
        out.data()[p * s.plane() + ((i + dy) % s.h) * s.w + (j + dx) % s.w] =
            t.data()[p * s.plane() + i * s.w + j];
  return out;
}

// The four properties measured on one random input (false when the shape rules them out).
LinopStructure measured(const LinearOperator& op, const Shape& in, uint64_t seed) {
  LinopStructure m;
  const Shape out = op.outputShape(in);
  Tensor x = randomTensor(in, seed);
  Tensor ax = applied(op, x);
  if (out == in) {
    Tensor atx = adjointApplied(op, x);
    m.selfAdjoint = relativeMaxError(atx, ax) < kZero;
    Tensor back = adjointApplied(op, ax);
    m.orthogonal =
        relativeMaxError(back, x) < kZero && std::abs(norm(ax) - norm(x)) < kZero * norm(x);
    Tensor ones(in);
    ones.fill(1.0f);
    Tensor d = applied(op, ones);
    Tensor dx(in);
    for (int64_t i = 0; i < in.numel(); ++i)
      dx.data()[i] = d.data()[i] * x.data()[i];
    m.diagonal = relativeMaxError(ax, dx) < kZero;
  }
  // Shift invariance per plane: A(shift x) = shift(A x), with shifts that are not multiples of
  // any period a resampling operator might have.
  if (out.h == in.h && out.w == in.w) {
    Tensor a1 = applied(op, shifted(x, 1, in.w > 2 ? 2 : 1));
    Tensor a2 = shifted(ax, 1, in.w > 2 ? 2 : 1);
    m.circulant = relativeMaxError(a1, a2) < kZero;
  }
  return m;
}

// The reported flags must equal `expected`, and every claimed flag must hold numerically. With
// `exact`, every denied flag must also fail numerically (the base operators report exactly what is
// true; combinators may be conservative, e.g. K K for a symmetric periodic K is self-adjoint but
// not claimed).
void checkStructure(const LinearOperator& op, const LinopStructure& expected, const Shape& in,
                    uint64_t seed, bool exact) {
  LinopStructure reported = op.structure();
  CHECK(reported.diagonal == expected.diagonal);
  CHECK(reported.circulant == expected.circulant);
  CHECK(reported.orthogonal == expected.orthogonal);
  CHECK(reported.selfAdjoint == expected.selfAdjoint);
  LinopStructure m = measured(op, in, seed);
  auto agrees = [exact](bool claimed, bool holds) {
    return exact ? claimed == holds : !claimed || holds;
  };
  CHECK(agrees(reported.diagonal, m.diagonal));
  CHECK(agrees(reported.circulant, m.circulant));
  CHECK(agrees(reported.orthogonal, m.orthogonal));
  CHECK(agrees(reported.selfAdjoint, m.selfAdjoint));
}

// Sizes where non-periodic boundaries and non-square operators visibly break each property.
Shape probeShape(const OpCase& c, std::mt19937_64& rng) {
  for (int tries = 0; tries < 100; ++tries) {
    Shape s = c.randomInputShape(rng);
    if (s.h >= 6 && s.w >= 6)
      return s;
  }
  return c.randomInputShape(rng);
}

} // namespace

TEST_CASE("every registered operator reports the expected structure, and it is true") {
  for (const LinopEntry* entry : linopRegistry().all()) {
    CAPTURE(entry->name);
    auto cases = casesFor(entry->name);
    if (cases.empty()) {
      FAIL_CHECK("operator '" << entry->name << "' has no test cases in op_test_cases.cpp");
      continue;
    }
    std::mt19937_64 rng(42);
    for (const OpCase& c : cases) {
      CAPTURE(c.label);
      LinopPtr op = entry->create(c.args);
      Shape in = probeShape(c, rng);
      CAPTURE(in.str());
      checkStructure(*op, c.expected, in, rng(), true);
    }
  }
}

TEST_CASE("each declaration's traits hold for its operator (what the F-step relies on)") {
  // The traits are guarantees for every argument: an operator may be more (decimate(1) is the
  // identity), never less.
  for (const LinopEntry* entry : linopRegistry().all()) {
    CAPTURE(entry->name);
    for (const OpCase& c : casesFor(entry->name)) {
      CAPTURE(c.label);
      LinopPtr op = entry->create(c.args);
      const LinopStructure got = op->structure();
      LinopIrArgs args;
      args.strings = c.args.strings;
      for (const LinopParam& p : entry->params)
        if (p.kind == LinopParamKind::String && !args.strings.count(p.name))
          args.strings[p.name] = p.defaultString;
      CHECK((!entry->traits.orthogonal || got.orthogonal));
      CHECK((!entry->traits.diagonal || got.diagonal));
      CHECK((!entry->circulant(args) || got.circulant));
      CHECK(static_cast<bool>(entry->lower)); // every standard operator lowers
    }
  }
}

TEST_CASE("combinators derive their structure from their operands") {
  auto make = [](const char* name, LinopArgs args = {}) {
    return linopRegistry().find(name)->create(args);
  };
  LinopArgs periodicBlur, symmetricRandom, twoLevels, maskArgs;
  periodicBlur.tensors["kernel"] = randomTensor({1, 1, 3, 3}, 1);
  for (int64_t i = 0; i < 9; ++i) // make it point-symmetric: k(d) = k(-d)
    periodicBlur.tensors["kernel"].data()[i] = periodicBlur.tensors["kernel"].data()[8 - i] =
        std::abs(periodicBlur.tensors["kernel"].data()[i]);
  symmetricRandom.tensors["kernel"] = randomTensor({1, 1, 3, 4}, 2);
  symmetricRandom.strings["boundary"] = "symmetric";
  twoLevels.numbers["levels"] = 2;
  maskArgs.tensors["m"] = randomTensor({1, 1, 8, 8}, 3);
  LinopPtr k = make("conv", periodicBlur), ks = make("conv", symmetricRandom),
           haar = make("haar", twoLevels), dct = make("dct"), id = make("identity"),
           mask = make("mask", maskArgs), gradP = make("grad", [] {
                                            LinopArgs a;
                                            a.strings["boundary"] = "periodic";
                                            return a;
                                          }());
  REQUIRE(k->structure().circulant);
  REQUIRE(k->structure().selfAdjoint);

  LinopStructure none;
  auto f = [](bool d, bool c, bool o, bool s) {
    LinopStructure r;
    r.diagonal = d;
    r.circulant = c;
    r.orthogonal = o;
    r.selfAdjoint = s;
    return r;
  };
  struct Case {
    const char* label;
    LinopPtr op;
    LinopStructure expected;
  };
  const Case cases[] = {
      {"orthogonal o orthogonal", compose(haar, dct), f(0, 0, 1, 0)},
      {"circulant o circulant", compose(k, k), f(0, 1, 0, 0)},
      {"K' K (symmetric boundary)", compose(adjointOf(ks), ks), f(0, 0, 0, 1)},
      {"K K'", compose(ks, adjointOf(ks)), f(0, 0, 0, 1)},
      {"grad' grad (periodic)", compose(adjointOf(gradP), gradP), f(0, 1, 0, 1)},
      {"circulant self-adjoint + identity", sum(k, id), f(0, 1, 0, 1)},
      {"2 * orthogonal", scaled(2.0, haar), f(0, 0, 0, 0)},
      {"-1 * orthogonal", scaled(-1.0, haar), f(0, 0, 1, 0)},
      {"adjoint of orthogonal", adjointOf(dct), f(0, 0, 1, 0)},
      {"mask o mask", compose(mask, mask), f(1, 0, 0, 1)},
      {"identity o K_sym", compose(id, ks), ks->structure()},
      {"orthogonal + orthogonal", sum(haar, haar), f(0, 0, 0, 0)},
      {"mask o K", compose(mask, k), none},
  };
  uint64_t seed = 10;
  for (const Case& c : cases) {
    CAPTURE(c.label);
    checkStructure(*c.op, c.expected, {1, 1, 8, 8}, seed++, false);
  }
}
