// CUDA kernels for fused elementwise programs: the builder and its table line. The builder parses
// the node's program, encodes it for the device interpreter (fused_encode.h) and uploads it once
// (with PODM_CUDA_FUSED=nvrtc it also compiles the program into its own kernel, fused_nvrtc.h);
// the kernel (fused.cu) writes every result, so fused_output nodes need nothing here. A program
// the interpreter cannot hold (too many live temporaries or reductions) has no CUDA kernel and
// runs on the CPU fallback.
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/fused_codegen.h"
#include "runtime/cuda/fused_encode.h"
#include "runtime/cuda/fused_nvrtc.h"

#include <vector>

namespace podm::cuda {
namespace {

// The encoded program on the device, the reductions' partials, and the launch's view of them;
// with PODM_CUDA_FUSED=nvrtc also the program's compiled kernel.
struct FusedProgramState final : NodeState {
  DeviceBuffer code; // the interpreter's program (empty for a compiled kernel)
  DeviceBuffer partials;
  fused::LaunchInfo info{};
  const void* kernel = nullptr; // compiled (fused_nvrtc.h), or null: the interpreter
  void bind(LaunchArgs& args) const override {
    args.state = kernel ? static_cast<const void*>(this) : &info;
    args.workspace = partials.get();
  }
};

void compiledProgramLaunch(const LaunchArgs& x) {
  const auto& s = *static_cast<const FusedProgramState*>(x.state);
  fused::launchCompiled(s.kernel, fused::launchBuffers(x), x.n, static_cast<double*>(x.workspace),
                        s.info);
}

CudaKernel buildFusedElementwise(const CudaBuildContext& c) {
  CudaKernel k;
  const ir::Node& node = c.node();
  const ir::FusedProgram program =
      ir::parseFusedProgram(node.attrs.getString("program"), node.operands.size());
  std::vector<bool> scalar(node.operands.size());
  int64_t numel = 0;
  for (size_t i = 0; i < node.operands.size(); ++i) {
    if (c.operand(i).elem != ir::ElemType::F32)
      return k; // programs read f32 values only
    scalar[i] = c.operand(i).isScalar();
    if (c.operand(i).isTensor())
      numel = c.operand(i).numel();
  }
  const std::optional<fused::EncodedProgram> encoded = fused::encodeProgram(program, scalar);
  if (!encoded)
    return k;
  k.launch = fused::programLaunch();
  k.n = numel > 0 ? numel : 1; // a program of scalars runs once
  if (c.allocator) {
    auto state = std::make_unique<FusedProgramState>();
    if (fused::compiledProgramsWanted()) {
      state->kernel = fused::loadedKernel(fused::kernelSource(*encoded));
      k.launch = compiledProgramLaunch;
    } else { // the interpreter reads the program from the device
      const size_t codeBytes = encoded->code.size() * sizeof(fused::Instruction);
      state->code = DeviceBuffer(*c.allocator, codeBytes);
      c.allocator->upload(state->code.ptr(), encoded->code.data(), codeBytes);
      state->info.code = static_cast<const fused::Instruction*>(state->code.get());
    }
    if (encoded->accumulators > 0)
      state->partials = DeviceBuffer(
          *c.allocator,
          static_cast<size_t>(fused::partialDoubles(encoded->accumulators)) * sizeof(double));
    state->info.count = static_cast<int>(encoded->code.size());
    state->info.accumulators = encoded->accumulators;
    for (int a = 0; a < encoded->accumulators; ++a) {
      state->info.accumulatorOp[a] = encoded->accumulatorOp[a];
      state->info.accumulatorResult[a] = encoded->accumulatorResult[a];
    }
    k.state = std::move(state);
  }
  return k;
}

} // namespace

void registerFusedKernels(CudaKernelTable& t) {
  using ir::Op;
  t.add(Op::FusedElementwise, buildFusedElementwise);
}

} // namespace podm::cuda
