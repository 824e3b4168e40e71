// The CPU kernels of the fused ops (compiler/passes/fuse_elementwise.cpp).
//
// `fused_elementwise`: the node's program
// runs block by block (kBlock floats, so every temporary stays in L1/L2), each instruction one
// tight vectorizable loop over the block (compiled for SSE2, AVX2 and AVX-512, picked by the CPU:
// numerics/vector_clones.h), the last one writing the output (or feeding a
// reduction). Each program op computes exactly the float expression of the unfused kernel it
// replaces (the same functor, runtime/elementwise_math.h), and reductions accumulate in double over
// the same 8 lanes in the same element order as reduction_kernels.cpp, so results are bitwise those
// of the unfused graph.
//
// `irfft2_product`: irfft2(a * b) or irfft2(a / b) with the product computed straight into the
// transform's input workspace, scaled by 1/(h*w) there as irfft2 does (spectral_kernels.cpp), so
// the result is bitwise that of the unfused mul/div followed by irfft2.
#include "ir/fused_program.h"
#include "numerics/fft.h"
#include "numerics/parallel.h"
#include "numerics/vector_clones.h"
#include "runtime/cpu/cpu_kernel.h"
#include "runtime/elementwise_math.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace podm::cpu {
namespace {

constexpr int64_t kBlock = 512; // a multiple of kLanes
constexpr int kLanes = 8;

using OpFn = void (*)(const float* const* a, float* __restrict o, int64_t n);

template <class F>
PODM_VECTOR_CLONES void unary(const float* const* a, float* __restrict o, int64_t n) {
  const float* __restrict x = a[0];
  for (int64_t i = 0; i < n; ++i)
    o[i] = F::f(x[i]);
}
template <class F>
PODM_VECTOR_CLONES void binary(const float* const* a, float* __restrict o, int64_t n) {
  const float* __restrict x = a[0];
  const float* __restrict y = a[1];
  for (int64_t i = 0; i < n; ++i)
    o[i] = F::f(x[i], y[i]);
}
template <class F>
PODM_VECTOR_CLONES void ternary(const float* const* a, float* __restrict o, int64_t n) {
  const float* __restrict x = a[0];
  const float* __restrict y = a[1];
  const float* __restrict z = a[2];
  for (int64_t i = 0; i < n; ++i)
    o[i] = F::f(x[i], y[i], z[i]);
}
PODM_VECTOR_CLONES void axpby(const float* const* a, float* __restrict o, int64_t n) {
  const float* __restrict s = a[0];
  const float* __restrict x = a[1];
  const float* __restrict t = a[2];
  const float* __restrict y = a[3];
  for (int64_t i = 0; i < n; ++i)
    o[i] = ew::axpby(s[i], x[i], t[i], y[i]);
}

// The unfused kernels' functors (runtime/elementwise_math.h) seen through the fused program's
// calling convention: unary ops without attributes, clamp's bounds as operands.
template <class F>
struct NoAttrs {
  static float f(float a) { return F::f(a, 0.f, 0.f); }
};
struct Fma {
  static float f(float a, float b, float c) { return ew::fma3(a, b, c); }
};

// Soft thresholding sign(v) * max(|v| - t, z), the l1 prox as the lowering writes it (five program
// instructions), evaluated per element in the same float operations and order: bitwise the five.
struct SoftThreshold {
  static float f(float v, float t, float z) {
    return ew::Mul::f(ew::Sign::f(v, 0.f, 0.f),
                      ew::Max::f(ew::Sub::f(ew::Abs::f(v, 0.f, 0.f), t), z));
  }
};

// Reductions: accumulate one block into the running lanes (tail elements go to lane 0, which
// only the last block has, as in reduction_kernels.cpp's laneSum).
struct Acc {
  double lanes[kLanes] = {};
  float max = 0;
};
using ReduceFn = void (*)(const float* const* a, int64_t n, Acc& acc);

template <class Term>
void laneBlock(int64_t n, Acc& acc, Term term) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l)
      acc.lanes[l] += term(i + l);
  for (; i < n; ++i)
    acc.lanes[0] += term(i);
}
// sum(abs(x)) and d - c * (a + b) (the gradient step y - gamma (grad + offset)): superinstructions,
// in the float operations and order of the instructions they replace.
PODM_VECTOR_CLONES void sumAbsBlock(const float* const* a, int64_t n, Acc& acc) {
  const float* x = a[0];
  laneBlock(n, acc, [&](int64_t i) { return double{ew::Abs::f(x[i], 0.f, 0.f)}; });
}
PODM_VECTOR_CLONES void gradientStep(const float* const* a, float* __restrict o, int64_t n) {
  const float* __restrict p = a[0];
  const float* __restrict q = a[1];
  const float* __restrict c = a[2];
  const float* __restrict d = a[3];
  for (int64_t i = 0; i < n; ++i)
    o[i] = ew::Sub::f(d[i], ew::Mul::f(c[i], ew::Add::f(p[i], q[i])));
}
PODM_VECTOR_CLONES void sumBlock(const float* const* a, int64_t n, Acc& acc) {
  const float* x = a[0];
  laneBlock(n, acc, [&](int64_t i) { return double{x[i]}; });
}
PODM_VECTOR_CLONES void norm2sqBlock(const float* const* a, int64_t n, Acc& acc) {
  const float* x = a[0];
  laneBlock(n, acc, [&](int64_t i) { return static_cast<double>(x[i]) * x[i]; });
}
PODM_VECTOR_CLONES void dotBlock(const float* const* a, int64_t n, Acc& acc) {
  const float* x = a[0];
  const float* y = a[1];
  laneBlock(n, acc, [&](int64_t i) { return static_cast<double>(x[i]) * y[i]; });
}
PODM_VECTOR_CLONES void maxAbsBlock(const float* const* a, int64_t n, Acc& acc) {
  const float* x = a[0];
  float m = acc.max;
  for (int64_t i = 0; i < n; ++i) {
    float v = std::fabs(x[i]);
    m = v > m ? v : m;
  }
  acc.max = m;
}

// One line per program op (ir/fused_program.cpp's table). `passes`: what an element costs, in
// plain interpreted instructions (an add is 1); exp and log are libm calls of about 5 ns an element
// here, some 8 adds, which decides whether a program is worth a second thread (fusedKernel).
struct ProgramOp {
  std::string_view name;
  OpFn op;
  ReduceFn reduce;
  bool usesMax;
  int passes = 1;
};
constexpr ProgramOp kProgramOps[] = {
    {"add", binary<ew::Add>, nullptr, false},
    {"sub", binary<ew::Sub>, nullptr, false},
    {"mul", binary<ew::Mul>, nullptr, false},
    {"div", binary<ew::Div>, nullptr, false},
    {"max", binary<ew::Max>, nullptr, false},
    {"min", binary<ew::Min>, nullptr, false},
    {"neg", unary<NoAttrs<ew::Neg>>, nullptr, false},
    {"abs", unary<NoAttrs<ew::Abs>>, nullptr, false},
    {"sign", unary<NoAttrs<ew::Sign>>, nullptr, false},
    {"sqrt", unary<NoAttrs<ew::Sqrt>>, nullptr, false},
    {"exp", unary<NoAttrs<ew::Exp>>, nullptr, false, 8},
    {"log", unary<NoAttrs<ew::Log>>, nullptr, false, 8},
    {"fma", ternary<Fma>, nullptr, false},
    {"axpby", axpby, nullptr, false},
    {"clamp", ternary<ew::Clamp>, nullptr, false},
    {"sum", nullptr, sumBlock, false},
    {"dot", nullptr, dotBlock, false},
    {"norm2sq", nullptr, norm2sqBlock, false},
    {"maxabs", nullptr, maxAbsBlock, true},
};
// Superinstructions the kernel selects itself (selectSuperinstructions); no program spells them.
// An instruction selected as kSuperinstructions[k] has op -1 - k.
constexpr ProgramOp kSuperinstructions[] = {
    {"soft", ternary<SoftThreshold>, nullptr, false},
    {"sumabs", nullptr, sumAbsBlock, false},
    {"step", gradientStep, nullptr, false},
};
constexpr int kSoft = -1, kSumAbs = -2, kStep = -3;

const ProgramOp& programOp(std::string_view name) {
  for (const ProgramOp& p : kProgramOps)
    if (p.name == name)
      return p;
  throw std::logic_error("fused kernel: no CPU loop for program op '" + std::string(name) + "'");
}

// Where an instruction argument's block comes from.
struct Source {
  enum Kind : uint8_t { Tensor, Broadcast, Temp } kind;
  uint32_t index; // Tensor: operand; Broadcast: broadcast buffer; Temp: temp buffer
};

struct Instr {
  const ProgramOp* op;
  std::vector<Source> args;
  int32_t result = -1; // -1: a temporary; 0: the node's value; k: KernelIO::moreOutputs[k - 1]
  int32_t acc = -1;    // reductions: index of its accumulator
  bool runs = true;    // false: folded into a superinstruction
};

// Instruction selection. An interpreted instruction costs a load and a store per element in L1,
// so the kernel folds the chains the lowering writes for a proximal gradient step into one
// instruction each, at the chain's last instruction, when the inner temps are read only there
// (issue 18: the FISTA stage's pass):
//   mul(sign(X), max(sub(abs(X), T), Z))  -> soft(X, T, Z)    the l1 prox
//   sum(abs(X))                           -> sumabs(X)       ||x||_1 for phi
//   sub(D, mul(C, add(A, B)))             -> step(A, B, C, D) y - gamma (grad f + offset)
// Returns, per instruction, whether it still runs.
std::vector<bool> selectSuperinstructions(ir::FusedProgram& p) {
  std::vector<bool> runs(p.instrs.size(), true);
  std::vector<uint32_t> reads(p.instrs.size(), 0);
  for (const ir::FusedInstr& in : p.instrs)
    for (const ir::FusedArg& a : in.args)
      if (a.kind == ir::FusedArg::Kind::Temp)
        reads[a.index] += 1;
  for (uint32_t r : p.results())
    reads[r] += 1;
  auto named = [&](const ir::FusedArg& a, std::string_view op) {
    return a.kind == ir::FusedArg::Kind::Temp && reads[a.index] == 1 && p.instrs[a.index].op >= 0 &&
           ir::fusedOps()[p.instrs[a.index].op].name == op;
  };
  auto same = [](const ir::FusedArg& a, const ir::FusedArg& b) {
    return a.kind == b.kind && a.index == b.index &&
           (a.kind != ir::FusedArg::Kind::Literal || a.literal == b.literal);
  };
  auto fold = [&](ir::FusedInstr& m, int op, std::vector<ir::FusedArg> args,
                  std::initializer_list<uint32_t> dead) {
    for (uint32_t d : dead)
      runs[d] = false;
    m.op = op;
    m.args = std::move(args);
  };
  for (ir::FusedInstr& m : p.instrs) {
    const std::string_view name = ir::fusedOps()[m.op].name;
    if (name == "sum" && named(m.args[0], "abs")) {
      fold(m, kSumAbs, {p.instrs[m.args[0].index].args[0]}, {m.args[0].index});
    } else if (name == "sub" && named(m.args[1], "mul")) {
      const ir::FusedInstr& mulI = p.instrs[m.args[1].index];
      for (int side = 0; side < 2; ++side) {
        if (!named(mulI.args[1 - side], "add"))
          continue;
        const ir::FusedInstr& addI = p.instrs[mulI.args[1 - side].index];
        fold(m, kStep, {addI.args[0], addI.args[1], mulI.args[side], m.args[0]},
             {m.args[1].index, mulI.args[1 - side].index});
        break;
      }
    } else if (name == "mul") {
      for (int side = 0; side < 2; ++side) {
        const ir::FusedArg& sgn = m.args[side];
        const ir::FusedArg& mx = m.args[1 - side];
        if (!named(sgn, "sign") || !named(mx, "max"))
          continue;
        const ir::FusedInstr& maxI = p.instrs[mx.index];
        if (!named(maxI.args[0], "sub"))
          continue;
        const ir::FusedInstr& subI = p.instrs[maxI.args[0].index];
        if (!named(subI.args[0], "abs") ||
            !same(p.instrs[subI.args[0].index].args[0], p.instrs[sgn.index].args[0]))
          continue;
        fold(m, kSoft, {p.instrs[sgn.index].args[0], subI.args[1], maxI.args[1]},
             {sgn.index, mx.index, maxI.args[0].index, subI.args[0].index});
        break;
      }
    }
  }
  return runs;
}

struct FusedState : KernelState {
  std::vector<Instr> instrs;
  std::vector<int32_t> scalarOperand; // per broadcast buffer: operand index, or -1 (literal)
  std::vector<float> literal;         // per broadcast buffer: the literal value
  std::vector<uint32_t> reductions;   // per accumulator: its instruction
  size_t temps = 0;
  int64_t passes = 0; // cost of the instructions left after selection, in ProgramOp::passes
};

// Where result `r` of the node goes (nullptr: nobody reads it).
float* resultPointer(const KernelIO& io, int32_t r) {
  const DevicePtr p = r == 0 ? io.output : io.moreOutputs[static_cast<size_t>(r - 1)];
  return static_cast<float*>(p.raw);
}

// Runs the program over elements [begin, end) (whole blocks but the last), accumulating the
// reductions into acc. Each thread has its own scratch (temporaries and broadcast blocks). A
// tensor result is written straight to its output, which later instructions then read.
void runBlocks(const FusedState& s, const KernelIO& io, int64_t begin, int64_t end, Acc* acc) {
  const size_t broadcasts = s.literal.size();
  thread_local std::vector<float> scratch;
  scratch.resize((s.temps + broadcasts) * kBlock);
  float* temps = scratch.data();
  float* bcast = temps + s.temps * kBlock;
  for (size_t b = 0; b < broadcasts; ++b) {
    float v = s.scalarOperand[b] >= 0
                  ? *static_cast<const float*>(io.inputs[s.scalarOperand[b]].raw)
                  : s.literal[b];
    std::fill(bcast + b * kBlock, bcast + (b + 1) * kBlock, v);
  }
  float* out[64];
  for (size_t i = 0; i < s.instrs.size(); ++i)
    out[i] = s.instrs[i].result >= 0 && !s.instrs[i].op->reduce
                 ? resultPointer(io, s.instrs[i].result)
                 : nullptr;
  const float* args[4];
  for (int64_t base = begin; base < end; base += kBlock) {
    const int64_t len = std::min(kBlock, end - base);
    for (size_t i = 0; i < s.instrs.size(); ++i) {
      const Instr& in = s.instrs[i];
      if (!in.runs)
        continue;
      for (size_t a = 0; a < in.args.size(); ++a) {
        const Source& src = in.args[a];
        args[a] = src.kind == Source::Tensor
                      ? static_cast<const float*>(io.inputs[src.index].raw) + base
                  : src.kind == Source::Broadcast ? bcast + src.index * kBlock
                  : out[src.index]                ? out[src.index] + base
                                                  : temps + src.index * kBlock;
      }
      if (in.op->reduce)
        in.op->reduce(args, len, acc[in.acc]);
      else
        in.op->op(args, out[i] ? out[i] + base : temps + i * kBlock, len);
    }
  }
}

void fusedKernel(const CpuKernel& k, const KernelIO& io) {
  const auto& s = static_cast<const FusedState&>(*k.state);
  std::vector<Acc> acc(s.reductions.size());
  // Past the size where a second thread pays (numerics/parallel.h, counted for a plain pass) the
  // blocks run in one contiguous band per thread. An interpreted instruction costs about half a
  // plain pass (podm_bench_fista at 512²: the 8-instruction FISTA pass with the monitors' sums went
  // from 1.15x to 1.07x the hand loop on two threads, the 5-instruction one gained nothing), so a
  // program counts as instructions / 2 passes (exp and log as 8 instructions each: the |x|^p sum
  // of an lp prior's value, abs-log-mul-exp-sum, takes two threads at 512^2). A reduction sums each
  // band into its own lanes and the bands are added in band order: the same total for the same
  // thread count, and within a rounding of the one-thread sum (the unfused kernels' order, which
  // one thread keeps bit for bit).
  const int64_t blocks = (k.n + kBlock - 1) / kBlock;
  std::mutex bandsDone;
  std::vector<std::pair<int64_t, std::vector<Acc>>> bands;
  numerics::parallelPasses(blocks, k.n * std::max<int64_t>(1, s.passes / 2),
                           [&](int64_t b0, int64_t b1) {
                             std::vector<Acc> part(s.reductions.size());
                             runBlocks(s, io, b0 * kBlock, std::min(k.n, b1 * kBlock), part.data());
                             if (part.empty())
                               return;
                             std::lock_guard<std::mutex> lock(bandsDone);
                             bands.emplace_back(b0, std::move(part));
                           });
  std::sort(bands.begin(), bands.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [b0, part] : bands)
    for (size_t r = 0; r < acc.size(); ++r) {
      for (int l = 0; l < kLanes; ++l)
        acc[r].lanes[l] += part[r].lanes[l];
      acc[r].max = std::max(acc[r].max, part[r].max);
    }
  for (size_t r = 0; r < s.reductions.size(); ++r) {
    const Instr& in = s.instrs[s.reductions[r]];
    float* out = resultPointer(io, in.result);
    if (!out)
      continue;
    double total = 0;
    for (double l : acc[r].lanes)
      total += l;
    out[0] = in.op->usesMax ? acc[r].max : static_cast<float>(total);
  }
}

// The spectrum products of elementwise_kernels.cpp (MulF, DivF), then the 1/(h*w) of irfft2.
struct MulReal {
  static cf f(cf a, float b) { return {a.real() * b, a.imag() * b}; }
};
struct DivReal {
  static cf f(cf a, float b) { return {a.real() / b, a.imag() / b}; }
};
struct MulComplex {
  static cf f(cf a, cf b) {
    return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
  }
};
struct DivComplex {
  static cf f(cf a, cf b) {
    float d = b.real() * b.real() + b.imag() * b.imag();
    return {(a.real() * b.real() + a.imag() * b.imag()) / d,
            (a.imag() * b.real() - a.real() * b.imag()) / d};
  }
};

template <class F, class B>
void irfft2ProductKernel(const CpuKernel& k, const KernelIO& io) {
  const cf* a = static_cast<const cf*>(io.inputs[0].raw);
  const B* b = static_cast<const B*>(io.inputs[1].raw);
  float* y = static_cast<float*>(io.output.raw);
  cf* ws = static_cast<InverseWorkspace&>(*k.state).plane;
  const int64_t in = k.h * numerics::halfSpectrumWidth(k.outW), out = k.h * k.outW;
  const float scale = 1.f / static_cast<float>(out);
  for (int64_t p = 0; p < k.planes; ++p) {
    const cf* ap = a + p * in;
    const B* bp = b + p * in;
    for (int64_t i = 0; i < in; ++i) {
      const cf v = F::f(ap[i], bp[i]);
      ws[i] = {v.real() * scale, v.imag() * scale};
    }
    numerics::fftInverse(ws, y + p * out, k.h, k.outW);
  }
}

// sum w |a b + c|^2: the float expressions of mul, add and abs2 (elementwise_kernels.cpp), the
// products with w accumulated in double over 8 lanes as dot does.
template <bool Offset>
void spectrumEnergyKernel(const CpuKernel& k, const KernelIO& io) {
  const cf* a = static_cast<const cf*>(io.inputs[0].raw);
  const cf* b = static_cast<const cf*>(io.inputs[1].raw);
  const float* w = static_cast<const float*>(io.inputs[2].raw);
  const cf* c = Offset ? static_cast<const cf*>(io.inputs[3].raw) : nullptr;
  Acc acc;
  laneBlock(k.n, acc, [&](int64_t i) {
    cf v = MulComplex::f(a[i], b[i]);
    if constexpr (Offset)
      v = {v.real() + c[i].real(), v.imag() + c[i].imag()};
    const float e = v.real() * v.real() + v.imag() * v.imag();
    return static_cast<double>(e) * w[i];
  });
  double total = 0;
  for (double l : acc.lanes)
    total += l;
  *static_cast<float*>(io.output.raw) = static_cast<float>(total);
}

} // namespace

CpuKernel buildSpectrumEnergy(const CpuBuildContext& c) {
  CpuKernel k;
  k.run = c.node().operands.size() == 4 ? spectrumEnergyKernel<true> : spectrumEnergyKernel<false>;
  k.n = c.operand(0).numel();
  return k;
}

CpuKernel buildIrfft2Product(const CpuBuildContext& c) {
  const ir::Dims& d = c.result().dims;
  const bool divide = c.node().attrs.getString("op") == "div";
  const bool complexB = c.operand(1).elem == ir::ElemType::C64;
  CpuKernel k;
  k.run =
      complexB
          ? (divide ? irfft2ProductKernel<DivComplex, cf> : irfft2ProductKernel<MulComplex, cf>)
          : (divide ? irfft2ProductKernel<DivReal, float> : irfft2ProductKernel<MulReal, float>);
  k.planes = d.n * d.c;
  k.h = d.h;
  k.outW = d.w;
  k.state = std::make_unique<InverseWorkspace>(
      static_cast<size_t>(d.h * numerics::halfSpectrumWidth(d.w)));
  return k;
}

CpuKernel buildFusedElementwise(const CpuBuildContext& c) {
  const ir::Node& n = c.node();
  ir::FusedProgram program = ir::parseFusedProgram(n.attrs.getString("program"), n.operands.size());
  const std::vector<bool> runs = selectSuperinstructions(program);
  if (program.instrs.size() > 64)
    throw std::runtime_error(c.where() + ": a fused program has at most 64 instructions");
  auto state = std::make_unique<FusedState>();
  state->temps = program.instrs.size();
  std::vector<int32_t> broadcastOf(n.operands.size(), -1);
  int64_t numel = 0;
  for (size_t i = 0; i < n.operands.size(); ++i) {
    if (c.operand(i).elem != ir::ElemType::F32)
      throw std::runtime_error(c.where() + ": fused programs read f32 values only");
    if (c.operand(i).isTensor())
      numel = c.operand(i).numel();
  }
  for (const ir::FusedInstr& fi : program.instrs) {
    Instr in{fi.op < 0 ? &kSuperinstructions[-1 - fi.op] : &programOp(ir::fusedOps()[fi.op].name),
             {}};
    in.runs = runs[state->instrs.size()];
    for (const ir::FusedArg& a : fi.args) {
      Source src{Source::Temp, a.index};
      if (a.kind == ir::FusedArg::Kind::Literal) {
        src = {Source::Broadcast, static_cast<uint32_t>(state->literal.size())};
        state->scalarOperand.push_back(-1);
        state->literal.push_back(static_cast<float>(a.literal)); // as the unfused kernel's f0
      } else if (a.kind == ir::FusedArg::Kind::Input) {
        if (c.operand(a.index).isTensor()) {
          src = {Source::Tensor, a.index};
        } else {
          if (broadcastOf[a.index] < 0) {
            broadcastOf[a.index] = static_cast<int32_t>(state->literal.size());
            state->scalarOperand.push_back(static_cast<int32_t>(a.index));
            state->literal.push_back(0.f);
          }
          src = {Source::Broadcast, static_cast<uint32_t>(broadcastOf[a.index])};
        }
      }
      in.args.push_back(src);
    }
    state->instrs.push_back(std::move(in));
  }
  state->passes = 0;
  for (size_t i = 0; i < state->instrs.size(); ++i)
    state->passes += runs[i] ? state->instrs[i].op->passes : 0;
  const std::vector<uint32_t> results = program.results();
  for (size_t r = 0; r < results.size(); ++r)
    state->instrs[results[r]].result = static_cast<int32_t>(r);
  for (size_t i = 0; i < state->instrs.size(); ++i)
    if (state->instrs[i].op->reduce) {
      state->instrs[i].acc = static_cast<int32_t>(state->reductions.size());
      state->reductions.push_back(static_cast<uint32_t>(i));
    }
  CpuKernel k;
  k.run = fusedKernel;
  k.n = numel > 0 ? numel : 1; // a program of scalars runs once
  k.state = std::move(state);
  return k;
}

} // namespace podm::cpu
