// The device math of the CUDA local linear operators (runtime/cuda/local_linop_math.h), run on the
// host in the loops local_linop.cu runs (one call per output element, Haar level by level through
// the same buffers) and compared with the CPU numerics on random planes: every boundary and
// padding mode, odd sizes, several planes, kernels of odd and even size and larger than the plane,
// 1-3 Haar levels. The adjoints are also checked against their forward ops by the dot-product test.
#include "numerics/conv.h"
#include "numerics/finite_diff.h"
#include "numerics/haar.h"
#include "numerics/mask.h"
#include "numerics/pad.h"
#include "numerics/resample.h"
#include "runtime/cuda/local_linop_math.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <doctest/doctest.h>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using namespace podm;
using namespace podm::cuda::linop;

namespace {

std::vector<float> randomValues(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v)
    x = dist(rng);
  return v;
}

// out[i] = element(i) for every i, as the grid-stride loops do.
template <class Element>
std::vector<float> evaluate(int64_t n, Element element) {
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    out[static_cast<size_t>(i)] = element(i);
  return out;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    s += static_cast<double>(a[i]) * b[i];
  return s;
}

// Within 1e-5 of the reference, relative to the reference's largest magnitude (the sums differ in
// order from the CPU's FFT or scatter loops).
void checkClose(const std::vector<float>& got, const std::vector<float>& want,
                const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  float scale = 1.f;
  for (float v : want)
    scale = std::max(scale, std::fabs(v));
  float worst = 0.f;
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::fabs(got[i] - want[i]));
  CHECK(worst <= 1e-5f * scale);
}

void checkExact(const std::vector<float>& got, const std::vector<float>& want,
                const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i)
    mismatches += got[i] != want[i];
  CHECK(mismatches == 0);
}

// <A x, y> == <x, A' y> to float accuracy.
void checkAdjoint(const std::vector<float>& x, const std::vector<float>& ax,
                  const std::vector<float>& y, const std::vector<float>& aty,
                  const std::string& what) {
  INFO(what);
  const double lhs = dot(ax, y), rhs = dot(x, aty);
  CHECK(std::fabs(lhs - rhs) <= 1e-5 * std::max(1.0, std::fabs(lhs)) * std::sqrt(x.size()));
}

constexpr ConvBoundary kConvBoundaries[] = {ConvBoundary::Periodic, ConvBoundary::Symmetric,
                                            ConvBoundary::Zero};
constexpr PadKind kPadModes[] = {PadKind::Zero, PadKind::Replicate, PadKind::Smooth};

struct PlaneCase {
  int64_t planes, h, w;
};

} // namespace

TEST_CASE("conv2d and its adjoint per pixel match numerics::Convolution2d (direct and FFT)") {
  const PlaneCase planes[] = {{2, 7, 9}, {3, 8, 5}, {2, 1, 6}, {2, 5, 4}};
  const std::pair<int64_t, int64_t> kernels[] = {{3, 3}, {4, 4}, {2, 5}, {1, 1}, {5, 2}, {9, 11}};
  unsigned seed = 1;
  for (const PlaneCase& pc : planes)
    for (auto [kh, kw] : kernels)
      for (ConvBoundary boundary : kConvBoundaries)
        for (bool correlation : {false, true}) {
          const std::string what = "plane " + std::to_string(pc.h) + "x" + std::to_string(pc.w) +
                                   " kernel " + std::to_string(kh) + "x" + std::to_string(kw) +
                                   " boundary " + std::to_string(static_cast<int>(boundary)) +
                                   (correlation ? " correlation" : " convolution");
          const int64_t n = pc.planes * pc.h * pc.w;
          const std::vector<float> x = randomValues(n, seed++);
          const std::vector<float> y = randomValues(n, seed++);
          const std::vector<float> kernel = randomValues(kh * kw, seed++);
          const ConvShape s{pc.planes, pc.h, pc.w, kh, kw, boundary, correlation};
          const ConvTaps taps{kernel.data(), kh, kw, correlation};
          // The launch stages the taps unflipped in shared memory: the same values.
          std::vector<float> staged(kernel.size());
          for (int64_t t = 0; t < kh * kw; ++t)
            staged[static_cast<size_t>(t)] = convolutionTap(kernel.data(), kh * kw, t, correlation);
          const ConvTaps stagedTaps{staged.data(), kh, kw, false};

          const auto forward =
              evaluate(n, [&](int64_t i) { return convolvePixel(x.data(), taps, s, i); });
          const auto adjoint =
              evaluate(n, [&](int64_t i) { return convolveAdjointPixel(y.data(), taps, s, i); });
          checkExact(
              evaluate(n, [&](int64_t i) { return convolvePixel(x.data(), stagedTaps, s, i); }),
              forward, what + " staged forward");
          checkExact(
              evaluate(n,
                       [&](int64_t i) { return convolveAdjointPixel(y.data(), stagedTaps, s, i); }),
              adjoint, what + " staged adjoint");

          const std::vector<float> convKernel =
              correlation ? numerics::flippedKernel(kernel.data(), kh, kw) : kernel;
          const auto nb = static_cast<numerics::Boundary>(boundary);
          for (numerics::ConvMethod method :
               {numerics::ConvMethod::Direct, numerics::ConvMethod::Fft}) {
            const numerics::Convolution2d reference(convKernel.data(), kh, kw, pc.h, pc.w, nb,
                                                    method);
            std::vector<float> want(static_cast<size_t>(n));
            reference.apply(x.data(), want.data(), pc.planes);
            checkClose(forward, want, what + " forward");
            reference.adjoint(y.data(), want.data(), pc.planes);
            checkClose(adjoint, want, what + " adjoint");
          }
          checkAdjoint(x, forward, y, adjoint, what);
        }
}

TEST_CASE("extendIndex is numerics::extendedIndex, and the adjoint's preimages are its inverse") {
  for (int64_t n : {1, 2, 5, 8})
    for (ConvBoundary boundary : kConvBoundaries) {
      const auto nb = static_cast<numerics::Boundary>(boundary);
      const int64_t lo = -3 * n - 2, hi = 3 * n + 4;
      for (int64_t i = lo; i <= hi; ++i)
        CHECK(extendIndex(i, n, boundary) == numerics::extendedIndex(i, n, nb));
      for (int64_t p = 0; p < n; ++p) {
        std::vector<int64_t> listed, expected;
        const Preimages pre = preimagesOf(p, n, boundary, lo, hi);
        for (int k = 0; k < pre.count; ++k)
          for (int64_t r = firstAtOrAbove(pre.residue(k), pre.step, lo); r <= hi; r += pre.step)
            listed.push_back(r);
        for (int64_t r = lo; r <= hi; ++r)
          if (numerics::extendedIndex(r, n, nb) == p)
            expected.push_back(r);
        std::sort(listed.begin(), listed.end());
        CHECK(listed == expected);
      }
    }
}

TEST_CASE("pad2d and its adjoint per pixel match numerics::Padding2d in every mode") {
  const PlaneCase planes[] = {{2, 5, 7}, {3, 6, 4}, {2, 1, 5}, {2, 4, 1}, {2, 1, 1}};
  const numerics::PadSides sides[] = {
      {2, 3, 1, 0}, {0, 0, 4, 5}, {3, 3, 3, 3}, {0, 0, 0, 0}, {1, 6, 0, 2}};
  unsigned seed = 100;
  for (const PlaneCase& pc : planes)
    for (const numerics::PadSides& side : sides)
      for (PadKind mode : kPadModes) {
        const std::string what = "plane " + std::to_string(pc.h) + "x" + std::to_string(pc.w) +
                                 " pads " + std::to_string(side.top) + "," +
                                 std::to_string(side.left) + "," + std::to_string(side.bottom) +
                                 "," + std::to_string(side.right) + " mode " +
                                 std::to_string(static_cast<int>(mode));
        const PadShape s{pc.planes, pc.h, pc.w, side.top, side.left, side.bottom, side.right, mode};
        const numerics::PadMode nm = static_cast<numerics::PadMode>(mode);
        const int64_t inner = pc.planes * pc.h * pc.w;
        const int64_t padded = pc.planes * s.paddedH() * s.paddedW();

        // The tap of every position is the CPU's table entry, weights to the bit.
        for (auto [n, before, after] :
             {std::tuple{pc.h, side.top, side.bottom}, std::tuple{pc.w, side.left, side.right}}) {
          const std::vector<numerics::PadTap> table = numerics::padTaps(n, before, after, nm);
          for (int64_t t = 0; t < n + before + after; ++t) {
            const PadTap tap = padTap(t, n, before, after, mode);
            const numerics::PadTap& want = table[static_cast<size_t>(t)];
            CHECK(tap.i0 == want.i[0]);
            CHECK(tap.i1 == want.i[1]);
            CHECK(tap.w0 == want.w[0]);
            CHECK(tap.w1 == want.w[1]);
          }
        }

        const std::vector<float> x = randomValues(inner, seed++);
        const std::vector<float> y = randomValues(padded, seed++);
        const numerics::Padding2d reference(pc.h, pc.w, side, nm);

        const auto forward = evaluate(padded, [&](int64_t i) { return padPixel(x.data(), s, i); });
        std::vector<float> want(static_cast<size_t>(padded));
        reference.apply(x.data(), want.data(), pc.planes);
        if (mode == PadKind::Smooth)
          checkClose(forward, want, what + " forward");
        else
          checkExact(forward, want, what + " forward");

        // The launch: the crop for zero, else columns folded into scratch, then rows.
        std::vector<float> adjoint;
        if (mode == PadKind::Zero) {
          adjoint = evaluate(inner, [&](int64_t i) { return cropPixel(y.data(), s, i); });
        } else {
          const auto folded = evaluate(pc.planes * s.paddedH() * pc.w, [&](int64_t i) {
            return padAdjointColumnsPixel(y.data(), s, i);
          });
          adjoint =
              evaluate(inner, [&](int64_t i) { return padAdjointRowsPixel(folded.data(), s, i); });
        }
        std::vector<float> wantAdjoint(static_cast<size_t>(inner));
        reference.adjoint(y.data(), wantAdjoint.data(), pc.planes);
        if (mode == PadKind::Zero)
          checkExact(adjoint, wantAdjoint, what + " adjoint");
        else
          checkClose(adjoint, wantAdjoint, what + " adjoint");
        checkAdjoint(x, forward, y, adjoint, what);
      }
}

TEST_CASE("decimate and upsample_zero per pixel match numerics::decimate / upsampleZeroFill") {
  const PlaneCase planes[] = {{2, 6, 9}, {3, 12, 4}, {2, 5, 7}};
  unsigned seed = 200;
  for (const PlaneCase& pc : planes)
    for (int64_t factor : {1, 2, 3}) {
      if (pc.h % factor != 0 || pc.w % factor != 0)
        continue;
      const std::string what = "plane " + std::to_string(pc.h) + "x" + std::to_string(pc.w) +
                               " factor " + std::to_string(factor);
      const SampleShape s{pc.planes, pc.h, pc.w, factor};
      const int64_t full = pc.planes * pc.h * pc.w, low = pc.planes * s.lowH() * s.lowW();
      const std::vector<float> x = randomValues(full, seed++);
      const std::vector<float> y = randomValues(low, seed++);

      const auto down = evaluate(low, [&](int64_t i) { return decimatePixel(x.data(), s, i); });
      std::vector<float> want(static_cast<size_t>(low));
      numerics::decimate(x.data(), want.data(), pc.planes, pc.h, pc.w, factor);
      checkExact(down, want, what + " decimate");

      const auto up = evaluate(full, [&](int64_t i) { return upsampleZeroPixel(y.data(), s, i); });
      std::vector<float> wantUp(static_cast<size_t>(full));
      numerics::upsampleZeroFill(y.data(), wantUp.data(), pc.planes, pc.h, pc.w, factor);
      checkExact(up, wantUp, what + " upsample_zero");
      checkAdjoint(x, down, y, up, what);
    }
}

TEST_CASE("mask per pixel matches numerics::applyMask, one plane broadcast over all") {
  for (const PlaneCase& pc : {PlaneCase{3, 5, 7}, PlaneCase{2, 8, 1}}) {
    const MaskShape s{pc.planes, pc.h * pc.w};
    const int64_t n = pc.planes * s.planeSize;
    const std::vector<float> x = randomValues(n, 300);
    const std::vector<float> m = randomValues(s.planeSize, 301);
    std::vector<float> want(static_cast<size_t>(n));
    numerics::applyMask(x.data(), m.data(), want.data(), pc.planes, s.planeSize);
    checkExact(evaluate(n, [&](int64_t i) { return maskPixel(x.data(), m.data(), s, i); }), want,
               "mask " + std::to_string(pc.h) + "x" + std::to_string(pc.w));
  }
}

TEST_CASE("fd_grad and its adjoint per pixel match numerics::gradient / gradientAdjoint") {
  const PlaneCase planes[] = {{2, 5, 7}, {3, 4, 4}, {2, 1, 6}, {2, 6, 1}, {2, 1, 1}, {2, 2, 2}};
  unsigned seed = 400;
  for (const PlaneCase& pc : planes)
    for (FdBoundary boundary : {FdBoundary::Periodic, FdBoundary::Neumann}) {
      const std::string what = "plane " + std::to_string(pc.h) + "x" + std::to_string(pc.w) +
                               (boundary == FdBoundary::Periodic ? " periodic" : " neumann");
      const FdShape s{pc.planes, pc.h, pc.w, boundary};
      const auto nb = static_cast<numerics::DiffBoundary>(boundary);
      const int64_t n = pc.planes * pc.h * pc.w;
      const std::vector<float> x = randomValues(n, seed++);
      const std::vector<float> g = randomValues(2 * n, seed++);

      const auto grad = evaluate(2 * n, [&](int64_t i) { return fdGradPixel(x.data(), s, i); });
      std::vector<float> want(static_cast<size_t>(2 * n));
      numerics::gradient(x.data(), want.data(), pc.planes, pc.h, pc.w, nb);
      checkExact(grad, want, what + " fd_grad");

      const auto adjoint =
          evaluate(n, [&](int64_t i) { return fdGradAdjointPixel(g.data(), s, i); });
      std::vector<float> wantAdjoint(static_cast<size_t>(n));
      numerics::gradientAdjoint(g.data(), wantAdjoint.data(), pc.planes, pc.h, pc.w, nb);
      checkExact(adjoint, wantAdjoint, what + " fd_grad_adjoint");
      checkAdjoint(x, grad, g, adjoint, what);
    }
}

TEST_CASE("haar and haar_inv level by level match numerics::haarForward / haarInverse") {
  struct HaarCase {
    int64_t planes, h, w, levels;
  };
  const HaarCase cases[] = {{2, 8, 16, 1}, {2, 8, 16, 2}, {3, 8, 8, 3},
                            {2, 24, 8, 3}, {2, 2, 6, 1},  {3, 12, 4, 2}};
  unsigned seed = 500;
  for (const HaarCase& hc : cases) {
    const std::string what = "plane " + std::to_string(hc.h) + "x" + std::to_string(hc.w) +
                             " levels " + std::to_string(hc.levels);
    const HaarShape s{hc.planes, hc.h, hc.w, hc.levels};
    const int64_t n = hc.planes * hc.h * hc.w;
    const std::vector<float> x = randomValues(n, seed++);
    // Fill the result and the scratch with garbage: every value must be written by some level.
    std::vector<float> scratch = randomValues(std::max<int64_t>(haarScratchFloats(s), 1), seed++);
    std::vector<float> forward = randomValues(n, seed++);
    for (int64_t l = 0; l < s.levels; ++l) {
      const HaarLevel level = haarForwardLevel(s, l, x.data(), forward.data(), scratch.data());
      for (int64_t b = 0; b < level.blocks(); ++b)
        haarForwardBlock(level, b);
    }
    std::vector<float> want(static_cast<size_t>(n));
    numerics::haarForward(x.data(), want.data(), hc.planes, hc.h, hc.w,
                          static_cast<int>(hc.levels));
    checkExact(forward, want, what + " haar");

    const std::vector<float> coefficients = randomValues(n, seed++);
    std::vector<float> inverse = randomValues(n, seed++);
    for (int64_t l = s.levels - 1; l >= 0; --l) {
      const HaarLevel level =
          haarInverseLevel(s, l, coefficients.data(), inverse.data(), scratch.data());
      for (int64_t b = 0; b < level.blocks(); ++b)
        haarInverseBlock(level, b);
    }
    std::vector<float> wantInverse(static_cast<size_t>(n));
    numerics::haarInverse(coefficients.data(), wantInverse.data(), hc.planes, hc.h, hc.w,
                          static_cast<int>(hc.levels));
    checkExact(inverse, wantInverse, what + " haar_inv");
    checkAdjoint(x, forward, coefficients, inverse, what);
  }
}
