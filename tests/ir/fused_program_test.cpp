// Fused elementwise programs (ir/fused_program.h): the text round-trips exactly
// (literals included), and every malformed program is refused with the problem named.
#include "ir/errors.h"
#include "ir/fused_program.h"

#include <doctest/doctest.h>
#include <string>

using namespace podm::ir;

namespace {

std::string refusal(const std::string& text, size_t inputs) {
  try {
    parseFusedProgram(text, inputs);
  } catch (const IrError& e) {
    return e.what();
  }
  return "accepted";
}

} // namespace

TEST_CASE("fused programs print canonically and parse back to the same program") {
  const std::string text = "t0 = sub(in0, in1); t1 = mul(0.10000000000000001, t0); "
                           "t2 = clamp(t1, -1, 2.5); t3 = axpby(in2, t2, in2, in1); norm2sq(t3)";
  FusedProgram p = parseFusedProgram(text, 3);
  CHECK(p.instrs.size() == 5);
  CHECK(p.reduction());
  CHECK(p.inputsUsed() == 3);
  CHECK(p.instrs[1].args[0].kind == FusedArg::Kind::Literal);
  CHECK(p.instrs[1].args[0].literal == 0.1); // printed with 17 digits: exact
  CHECK(printFusedProgram(p) == text);
  // Spacing is free; the temp names of all but the last instruction are optional.
  FusedProgram q = parseFusedProgram("sub(in0,in1) ;t1=neg( t0 )", 2);
  CHECK(printFusedProgram(q) == "t0 = sub(in0, in1); neg(t0)");
  CHECK_FALSE(q.reduction());
  // Every op of the table parses with its arity.
  for (const FusedOpInfo& op : fusedOps()) {
    std::string call = std::string(op.name) + "(";
    for (int i = 0; i < op.arity; ++i)
      call += (i ? ", in" : "in") + std::to_string(i);
    FusedProgram one = parseFusedProgram(call + ")", static_cast<size_t>(op.arity));
    CHECK(one.reduction() == op.reduction);
    CHECK(findFusedOp(op.name) == one.instrs[0].op);
  }
}

TEST_CASE("a program with several results round-trips and names its results") {
  const std::string text =
      "t0 = sub(in0, in1); t1 = mul(t0, 2); t2 = norm2sq(t0); t3 = sum(in1); return t1, t0, t2, t3";
  FusedProgram p = parseFusedProgram(text, 2);
  CHECK(printFusedProgram(p) == text);
  CHECK(p.results() == std::vector<uint32_t>{1, 0, 2, 3});
  CHECK_FALSE(p.reduction());
  CHECK(p.isReduction(2));
  CHECK(p.isReduction(3));
}

TEST_CASE("malformed fused programs are refused with the problem named") {
  CHECK(refusal("", 1).find("the program is empty") != std::string::npos);
  CHECK(
      refusal("t0 = norm2sq(in0); neg(t0)", 1).find("a reduction's scalar result cannot be used") !=
      std::string::npos);
  CHECK(refusal("t0 = sum(in0); neg(in0)", 1).find("a reduction must be the last") !=
        std::string::npos);
  CHECK(refusal("t0 = neg(in0); t1 = sum(in0); return t0", 1).find("t1 is not returned") !=
        std::string::npos);
  CHECK(refusal("t0 = sum(in0); t1 = neg(in0); return t0, t1", 1).find("must be a tensor") !=
        std::string::npos);
  CHECK(refusal("t0 = neg(in0); t1 = abs(in0); return t1, t1", 1).find("returned twice") !=
        std::string::npos);
  CHECK(refusal("mul(in0, 1e)", 1).find("expected inN, tN or a number") != std::string::npos);
  CHECK(refusal("mul(in0, x1)", 1).find("expected inN, tN or a number") != std::string::npos);
  CHECK(refusal("mul(in0 in0)", 1).find("expected ','") != std::string::npos);
  CHECK(refusal("neg(in0", 1).find("expected ','") != std::string::npos);
  CHECK(refusal("neg(in1)", 1).find("in1 but the node has 1 operand") != std::string::npos);
  CHECK(refusal("neg(t0)", 1).find("t0 is used before it is computed") != std::string::npos);
  CHECK(refusal("fma(in0, in0)", 1).find("fma takes 3 arguments, got 2") != std::string::npos);
  CHECK(refusal("t3 = neg(in0)", 1).find("must be named t0") != std::string::npos);
}
