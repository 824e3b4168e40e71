// The op table is data; these tests check that the data is coherent.
#include "ir/errors.h"
#include "ir/op_table.h"

#include <doctest/doctest.h>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

using namespace podm::ir;

TEST_CASE("op table: names are unique and found by name") {
  std::set<std::string_view> names;
  for (const OpInfo& op : allOps()) {
    CHECK(names.insert(op.name).second);
    REQUIRE(findOp(op.name) != nullptr);
    CHECK(findOp(op.name)->op == op.op);
    CHECK(&opInfo(op.op) == &op);
    CHECK(!op.doc.empty());
  }
  CHECK(names.size() == kOpCount);
  CHECK(findOp("no_such_op") == nullptr);
}

TEST_CASE("op table: signatures use known letters, sources have none") {
  for (const OpInfo& op : allOps()) {
    // A `*` may only end the signature, after the letter it repeats.
    std::string_view letters =
        op.variadic() ? op.signature.substr(0, op.signature.size() - 1) : op.signature;
    CHECK_MESSAGE((!op.variadic() || op.signature.size() >= 2), op.name);
    for (char c : letters)
      CHECK_MESSAGE(std::string("XTRCSN").find(c) != std::string::npos, op.name);
    if (op.has(trait::Source))
      CHECK(op.arity() == 0);
    if (op.has(trait::Reduction))
      CHECK(op.arity() >= 1);
  }
}

TEST_CASE("op table: adjoints pair linear ops both ways") {
  for (const OpInfo& op : allOps()) {
    if (!op.adjoint.exists)
      continue;
    INFO(op.name);
    CHECK(op.has(trait::Linear));
    const OpInfo& adj = opInfo(op.adjoint.op);
    REQUIRE(adj.adjoint.exists);
    CHECK(adj.adjoint.op == op.op);
  }
  CHECK(opInfo(Op::FdGrad).adjoint.op == Op::FdGradAdjoint);
  CHECK(opInfo(Op::Conv2d).adjoint.op == Op::Conv2dAdjoint);
}

TEST_CASE("op table: the PODM stage vocabulary is present") {
  for (const char* name : {"add",
                           "sub",
                           "mul",
                           "div",
                           "axpby",
                           "scale",
                           "neg",
                           "abs",
                           "clamp",
                           "sign",
                           "max",
                           "min",
                           "fma",
                           "dot",
                           "sum",
                           "norm2sq",
                           "maxabs",
                           "rfft2",
                           "irfft2",
                           "conj",
                           "conv2d",
                           "conv2d_adjoint",
                           "decimate",
                           "upsample_zero",
                           "resize_bicubic",
                           "resize_bicubic_adjoint",
                           "haar",
                           "haar_inv",
                           "dct2",
                           "idct2",
                           "fd_grad",
                           "fd_grad_adjoint",
                           "mask",
                           "dct_filters",
                           "dct_filters_adjoint",
                           "prox",
                           "le",
                           "select",
                           "sqrt",
                           "schedule",
                           "monitor",
                           "loop_state",
                           "loop_result"})
    CHECK_MESSAGE(findOp(name) != nullptr, name);
}

TEST_CASE("op table: attribute completion fills defaults and rejects bad attributes") {
  Attrs full = completeAttrs(opInfo(Op::Conv2d), {});
  CHECK(full.getString("boundary") == "zero");
  CHECK_THROWS_WITH_AS(completeAttrs(opInfo(Op::Conv2d), {{"boundry", std::string("zero")}}),
                       doctest::Contains("unknown attribute 'boundry'"), IrError);
  CHECK_THROWS_WITH_AS(completeAttrs(opInfo(Op::Conv2d), {{"boundary", std::string("mirror")}}),
                       doctest::Contains("is not one of zero|periodic|symmetric"), IrError);
  CHECK_THROWS_WITH_AS(completeAttrs(opInfo(Op::Decimate), {}),
                       doctest::Contains("missing attribute 'factor'"), IrError);
  CHECK_THROWS_WITH_AS(completeAttrs(opInfo(Op::Decimate), {{"factor", int64_t{0}}}),
                       doctest::Contains("outside [1, 1024]"), IrError);
  CHECK_THROWS_WITH_AS(completeAttrs(opInfo(Op::Decimate), {{"factor", 2.0}}),
                       doctest::Contains("must be of kind int, got float"), IrError);
  CHECK(traitNames(opInfo(Op::Add).traits) == "elementwise separable commutative");
}

TEST_CASE("op table: docs/ir.md documents every op") {
  std::ifstream in(std::string(PODM_SOURCE_DIR) + "/docs/ir.md");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  for (const OpInfo& op : allOps())
    CHECK_MESSAGE(text.str().find("`" + std::string(op.name) + "`") != std::string::npos,
                  "docs/ir.md does not mention `" << op.name << "`");
}
