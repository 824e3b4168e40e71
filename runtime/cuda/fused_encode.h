// Host side of the CUDA fused-program interpreter: encodes a parsed fused program
// (ir/fused_program.h) into the POD instructions of fused_math.h, once per node. Temporaries get
// registers by liveness (a register is free again after its value's last reader), so the device
// keeps a small register file whatever the program's length. Header-only so the host test of the
// interpreter (tests/runtime/cuda/fused_math_test.cpp) encodes programs exactly as the builder
// does on machines built without CUDA.
#pragma once

#include "ir/fused_program.h"
#include "runtime/cuda/fused_math.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podm::cuda::fused {

struct EncodedProgram {
  std::vector<Instruction> code;
  int accumulators = 0;
  Opcode accumulatorOp[kMaxAccumulators] = {};
  int8_t accumulatorResult[kMaxAccumulators] = {};
};

// One line per program op name (ir/fused_program.cpp's table).
struct OpcodeName {
  std::string_view name;
  Opcode op;
};
inline constexpr OpcodeName kOpcodeNames[] = {
    {"add", Opcode::Add},      {"sub", Opcode::Sub},     {"mul", Opcode::Mul},
    {"div", Opcode::Div},      {"max", Opcode::Max},     {"min", Opcode::Min},
    {"neg", Opcode::Neg},      {"abs", Opcode::Abs},     {"sign", Opcode::Sign},
    {"sqrt", Opcode::Sqrt},    {"exp", Opcode::Exp},     {"log", Opcode::Log},
    {"fma", Opcode::Fma},      {"axpby", Opcode::Axpby}, {"clamp", Opcode::Clamp},
    {"sum", Opcode::Sum},      {"dot", Opcode::Dot},     {"norm2sq", Opcode::Norm2Sq},
    {"maxabs", Opcode::MaxAbs}};

inline std::optional<Opcode> opcodeNamed(std::string_view name) {
  for (const OpcodeName& o : kOpcodeNames)
    if (o.name == name)
      return o.op;
  return std::nullopt;
}

// The program for operands of which `scalar[k]` says whether operand k is a scalar (it
// broadcasts). nullopt, with the reason in *why, when the program exceeds the interpreter's
// limits (instructions, live temporaries, reductions, results).
inline std::optional<EncodedProgram> encodeProgram(const ir::FusedProgram& p,
                                                   const std::vector<bool>& scalar,
                                                   std::string* why = nullptr) {
  auto refuse = [&](std::string reason) -> std::optional<EncodedProgram> {
    if (why)
      *why = std::move(reason);
    return std::nullopt;
  };
  const size_t count = p.instrs.size();
  if (count > static_cast<size_t>(kMaxInstructions))
    return refuse("more than " + std::to_string(kMaxInstructions) + " instructions");
  if (scalar.size() > static_cast<size_t>(kMaxOperands))
    return refuse("more than " + std::to_string(kMaxOperands) + " operands");
  const std::vector<uint32_t> results = p.results();
  if (results.size() > static_cast<size_t>(kMaxResults))
    return refuse("more than " + std::to_string(kMaxResults) + " results");

  // The last instruction reading each temporary (-1: none).
  std::vector<int> lastRead(count, -1);
  for (size_t k = 0; k < count; ++k)
    for (const ir::FusedArg& a : p.instrs[k].args)
      if (a.kind == ir::FusedArg::Kind::Temp)
        lastRead[a.index] = static_cast<int>(k);
  std::vector<int> resultOf(count, -1);
  for (size_t r = 0; r < results.size(); ++r)
    resultOf[results[r]] = static_cast<int>(r);

  EncodedProgram e;
  std::vector<uint8_t> freeRegisters;
  for (int r = kRegisters - 1; r >= 0; --r)
    freeRegisters.push_back(static_cast<uint8_t>(r));
  std::vector<int> registerOf(count, -1);
  for (size_t k = 0; k < count; ++k) {
    const ir::FusedInstr& in = p.instrs[k];
    const std::optional<Opcode> op = opcodeNamed(ir::fusedOps()[in.op].name);
    if (!op)
      return refuse("no device code for '" + std::string(ir::fusedOps()[in.op].name) + "'");
    Instruction ins{};
    ins.op = *op;
    ins.arity = static_cast<uint8_t>(in.args.size());
    ins.result = static_cast<int8_t>(resultOf[k]);
    for (size_t a = 0; a < in.args.size(); ++a) {
      const ir::FusedArg& arg = in.args[a];
      Arg& out = ins.args[a];
      if (arg.kind == ir::FusedArg::Kind::Literal) {
        out.source = Source::Literal;
        out.literal = static_cast<float>(arg.literal); // as the unfused kernel's attribute
      } else if (arg.kind == ir::FusedArg::Kind::Input) {
        out.source = scalar[arg.index] ? Source::Scalar : Source::Tensor;
        out.index = static_cast<uint8_t>(arg.index);
      } else {
        out.source = Source::Register;
        out.index = static_cast<uint8_t>(registerOf[arg.index]);
      }
    }
    // Registers whose value this instruction reads last are free for its own result.
    for (const ir::FusedArg& arg : in.args)
      if (arg.kind == ir::FusedArg::Kind::Temp && lastRead[arg.index] == static_cast<int>(k) &&
          registerOf[arg.index] >= 0) {
        freeRegisters.push_back(static_cast<uint8_t>(registerOf[arg.index]));
        registerOf[arg.index] = -1;
      }
    if (isReduction(ins.op)) {
      if (e.accumulators == kMaxAccumulators)
        return refuse("more than " + std::to_string(kMaxAccumulators) + " reductions");
      ins.accumulator = static_cast<uint8_t>(e.accumulators);
      e.accumulatorOp[e.accumulators] = ins.op;
      e.accumulatorResult[e.accumulators] = ins.result;
      ++e.accumulators;
    } else {
      if (freeRegisters.empty())
        return refuse("more than " + std::to_string(kRegisters) + " live temporaries");
      ins.dest = freeRegisters.back();
      if (lastRead[k] >= 0) {
        freeRegisters.pop_back();
        registerOf[k] = ins.dest;
      } // else: nobody reads the register, which stays free
    }
    e.code.push_back(ins);
  }
  return e;
}

} // namespace podm::cuda::fused
