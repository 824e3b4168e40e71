// The CUDA fused-program interpreter's arithmetic on the host: programs encoded as the CUDA
// builder encodes them (runtime/cuda/fused_encode.h), run element by element through the
// interpreter step the kernel runs (runtime/cuda/fused_math.h), against the CPU fused kernel
// (runtime/cpu/fused_kernel.cpp, through the executor) on random inputs: plain chains with
// literals and broadcast scalars, every program op, programs ending in a reduction, multi-result
// programs with unread results, programs of scalars only; and the register allocation's limits.
#include "ir/builder.h"
#include "ir/fused_program.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/cuda/fused_encode.h"
#include "runtime/executor.h"
#include "runtime/ir_types.h"

#include <cmath>
#include <doctest/doctest.h>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace podm;
using namespace podm::cuda::fused;
using ir::Op;
using ir::ValueId;

namespace {

// An operand: a tensor of these dims, or a scalar (nullopt).
using OperandShape = std::optional<ir::Dims>;

Tensor randomOperand(const ir::Type& type, std::mt19937& rng) {
  Tensor t(toShape(type));
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = normal(rng);
  return t;
}

// The host interpreter over every element: what the kernel and its finishing pass compute.
std::vector<std::vector<float>> interpret(const EncodedProgram& e, const std::vector<Tensor>& in,
                                          const std::vector<int64_t>& resultSizes,
                                          const std::set<int>& unread, int64_t n) {
  std::vector<std::vector<float>> results(resultSizes.size());
  Buffers b{};
  for (size_t k = 0; k < in.size(); ++k)
    b.in[k] = in[k].data();
  for (size_t r = 0; r < resultSizes.size(); ++r) {
    results[r].assign(static_cast<size_t>(resultSizes[r]), NAN);
    b.result[r] = unread.count(static_cast<int>(r)) ? nullptr : results[r].data();
  }
  float registers[kRegisters];
  double acc[kMaxAccumulators] = {};
  for (int64_t i = 0; i < n; ++i)
    runElement(e.code.data(), static_cast<int>(e.code.size()), b, i, registers, acc);
  for (int a = 0; a < e.accumulators; ++a)
    if (float* out = b.result[e.accumulatorResult[a]])
      out[0] = static_cast<float>(acc[a]);
  return results;
}

void requireClose(const float* cpu, const float* device, int64_t n, const std::string& what) {
  for (int64_t i = 0; i < n; ++i) {
    INFO(what, " element ", i, ": cpu ", cpu[i], " interpreter ", device[i]);
    REQUIRE(std::isfinite(cpu[i]));
    REQUIRE(std::fabs(device[i] - cpu[i]) <= 1e-6 * std::max(1e-3f, std::fabs(cpu[i])));
  }
}

// Builds the node (and fused_output readers of results >= 1 not in `unread`), runs it on the CPU,
// interprets the encoded program on the host, and compares every read result.
void checkProgram(const std::string& program, const std::vector<OperandShape>& operands,
                  const std::set<int>& unread = {}, uint32_t seed = 1) {
  INFO("program: ", program);
  ir::Graph g("fused");
  ir::Builder b(g);
  std::mt19937 rng(seed);
  std::map<std::string, Tensor> inputs;
  std::vector<Tensor> in;
  std::vector<ValueId> ids;
  std::vector<bool> scalar;
  int64_t n = 1;
  for (size_t k = 0; k < operands.size(); ++k) {
    const ir::Type type = operands[k] ? ir::Type::real(*operands[k]) : ir::Type::scalar();
    const std::string name = "in" + std::to_string(k);
    in.push_back(randomOperand(type, rng));
    inputs.emplace(name, in.back());
    ids.push_back(b.input(name, type));
    scalar.push_back(type.isScalar());
    n = type.isTensor() ? type.numel() : n;
  }
  ValueId node = b.create(Op::FusedElementwise, ids, {{"program", program}});
  b.output("r0", node);
  const ir::FusedProgram parsed = ir::parseFusedProgram(program, operands.size());
  const std::vector<uint32_t> results = parsed.results();
  std::vector<int64_t> sizes;
  for (size_t r = 0; r < results.size(); ++r) {
    const bool reduction = parsed.isReduction(results[r]);
    sizes.push_back(reduction ? 1 : n);
    if (r == 0 || unread.count(static_cast<int>(r)))
      continue;
    b.output("r" + std::to_string(r),
             b.op(Op::FusedOutput, {node},
                  {{"index", static_cast<int64_t>(r)}, {"reduction", int64_t{reduction}}}));
  }
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  const RunResult run = ex.run(inputs);

  std::string why;
  const std::optional<EncodedProgram> encoded = encodeProgram(parsed, scalar, &why);
  INFO(why);
  REQUIRE(encoded);
  const auto device = interpret(*encoded, in, sizes, unread, n);
  for (size_t r = 0; r < results.size(); ++r) {
    if (unread.count(static_cast<int>(r)))
      continue;
    const Tensor& ref = run.outputs.at("r" + std::to_string(r));
    REQUIRE(ref.numel() == sizes[r]);
    requireClose(ref.data(), device[r].data(), sizes[r], "result " + std::to_string(r));
  }
}

const ir::Dims kOdd{1, 1, 37, 29};
const ir::Dims kPlanes{2, 3, 17, 23};

} // namespace

TEST_CASE("fused interpreter: chains with literals and broadcast scalars match the CPU kernel") {
  for (const ir::Dims& d : {kOdd, kPlanes, ir::Dims{1, 1, 1, 5}}) {
    INFO(d.str());
    checkProgram("t0 = sub(in0, in1); t1 = mul(0.5, t0); t2 = fma(in2, t1, in0); "
                 "t3 = clamp(t2, -1, 1); axpby(in2, t3, in2, in1)",
                 {d, d, std::nullopt});
    checkProgram("t0 = div(in0, in2); t1 = max(t0, in1); t2 = min(t1, 0.75); t3 = neg(t2); "
                 "t4 = sign(in1); t5 = mul(t4, t3); t6 = abs(in0); t7 = add(t6, 0.5); "
                 "t8 = sqrt(t7); t9 = log(t8); t10 = exp(t5); t11 = sub(t10, t9); "
                 "axpby(in3, t11, 0.25, t8)",
                 {d, d, std::nullopt, std::nullopt});
  }
}

TEST_CASE("fused interpreter: programs ending in a reduction match the CPU kernel") {
  for (const ir::Dims& d : {kOdd, kPlanes}) {
    INFO(d.str());
    checkProgram("t0 = sub(in0, in1); t1 = abs(t0); norm2sq(t1)", {d, d});
    checkProgram("t0 = mul(in1, in0); maxabs(t0)", {d, std::nullopt});
    checkProgram("t0 = sub(in0, in1); t1 = mul(t0, in2); dot(t1, in0)", {d, d, std::nullopt});
    checkProgram("t0 = abs(in0); sum(t0)", {d}); // the CPU's sumabs superinstruction
    checkProgram("t0 = fma(in0, in1, 0.125); sum(t0)", {d, d});
  }
}

TEST_CASE("fused interpreter: a multi-result FISTA pass matches the CPU kernel, unread results "
          "included") {
  // The gradient step, the l1 prox and the momentum step, with the monitors' sums: the pattern the
  // CPU kernel folds into its soft / step / sumabs superinstructions (bitwise the plain ops).
  const std::string fista =
      "t0 = add(in1, in2); t1 = mul(in3, t0); t2 = sub(in0, t1); t3 = sign(t2); t4 = abs(t2); "
      "t5 = sub(t4, in4); t6 = max(t5, 0); t7 = mul(t3, t6); t8 = sub(t7, in5); "
      "t9 = fma(in6, t8, t7); t10 = norm2sq(t8); t11 = norm2sq(t7); t12 = abs(t7); t13 = sum(t12); "
      "return t7, t9, t10, t11, t13";
  for (const ir::Dims& d : {kOdd, kPlanes}) {
    INFO(d.str());
    const std::vector<OperandShape> operands{d, d, d, std::nullopt, std::nullopt, d, std::nullopt};
    checkProgram(fista, operands);
    checkProgram(fista, operands, {1, 3}, 2);
  }
  // A result read again after it is written, and a reduction in the middle of the program.
  checkProgram("t0 = sub(in0, in1); t1 = dot(t0, in1); t2 = mul(t0, t0); t3 = maxabs(t2); "
               "t4 = add(t2, t0); return t2, t1, t4, t3",
               {kPlanes, kPlanes});
}

TEST_CASE("fused interpreter: a program of scalars runs once") {
  checkProgram("t0 = mul(in0, in1); t1 = abs(t0); t2 = add(t1, 2); t3 = sqrt(t2); sub(t3, in0)",
               {std::nullopt, std::nullopt});
}

TEST_CASE("fused interpreter: registers are reused, and a program that needs too many is refused") {
  // A 60-instruction chain needs two registers, however long.
  std::string chain = "t0 = add(in0, in1)";
  for (int k = 1; k < 60; ++k)
    chain += "; t" + std::to_string(k) + " = " + (k % 2 ? "mul(t" : "sub(t") +
             std::to_string(k - 1) + ", " + (k % 3 ? "in0)" : "0.5)");
  checkProgram(chain, {kOdd, kOdd});
  const std::optional<EncodedProgram> e =
      encodeProgram(ir::parseFusedProgram(chain, 2), {false, false});
  REQUIRE(e);
  int highest = 0;
  for (const Instruction& ins : e->code)
    highest = std::max<int>(highest, ins.dest);
  CHECK(highest <= 1);

  // kRegisters + 1 values live at once: every one read by the final sum chain.
  std::string wide;
  const int live = kRegisters + 1;
  for (int k = 0; k < live; ++k)
    wide += "t" + std::to_string(k) + " = mul(in0, " + std::to_string(k + 1) + "); ";
  int next = live;
  wide += "t" + std::to_string(next) + " = add(t0, t1)";
  for (int k = 2; k < live; ++k, ++next)
    wide += "; t" + std::to_string(next + 1) + " = add(t" + std::to_string(next) + ", t" +
            std::to_string(k) + ")";
  std::string why;
  CHECK_FALSE(encodeProgram(ir::parseFusedProgram(wide, 1), {false}, &why).has_value());
  CHECK(why.find("live temporaries") != std::string::npos);
  // One fewer fits, and still matches the CPU kernel.
  std::string fits;
  for (int k = 0; k < kRegisters; ++k)
    fits += "t" + std::to_string(k) + " = mul(in0, " + std::to_string(k + 1) + "); ";
  next = kRegisters;
  fits += "t" + std::to_string(next) + " = add(t0, t1)";
  for (int k = 2; k < kRegisters; ++k, ++next)
    fits += "; t" + std::to_string(next + 1) + " = add(t" + std::to_string(next) + ", t" +
            std::to_string(k) + ")";
  checkProgram(fits, {kOdd});
}

TEST_CASE("fused interpreter: more reductions than accumulators are refused") {
  std::string program = "t0 = mul(in0, in0)";
  std::string returns = "; return t0";
  for (int k = 1; k <= kMaxAccumulators + 1; ++k) {
    program += "; t" + std::to_string(k) + " = sum(t0)";
    returns += ", t" + std::to_string(k);
  }
  std::string why;
  CHECK_FALSE(
      encodeProgram(ir::parseFusedProgram(program + returns, 1), {false}, &why).has_value());
  CHECK(why.find("reductions") != std::string::npos);
}
