// The registry: contents, parameter specs, argument checking, errors for bad sizes, extension.
#include "stdlib/linop/ops.h"
#include "tests/stdlib/linop/op_test_cases.h"

#include <doctest/doctest.h>

using namespace podm;
using namespace podm::stdlib;
using namespace podm::stdlib::test;

TEST_CASE("the standard operators are registered under their language names") {
  std::vector<std::string> names;
  for (const LinopEntry* e : linopRegistry().all())
    names.push_back(e->name);
  CHECK(names == std::vector<std::string>{"identity", "conv", "decimate", "upsample",
                                          "bicubic_down", "bicubic_up", "haar", "dct", "grad", "dx",
                                          "dy", "mask", "pad", "crop", "dct_filters"});
  CHECK(linopRegistry().find("haar")->name == "haar");
  CHECK(linopRegistry().find("wavelet") == nullptr);
  for (const LinopEntry* e : linopRegistry().all()) {
    CAPTURE(e->name);
    CHECK(!e->summary.empty());
    for (const LinopParam& p : e->params)
      CHECK(!p.doc.empty());
  }
}

TEST_CASE("parameter specs carry kinds and defaults") {
  const LinopEntry* conv = linopRegistry().find("conv");
  REQUIRE(conv->params.size() == 3);
  CHECK(conv->params[0].name == "kernel");
  CHECK(conv->params[0].kind == LinopParamKind::Tensor);
  CHECK(conv->params[0].required);
  CHECK(conv->params[1].name == "boundary");
  CHECK(conv->params[1].defaultString == "periodic");
  CHECK(conv->params[2].name == "as");
  CHECK(conv->params[2].defaultString == "convolution");
  const LinopEntry* haar = linopRegistry().find("haar");
  CHECK(haar->params[0].defaultValue == 1.0);
  CHECK_FALSE(haar->params[0].required);
  CHECK(linopRegistry().find("decimate")->params[0].required);
}

TEST_CASE("create checks arguments and fills defaults") {
  const LinopEntry* decimate = linopRegistry().find("decimate");
  CHECK_THROWS_WITH_AS(decimate->create({}), doctest::Contains("missing required parameter 's'"),
                       std::invalid_argument);
  LinopArgs fractional;
  fractional.numbers["s"] = 2.5;
  CHECK_THROWS_WITH_AS(decimate->create(fractional), doctest::Contains("whole number"),
                       std::invalid_argument);
  LinopArgs unknown;
  unknown.numbers["s"] = 2;
  unknown.numbers["factor"] = 2;
  CHECK_THROWS_WITH_AS(decimate->create(unknown), doctest::Contains("unknown parameter 'factor'"),
                       std::invalid_argument);
  LinopArgs wrongKind;
  wrongKind.strings["s"] = "2";
  CHECK_THROWS_WITH_AS(decimate->create(wrongKind), doctest::Contains("must be a number"),
                       std::invalid_argument);
  LinopArgs badBoundary;
  badBoundary.tensors["kernel"] = randomTensor({1, 1, 3, 3}, 1);
  badBoundary.strings["boundary"] = "reflect";
  CHECK_THROWS_WITH_AS(linopRegistry().find("conv")->create(badBoundary),
                       doctest::Contains("periodic, symmetric or zero"), std::invalid_argument);
  LinopArgs multiPlaneKernel;
  multiPlaneKernel.tensors["kernel"] = randomTensor({1, 2, 3, 3}, 1);
  CHECK_THROWS_AS(linopRegistry().find("conv")->create(multiPlaneKernel), std::invalid_argument);

  auto haar = linopRegistry().find("haar")->create({});
  CHECK(dynamic_cast<const HaarOperator&>(*haar).levels() == 1);
  LinopArgs kernelOnly;
  kernelOnly.tensors["kernel"] = randomTensor({1, 1, 3, 3}, 2);
  auto conv = linopRegistry().find("conv")->create(kernelOnly);
  CHECK(dynamic_cast<const ConvOperator&>(*conv).boundary() == numerics::Boundary::Periodic);
  auto filters = linopRegistry().find("dct_filters")->create({});
  CHECK(dynamic_cast<const DctFiltersOperator&>(*filters).filterCount() == 8);
}

TEST_CASE("bad sizes throw invalid_argument with a clear message") {
  LinopArgs three;
  three.numbers["levels"] = 3;
  auto haar = linopRegistry().find("haar")->create(three);
  CHECK_THROWS_WITH_AS(haar->outputShape({1, 1, 100, 64}),
                       doctest::Contains("must be divisible by 2^levels = 8"),
                       std::invalid_argument);
  LinopArgs four;
  four.numbers["s"] = 4;
  CHECK_THROWS_WITH_AS(linopRegistry().find("decimate")->create(four)->outputShape({1, 1, 30, 32}),
                       doctest::Contains("divisible by 4"), std::invalid_argument);
  CHECK_THROWS_AS(linopRegistry().find("bicubic_down")->create(four)->outputShape({1, 1, 8, 30}),
                  std::invalid_argument);
  CHECK_THROWS_AS(linopRegistry().find("grad")->create({})->inputShape({1, 3, 8, 8}),
                  std::invalid_argument);
  CHECK_THROWS_AS(linopRegistry().find("dct")->create({})->outputShape({1, 1, 0, 8}),
                  std::invalid_argument);
  LinopArgs maskArgs;
  maskArgs.tensors["m"] = randomTensor({1, 1, 4, 4}, 3);
  CHECK_THROWS_WITH_AS(linopRegistry().find("mask")->create(maskArgs)->outputShape({1, 1, 4, 5}),
                       doctest::Contains("cannot multiply"), std::invalid_argument);
  // A pre-allocated output of the wrong shape is refused, not written past.
  auto dct = linopRegistry().find("dct")->create({});
  Tensor x({1, 1, 4, 4}), wrong({1, 1, 4, 5});
  CHECK_THROWS_WITH_AS(dct->apply(x, wrong), doctest::Contains("expected 1x1x4x4"),
                       std::invalid_argument);
  CHECK_THROWS_AS(sum(dct, linopRegistry().find("grad")->create({}))->outputShape({1, 1, 4, 4}),
                  std::invalid_argument);
}

TEST_CASE("a new operator is one entry added to a registry") {
  LinopRegistry registry;
  registerStandardLinops(registry);
  CHECK_THROWS_AS(registry.add(*linopRegistry().find("dct")), std::invalid_argument);
  LinopEntry negate = declareLinop("negate", "x -> -x", {}, [](const LinopArgs&) {
    return scaled(-1.0, std::make_shared<IdentityOperator>());
  });
  registry.add(negate);
  REQUIRE(registry.find("negate") != nullptr);
  auto op = registry.find("negate")->create({});
  Tensor x = randomTensor({1, 1, 2, 2}, 4), y({1, 1, 2, 2});
  op->apply(x, y);
  for (int64_t i = 0; i < 4; ++i)
    CHECK(y.data()[i] == -x.data()[i]);
  CHECK(registry.all().size() == linopRegistry().all().size() + 1);
}
