// The linear-operator primitives as thin wrappers over numerics: the IR node's shape
// and attributes become the kernel's arguments, and objects those kernels precompute (convolution
// plans and spectra, resize weights, filter-bank spectra) are built once at prepare time.
#include "numerics/bicubic.h"
#include "numerics/conv.h"
#include "numerics/dct.h"
#include "numerics/dct_filters.h"
#include "numerics/fft.h"
#include "numerics/finite_diff.h"
#include "numerics/haar.h"
#include "numerics/mask.h"
#include "numerics/pad.h"
#include "numerics/resample.h"
#include "runtime/cpu/cpu_kernel.h"

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

namespace podm::cpu {
namespace {

// Plane geometry of operand 0 and of the result.
CpuKernel planeKernel(const CpuBuildContext& c, CpuKernelFn fn) {
  const ir::Dims& d = c.operand(0).dims;
  CpuKernel k;
  k.run = fn;
  k.planes = d.n * d.c;
  k.h = d.h;
  k.w = d.w;
  k.outH = c.result().dims.h;
  k.outW = c.result().dims.w;
  return k;
}

numerics::Boundary boundaryAttr(const CpuBuildContext& c) {
  auto b = numerics::parseBoundary(c.node().attrs.getString("boundary"));
  if (!b)
    throw std::runtime_error(c.where() + ": unknown boundary");
  return *b;
}

// conv2d with a kernel operand. A constant kernel is planned at prepare time; a kernel that is a
// graph input is planned at its first use and re-planned only when its values change, so every
// stage after the first reuses the plan. The nodes of one graph that convolve with the same kernel
// at the same size (K, K', the gradient's K'K, the phi monitor's K) share one plan through
// sharedConvolution: its kernel spectrum is a full FFT plane, computed and first touched once.
struct ConvKey {
  std::vector<float> kernel;
  int64_t kh, kw, h, w;
  numerics::Boundary boundary;
  auto operator<=>(const ConvKey&) const = default;
};

std::shared_ptr<const numerics::Convolution2d> sharedConvolution(ConvKey key) {
  static std::mutex mutex;
  static std::map<ConvKey, std::weak_ptr<const numerics::Convolution2d>> plans;
  std::lock_guard lock(mutex);
  std::erase_if(plans, [](const auto& entry) { return entry.second.expired(); });
  std::weak_ptr<const numerics::Convolution2d>& slot = plans[key];
  std::shared_ptr<const numerics::Convolution2d> plan = slot.lock();
  if (!plan) {
    plan = std::make_shared<const numerics::Convolution2d>(key.kernel.data(), key.kh, key.kw, key.h,
                                                           key.w, key.boundary);
    slot = plan;
  }
  return plan;
}

struct ConvState : KernelState {
  numerics::Boundary boundary;
  bool correlation = false; // the kernel operand is read as a correlation kernel: flipped once
  int64_t kh, kw;
  std::vector<float> kernel; // the operand as last seen
  std::shared_ptr<const numerics::Convolution2d> conv;

  const numerics::Convolution2d& planFor(const float* k, int64_t h, int64_t w) {
    const size_t bytes = kernel.size() * sizeof(float);
    if (!conv || std::memcmp(kernel.data(), k, bytes) != 0) {
      std::memcpy(kernel.data(), k, bytes);
      conv = sharedConvolution(
          {correlation ? numerics::flippedKernel(k, kh, kw) : kernel, kh, kw, h, w, boundary});
    }
    return *conv;
  }
};

template <bool Adjoint>
void convKernel(const CpuKernel& k, const KernelIO& io) {
  auto& s = static_cast<ConvState&>(*k.state);
  const numerics::Convolution2d& conv = s.planFor(in(io, 1), k.h, k.w);
  if constexpr (Adjoint)
    conv.adjoint(in(io, 0), out(io), k.planes);
  else
    conv.apply(in(io, 0), out(io), k.planes);
}

template <bool Adjoint>
CpuKernel buildConv(const CpuBuildContext& c) {
  CpuKernel k = planeKernel(c, convKernel<Adjoint>);
  auto s = std::make_unique<ConvState>();
  s->boundary = boundaryAttr(c);
  s->correlation =
      c.node().attrs.has("orientation") && c.node().attrs.getString("orientation") == "correlation";
  s->kh = c.operand(1).dims.h;
  s->kw = c.operand(1).dims.w;
  s->kernel.assign(static_cast<size_t>(s->kh * s->kw), 0.f);
  if (const ir::Node* constant = c.constantOperand(1))
    s->planFor(constant->attrs.getData("value").values().data(), k.h, k.w);
  k.state = std::move(s);
  return k;
}

void decimateKernel(const CpuKernel& k, const KernelIO& io) {
  numerics::decimate(in(io, 0), out(io), k.planes, k.h, k.w, k.i0);
}
void upsampleKernel(const CpuKernel& k, const KernelIO& io) {
  numerics::upsampleZeroFill(in(io, 0), out(io), k.planes, k.outH, k.outW, k.i0);
}

struct ResizeState : KernelState {
  std::optional<numerics::BicubicResize2d> resize;
};

template <bool Adjoint>
void resizeKernel(const CpuKernel& k, const KernelIO& io) {
  const numerics::BicubicResize2d& r = *static_cast<const ResizeState&>(*k.state).resize;
  if constexpr (Adjoint)
    r.adjoint(in(io, 0), out(io), k.planes);
  else
    r.apply(in(io, 0), out(io), k.planes);
}

// The adjoint is planned as the forward resize it transposes: from the adjoint's output size
// (the forward input) to its operand size (the forward output).
template <bool Adjoint>
CpuKernel buildResize(const CpuBuildContext& c) {
  CpuKernel k = planeKernel(c, resizeKernel<Adjoint>);
  const ir::Attrs& a = c.node().attrs;
  const double scale = a.getFloat("scale");
  const bool antialias = a.getInt("antialias") != 0;
  auto s = std::make_unique<ResizeState>();
  if (Adjoint)
    s->resize.emplace(k.outH, k.outW, k.h, k.w, scale, antialias);
  else
    s->resize.emplace(k.h, k.w, k.outH, k.outW, scale, antialias);
  k.state = std::move(s);
  return k;
}

void haarKernel(const CpuKernel& k, const KernelIO& io) {
  numerics::haarForward(in(io, 0), out(io), k.planes, k.h, k.w, static_cast<int>(k.i0));
}
void haarInvKernel(const CpuKernel& k, const KernelIO& io) {
  numerics::haarInverse(in(io, 0), out(io), k.planes, k.h, k.w, static_cast<int>(k.i0));
}
void dctKernel(const CpuKernel& k, const KernelIO& io) {
  numerics::dctForward(in(io, 0), out(io), k.planes, k.h, k.w);
}
void idctKernel(const CpuKernel& k, const KernelIO& io) {
  numerics::dctInverse(in(io, 0), out(io), k.planes, k.h, k.w);
}

// fd_grad's operand has c channels, fd_grad_adjoint's 2c: both kernels count planes of x.
void gradKernel(const CpuKernel& k, const KernelIO& io) {
  numerics::gradient(in(io, 0), out(io), k.planes, k.h, k.w,
                     static_cast<numerics::DiffBoundary>(k.i0));
}
void gradAdjointKernel(const CpuKernel& k, const KernelIO& io) {
  numerics::gradientAdjoint(in(io, 0), out(io), k.planes / 2, k.h, k.w,
                            static_cast<numerics::DiffBoundary>(k.i0));
}
CpuKernel buildDiff(const CpuBuildContext& c, CpuKernelFn fn) {
  CpuKernel k = planeKernel(c, fn);
  const std::string& b = c.node().attrs.getString("boundary");
  k.i0 = static_cast<int64_t>(b == "periodic" ? numerics::DiffBoundary::Periodic
                                              : numerics::DiffBoundary::Neumann);
  return k;
}

void maskKernel(const CpuKernel& k, const KernelIO& io) {
  numerics::applyMask(in(io, 0), in(io, 1), out(io), k.planes, k.h * k.w);
}

struct FilterBankState : KernelState {
  std::optional<numerics::DctFilterBank2d> bank;
};

template <bool Adjoint>
void filterBankKernel(const CpuKernel& k, const KernelIO& io) {
  const numerics::DctFilterBank2d& bank = *static_cast<const FilterBankState&>(*k.state).bank;
  if constexpr (Adjoint)
    bank.adjoint(in(io, 0), out(io), k.planes / bank.filterCount());
  else
    bank.apply(in(io, 0), out(io), k.planes);
}

template <bool Adjoint>
CpuKernel buildFilterBank(const CpuBuildContext& c) {
  CpuKernel k = planeKernel(c, filterBankKernel<Adjoint>);
  auto s = std::make_unique<FilterBankState>();
  s->bank.emplace(c.node().attrs.getInt("size"), k.h, k.w, boundaryAttr(c));
  k.state = std::move(s);
  return k;
}

struct PaddingState : KernelState {
  std::optional<numerics::Padding2d> padding;
};

template <bool Adjoint>
void padKernel(const CpuKernel& k, const KernelIO& io) {
  const numerics::Padding2d& p = *static_cast<const PaddingState&>(*k.state).padding;
  if constexpr (Adjoint)
    p.adjoint(in(io, 0), out(io), k.planes);
  else
    p.apply(in(io, 0), out(io), k.planes);
}

// The tap tables are made for the inner size: the operand's for pad2d, the result's for its
// adjoint.
template <bool Adjoint>
CpuKernel buildPad(const CpuBuildContext& c) {
  CpuKernel k = planeKernel(c, padKernel<Adjoint>);
  const ir::Attrs& a = c.node().attrs;
  auto mode = numerics::parsePadMode(a.getString("mode"));
  if (!mode)
    throw std::runtime_error(c.where() + ": unknown padding mode");
  const numerics::PadSides sides{a.getInt("top"), a.getInt("left"), a.getInt("bottom"),
                                 a.getInt("right")};
  auto s = std::make_unique<PaddingState>();
  s->padding.emplace(Adjoint ? k.outH : k.h, Adjoint ? k.outW : k.w, sides, *mode);
  k.state = std::move(s);
  return k;
}

} // namespace

CpuKernel buildConv2d(const CpuBuildContext& c) {
  return buildConv<false>(c);
}
CpuKernel buildConv2dAdjoint(const CpuBuildContext& c) {
  return buildConv<true>(c);
}

CpuKernel buildPad2d(const CpuBuildContext& c) {
  return buildPad<false>(c);
}
CpuKernel buildPad2dAdjoint(const CpuBuildContext& c) {
  return buildPad<true>(c);
}

CpuKernel buildDecimate(const CpuBuildContext& c) {
  CpuKernel k = planeKernel(c, decimateKernel);
  k.i0 = c.node().attrs.getInt("factor");
  return k;
}
CpuKernel buildUpsampleZero(const CpuBuildContext& c) {
  CpuKernel k = planeKernel(c, upsampleKernel);
  k.i0 = c.node().attrs.getInt("factor");
  return k;
}

CpuKernel buildResizeBicubic(const CpuBuildContext& c) {
  return buildResize<false>(c);
}
CpuKernel buildResizeBicubicAdjoint(const CpuBuildContext& c) {
  return buildResize<true>(c);
}

CpuKernel buildHaar(const CpuBuildContext& c) {
  CpuKernel k = planeKernel(c, haarKernel);
  k.i0 = c.node().attrs.getInt("levels");
  return k;
}
CpuKernel buildHaarInv(const CpuBuildContext& c) {
  CpuKernel k = planeKernel(c, haarInvKernel);
  k.i0 = c.node().attrs.getInt("levels");
  return k;
}

CpuKernel buildDct2(const CpuBuildContext& c) {
  CpuKernel k = planeKernel(c, dctKernel);
  numerics::dctPrepare(k.planes, k.h, k.w); // planning belongs to preparation, not stage 1
  return k;
}
CpuKernel buildIdct2(const CpuBuildContext& c) {
  CpuKernel k = planeKernel(c, idctKernel);
  numerics::dctPrepare(k.planes, k.h, k.w);
  return k;
}

CpuKernel buildFdGrad(const CpuBuildContext& c) {
  return buildDiff(c, gradKernel);
}
CpuKernel buildFdGradAdjoint(const CpuBuildContext& c) {
  return buildDiff(c, gradAdjointKernel);
}

CpuKernel buildMask(const CpuBuildContext& c) {
  return planeKernel(c, maskKernel);
}

CpuKernel buildDctFilters(const CpuBuildContext& c) {
  return buildFilterBank<false>(c);
}
CpuKernel buildDctFiltersAdjoint(const CpuBuildContext& c) {
  return buildFilterBank<true>(c);
}

} // namespace podm::cpu
