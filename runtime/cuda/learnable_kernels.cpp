// CUDA kernels for learnable parameters and the small networks and filter banks built from them:
// the builders and their table lines. A builder reads the shapes into the launch's geometry
// (learnable_math.h), which the node's state holds; the filter spectrum's state also owns its
// twiddle tables (uploaded once) and the gradient's scratch.
#include "ir/builder.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/learnable_math.h"

#include <stdexcept>
#include <string>

namespace podm::cuda {
namespace {

using namespace learnable;

// A launch's geometry, bound as args.state.
template <class Geometry>
struct GeometryState final : NodeState {
  Geometry geometry{};
  void bind(LaunchArgs& args) const override { args.state = &geometry; }
};

// The kernel with its geometry; the state is made only when preparing (not when probing).
template <class Geometry>
CudaKernel withGeometry(const CudaBuildContext& c, Launch launch, const Geometry& g) {
  CudaKernel k;
  k.launch = launch;
  if (c.allocator) {
    auto state = std::make_unique<GeometryState<Geometry>>();
    state->geometry = g;
    k.state = std::move(state);
  }
  return k;
}

// A per-stage parameter must hold a slice for every stage the loop can run (as the CPU kernel
// checks); only when preparing, since probing support must not throw.
void checkStageCount(const CudaBuildContext& c, int64_t slices) {
  const auto& loop = c.graph.loop();
  if (c.allocator && loop && loop->stages > slices)
    throw std::runtime_error(ir::describeNode(c.id.index, c.node().op, c.node().label) +
                             ": the parameter has " + std::to_string(slices) +
                             " stage slices but the loop runs " + std::to_string(loop->stages) +
                             " stages");
}

StageSlices slicesOf(const ir::Dims& stacked) {
  return {stacked.n, stacked.c * stacked.h * stacked.w};
}

CudaKernel buildPickStage(const CudaBuildContext& c) {
  const ir::Dims& d = c.operand(0).dims;
  checkStageCount(c, d.n);
  return withGeometry(c, pickStageLaunch(), slicesOf(d));
}

CudaKernel buildPlaceStage(const CudaBuildContext& c) {
  const ir::Dims& d = c.result().dims;
  checkStageCount(c, d.n);
  return withGeometry(c, placeStageLaunch(), slicesOf(d));
}

CudaKernel buildMatvec(const CudaBuildContext& c) {
  return withGeometry(c, matvecLaunch(), Matrix{c.operand(0).dims.h, c.operand(0).dims.w});
}

CudaKernel buildMatvecT(const CudaBuildContext& c) {
  return withGeometry(c, matvecTLaunch(), Matrix{c.operand(0).dims.h, c.operand(0).dims.w});
}

CudaKernel buildOuter(const CudaBuildContext& c) {
  return withGeometry(c, outerLaunch(), Matrix{c.operand(0).numel(), c.operand(1).numel()});
}

CudaKernel activation(const CudaBuildContext& c, Activation f) {
  CudaKernel k;
  k.launch = activationLaunch(f);
  k.n = c.result().numel();
  return k;
}
CudaKernel buildElu(const CudaBuildContext& c) {
  return activation(c, Activation::Elu);
}
CudaKernel buildSoftplus(const CudaBuildContext& c) {
  return activation(c, Activation::Softplus);
}
CudaKernel buildSigmoid(const CudaBuildContext& c) {
  return activation(c, Activation::Sigmoid);
}

CudaKernel buildEluGrad(const CudaBuildContext& c) {
  const bool tensor = !c.result().isScalar();
  CudaKernel k;
  k.launch = eluGradLaunch(tensor && c.operand(0).isScalar(), tensor && c.operand(1).isScalar());
  k.n = c.result().numel();
  return k;
}

Bank bankOf(const ir::Dims& x, const ir::Dims& filters) {
  return {x.n * x.c, x.h, x.w, filters.c, filters.h};
}

CudaKernel buildFilterBank(const CudaBuildContext& c) {
  return withGeometry(c, filterBankLaunch(), bankOf(c.operand(0).dims, c.operand(1).dims));
}

CudaKernel buildFilterBankAdjoint(const CudaBuildContext& c) {
  return withGeometry(c, filterBankAdjointLaunch(), bankOf(c.result().dims, c.operand(1).dims));
}

CudaKernel buildFilterBankGrad(const CudaBuildContext& c) {
  return withGeometry(c, filterBankGradLaunch(), bankOf(c.operand(0).dims, c.result().dims));
}

// The twiddle tables and, for the gradient, its two scratch arrays, on the device.
struct SpectrumState final : NodeState {
  DeviceBuffer eh, ew, weights, rows;
  Spectrum geometry{};
  void bind(LaunchArgs& args) const override { args.state = &geometry; }
};

DeviceBuffer uploadTwiddles(Backend& memory, int64_t n) {
  const std::vector<Cd> table = spectrumTwiddles(n);
  DeviceBuffer b(memory, table.size() * sizeof(Cd));
  memory.upload(b.ptr(), table.data(), table.size() * sizeof(Cd));
  return b;
}

CudaKernel spectrumKernel(const CudaBuildContext& c, Launch launch, bool scratch) {
  const ir::Dims& f = c.operand(0).dims;
  const int64_t h = c.node().attrs.getInt("h"), w = c.node().attrs.getInt("w");
  CudaKernel k;
  k.launch = launch;
  if (!c.allocator)
    return k;
  auto state = std::make_unique<SpectrumState>();
  Spectrum& g = state->geometry;
  g = Spectrum{f.c, f.h, h, w, w / 2 + 1, nullptr, nullptr, nullptr, nullptr};
  state->eh = uploadTwiddles(*c.allocator, h);
  state->ew = uploadTwiddles(*c.allocator, w);
  g.eh = static_cast<const Cd*>(state->eh.get());
  g.ew = static_cast<const Cd*>(state->ew.get());
  if (scratch) {
    state->weights = DeviceBuffer(*c.allocator, static_cast<size_t>(g.K * h * g.W) * sizeof(Cd));
    state->rows = DeviceBuffer(*c.allocator, static_cast<size_t>(g.K * g.s * g.W) * sizeof(Cd));
    g.weights = static_cast<Cd*>(state->weights.get());
    g.rows = static_cast<Cd*>(state->rows.get());
  }
  k.state = std::move(state);
  return k;
}

CudaKernel buildFilterSpectrum(const CudaBuildContext& c) {
  return spectrumKernel(c, filterSpectrumLaunch(), false);
}

CudaKernel buildFilterSpectrumGrad(const CudaBuildContext& c) {
  return spectrumKernel(c, filterSpectrumGradLaunch(), true);
}

} // namespace

void registerLearnableKernels(CudaKernelTable& t) {
  using ir::Op;
  t.add(Op::PickStage, buildPickStage);
  t.add(Op::PlaceStage, buildPlaceStage);
  t.add(Op::Matvec, buildMatvec);
  t.add(Op::MatvecT, buildMatvecT);
  t.add(Op::Outer, buildOuter);
  t.add(Op::Elu, buildElu);
  t.add(Op::EluGrad, buildEluGrad);
  t.add(Op::Softplus, buildSoftplus);
  t.add(Op::Sigmoid, buildSigmoid);
  t.add(Op::FilterBank, buildFilterBank);
  t.add(Op::FilterBankAdjoint, buildFilterBankAdjoint);
  t.add(Op::FilterBankGrad, buildFilterBankGrad);
  t.add(Op::FilterSpectrum, buildFilterSpectrum);
  t.add(Op::FilterSpectrumGrad, buildFilterSpectrumGrad);
}

} // namespace podm::cuda
