// The verifier accepts builder-made graphs and reports graphs that a pass broke in place.
#include "ir/errors.h"
#include "ir/verifier.h"
#include "sample_graph.h"

#include <doctest/doctest.h>

using namespace podm::ir;

namespace {
ValueId find(const Graph& g, Op op, size_t nth = 0) {
  for (uint32_t i = 0; i < g.size(); ++i)
    if (g.nodes()[i].op == op && nth-- == 0)
      return ValueId{i};
  FAIL("op not found");
  return {};
}
} // namespace

TEST_CASE("verifier: builder graphs are valid") {
  Graph g = testing::sampleGraph();
  CHECK(verificationErrors(g).empty());
  CHECK_NOTHROW(verify(g));
  CHECK_NOTHROW(debugVerify(g));
}

TEST_CASE("verifier: a wrong stored type is reported") {
  Graph g = testing::sampleGraph();
  g.mutableNode(find(g, Op::Conv2d)).type = Type::real({1, 1, 4, 4});
  CHECK_THROWS_WITH_AS(verify(g), doctest::Contains("differs from the inferred f32[1x1x8x8]"),
                       IrError);
}

TEST_CASE("verifier: forward references and invisible operands are reported") {
  Graph g = testing::sampleGraph();
  g.mutableNode(find(g, Op::Conv2d)).operands[0] = ValueId{static_cast<uint32_t>(g.size() - 1)};
  auto errors = verificationErrors(g);
  REQUIRE(!errors.empty());
  CHECK(errors[0].find("is not defined before this node") != std::string::npos);

  Graph h = testing::sampleGraph();
  ValueId sub = find(h, Op::Sub);
  h.mutableNode(find(h, Op::Rfft2)).operands[0] = sub;
  CHECK_THROWS_WITH_AS(verify(h), doctest::Contains("is not visible here"), IrError);
}

TEST_CASE("verifier: loop structure") {
  Graph g = testing::sampleGraph();
  g.mutableLoop()->carries.clear();
  CHECK_THROWS_WITH_AS(verify(g), doctest::Contains("has no carry"), IrError);

  Graph h = testing::sampleGraph();
  h.mutableLoop()->stop = find(h, Op::Input);
  CHECK_THROWS_WITH_AS(verify(h), doctest::Contains("must be a scalar of the loop body"), IrError);

  Graph k = testing::sampleGraph();
  k.mutableLoop()->stages = 5;
  CHECK_THROWS_WITH_AS(verify(k), doctest::Contains("has 3 values for a loop of 5 stages"),
                       IrError);

  Graph m = testing::sampleGraph();
  m.mutableLoop().reset();
  CHECK_THROWS_WITH_AS(verify(m), doctest::Contains("the graph has no stage loop"), IrError);
}

TEST_CASE("verifier: attributes, names, regions and outputs") {
  Graph g = testing::sampleGraph();
  g.mutableNode(find(g, Op::Conv2d)).attrs = Attrs{};
  CHECK_THROWS_WITH_AS(verify(g), doctest::Contains("must be stored explicitly"), IrError);

  Graph h = testing::sampleGraph();
  h.mutableNode(find(h, Op::Monitor, 1)).attrs.set("name", std::string("opt_error"));
  CHECK_THROWS_WITH_AS(verify(h), doctest::Contains("not unique among monitor nodes"), IrError);

  Graph k = testing::sampleGraph();
  k.mutableNode(find(k, Op::Input)).region = Region::Post;
  CHECK_THROWS(verify(k));

  Graph m = testing::sampleGraph();
  m.mutableOutputs().push_back(Output{"body", find(m, Op::Conv2d)});
  CHECK_THROWS_WITH_AS(verify(m), doctest::Contains("use its loop_result"), IrError);
}
