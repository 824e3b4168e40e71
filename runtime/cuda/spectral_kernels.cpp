// CUDA kernels for the FFT family on cuFFT, spectra, min/max reductions and the ssim monitor: the
// builders and their table lines. A builder reads shapes and attributes into the node's state
// (spectral_launch.h); the launches and their math live in fft.cu and spectral_math.h. With no
// allocator (probing support) the builders make no state, so nothing touches the device.
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/spectral_launch.h"
#include "runtime/cuda/spectral_math.h"

namespace podm::cuda {
namespace {

// The planes of an f32 tensor n x c x h x w.
PlaneShape planesOf(const ir::Type& real) {
  return PlaneShape{real.dims.n * real.dims.c, real.dims.h, real.dims.w};
}

// A transform node's plan and, for inverse transforms, the scratch spectrum C2R may overwrite.
struct FftNode final : NodeState {
  FftNode(PlaneShape shape, FftPlan::Direction direction) : launch(shape, direction) {}
  FftLaunchState launch;
  DeviceBuffer scratch;
  void bind(LaunchArgs& args) const override { args.state = &launch; }
};

CudaKernel transform(const CudaBuildContext& c, Launch launch, PlaneShape shape,
                     FftPlan::Direction direction) {
  CudaKernel k;
  k.launch = launch;
  k.n = direction == FftPlan::Direction::Forward ? shape.realCount() : shape.spectrumCount();
  if (c.allocator) {
    auto node = std::make_unique<FftNode>(shape, direction);
    if (direction == FftPlan::Direction::Inverse) {
      node->scratch = DeviceBuffer(*c.allocator,
                                   static_cast<size_t>(shape.spectrumCount()) * 2 * sizeof(float));
      node->launch.scratch = node->scratch.get();
    }
    k.state = std::move(node);
  }
  return k;
}

CudaKernel buildRfft2(const CudaBuildContext& c) {
  return transform(c, rfft2Launch(), planesOf(c.operand(0)), FftPlan::Direction::Forward);
}

// The result is the f32 side (its width is the `width` attribute).
CudaKernel buildIrfft2(const CudaBuildContext& c) {
  return transform(c, irfft2Launch(), planesOf(c.result()), FftPlan::Direction::Inverse);
}

CudaKernel buildIrfft2Product(const CudaBuildContext& c) {
  const bool divide = c.node().attrs.getString("op") == "div";
  const bool complexB = c.operand(1).elem == ir::ElemType::C64;
  return transform(c, irfft2ProductLaunch(divide, complexB), planesOf(c.result()),
                   FftPlan::Direction::Inverse);
}

// A reduction's per-block partials (doubles, or floats in the first half for min/max) and, for
// ssim, the launch state.
struct ReductionNode final : NodeState {
  DeviceBuffer partials;
  SsimLaunchState ssim;
  bool hasSsim = false;
  void bind(LaunchArgs& args) const override {
    args.workspace = partials.get();
    if (hasSsim)
      args.state = &ssim;
  }
};

CudaKernel reduction(const CudaBuildContext& c, Launch launch, int64_t n,
                     const SsimLaunchState* ssim = nullptr) {
  CudaKernel k;
  k.launch = launch;
  k.n = n;
  if (c.allocator) {
    auto node = std::make_unique<ReductionNode>();
    node->partials =
        DeviceBuffer(*c.allocator, static_cast<size_t>(spectral::kReduceBlocks) * sizeof(double));
    if (ssim) {
      node->ssim = *ssim;
      node->hasSsim = true;
    }
    k.state = std::move(node);
  }
  return k;
}

CudaKernel buildSpectrumEnergy(const CudaBuildContext& c) {
  const bool offset = c.node().operands.size() == 4;
  return reduction(c, spectrumEnergyLaunch(offset), c.operand(0).numel());
}

CudaKernel buildMinVal(const CudaBuildContext& c) {
  return reduction(c, extremeLaunch(false), c.operand(0).numel());
}
CudaKernel buildMaxVal(const CudaBuildContext& c) {
  return reduction(c, extremeLaunch(true), c.operand(0).numel());
}

// Operands 1x1xhxw with the window fitting after the shave (ruleSsim checks it).
CudaKernel buildSsim(const CudaBuildContext& c) {
  const ir::Dims& d = c.operand(0).dims;
  const int64_t shave = c.node().attrs.getInt("shave");
  SsimLaunchState s;
  s.stride = d.w;
  s.offset = shave * d.w + shave;
  s.rows = spectral::ssimValid(d.h - 2 * shave);
  s.cols = spectral::ssimValid(d.w - 2 * shave);
  s.window = spectral::ssimWindow();
  return reduction(c, ssimLaunch(), s.rows * s.cols, &s);
}

} // namespace

void registerSpectralKernels(CudaKernelTable& t) {
  using ir::Op;
  t.add(Op::Rfft2, buildRfft2);
  t.add(Op::Irfft2, buildIrfft2);
  t.add(Op::Irfft2Product, buildIrfft2Product);
  t.add(Op::SpectrumEnergy, buildSpectrumEnergy);
  t.add(Op::MinVal, buildMinVal);
  t.add(Op::MaxVal, buildMaxVal);
  t.add(Op::Ssim, buildSsim);
}

} // namespace podm::cuda
