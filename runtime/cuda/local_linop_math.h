// The per-pixel math of the CUDA local linear operators (local_linop.cu), written once for the
// device and the host: convolution and its exact adjoint under every boundary, padding (zero,
// replicate, smooth) and its adjoint, decimation, zero-filling upsampling, the mask, forward
// differences and their adjoint, one orthonormal Haar butterfly. Each function computes one output
// element (one 2x2 block for Haar) from the operand arrays and the node's shape, reproducing the
// CPU numerics it stands for (numerics/conv, pad, resample, mask, finite_diff, haar), so a host
// loop over them gives the op's result and tests/runtime/cuda/local_linop_math_test.cpp checks that
// loop against the CPU on every machine, GPU or not. Tensors are planes x h x w, row-major, planes
// contiguous. Plain C++17 for nvcc; the shapes are plain structs the builders fill at prepare time.
#pragma once

#include "runtime/cuda/cuda_kernels.h"
#include "runtime/elementwise_math.h"

#include <cmath>
#include <cstdint>

namespace podm::cuda::linop {

// ---- Shared index helpers ----

// A flat index over planes x h x w, split into its plane, row and column.
struct Pixel {
  int64_t plane, i, j;
};
PODM_HD inline Pixel splitIndex(int64_t index, int64_t h, int64_t w) {
  const int64_t planeSize = h * w;
  const int64_t within = index % planeSize;
  return {index / planeSize, within / w, within % w};
}

// Floor division for a positive divisor (C++ division truncates toward zero).
PODM_HD inline int64_t floorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// ---- conv2d and conv2d_adjoint (numerics/conv.h) ----

// The order of numerics::Boundary, so the builder converts by value.
enum class ConvBoundary : int32_t { Periodic, Symmetric, Zero };

struct ConvShape {
  int64_t planes, h, w, kh, kw;
  ConvBoundary boundary;
  bool correlation; // the kernel operand is a correlation kernel (attribute orientation)
};

// The kernel's taps as the convolution reads them: a correlation kernel (attribute orientation =
// correlation) is the convolution kernel rotated by 180 degrees, so it is read flipped.
struct ConvTaps {
  const float* data;
  int64_t kh, kw;
  bool flipped;
  PODM_HD float at(int64_t a, int64_t b) const {
    return flipped ? data[(kh - 1 - a) * kw + (kw - 1 - b)] : data[a * kw + b];
  }
};

// Tap `index` (row-major) of the convolution kernel: the operand already flipped where it is a
// correlation kernel, as the launch stages it in shared memory.
PODM_HD inline float convolutionTap(const float* kernel, int64_t count, int64_t index,
                                    bool correlation) {
  return correlation ? kernel[count - 1 - index] : kernel[index];
}

// numerics::extendedIndex: the plane sample that position i of the extended line reads, or -1
// where the extension is zero.
PODM_HD inline int64_t extendIndex(int64_t i, int64_t n, ConvBoundary boundary) {
  if (i >= 0 && i < n)
    return i;
  switch (boundary) {
  case ConvBoundary::Periodic: {
    const int64_t m = i % n;
    return m < 0 ? m + n : m;
  }
  case ConvBoundary::Symmetric: {
    // Half-sample reflection is periodic with period 2n: n samples forward, n mirrored.
    const int64_t period = 2 * n;
    int64_t m = i % period;
    if (m < 0)
      m += period;
    return m < n ? m : period - 1 - m;
  }
  case ConvBoundary::Zero:
    return -1;
  }
  return -1;
}

// y[i,j] = sum_{a,b} k[a,b] * xe[i - a + kh/2, j - b + kw/2], summed in the order of the CPU's
// direct loops (flipped-kernel rows, then columns, ascending): bit for bit where neither compiler
// contracts a*b+c into an FMA (nvcc does, so the device differs from the host by rounding).
PODM_HD inline float convolvePixel(const float* x, ConvTaps taps, const ConvShape& s,
                                   int64_t index) {
  const Pixel p = splitIndex(index, s.h, s.w);
  const float* plane = x + p.plane * s.h * s.w;
  float acc = 0.f;
  for (int64_t a = s.kh - 1; a >= 0; --a) {
    const int64_t r = extendIndex(p.i - a + s.kh / 2, s.h, s.boundary);
    if (r < 0)
      continue;
    const float* row = plane + r * s.w;
    for (int64_t b = s.kw - 1; b >= 0; --b) {
      const int64_t c = extendIndex(p.j - b + s.kw / 2, s.w, s.boundary);
      if (c >= 0)
        acc += taps.at(a, b) * row[c];
    }
  }
  return acc;
}

// The positions of the extended line (within [lo, hi]) that read sample p: one arithmetic
// progression per residue. Periodic: p mod n; Symmetric: p and 2n-1-p mod 2n; Zero: p alone (a
// step longer than the range).
struct Preimages {
  int64_t first, second; // residues (scalars, not an array: device code keeps them in registers)
  int count;
  int64_t step;
  PODM_HD int64_t residue(int k) const { return k == 0 ? first : second; }
};
PODM_HD inline Preimages preimagesOf(int64_t p, int64_t n, ConvBoundary boundary, int64_t lo,
                                     int64_t hi) {
  switch (boundary) {
  case ConvBoundary::Periodic:
    return {p, 0, 1, n};
  case ConvBoundary::Symmetric:
    return {p, 2 * n - 1 - p, 2, 2 * n};
  case ConvBoundary::Zero:
    break;
  }
  return {p, 0, 1, hi - lo + 1};
}
// The first position >= lo congruent to residue modulo step.
PODM_HD inline int64_t firstAtOrAbove(int64_t residue, int64_t step, int64_t lo) {
  return residue + (floorDiv(lo - residue + step - 1, step)) * step;
}

// The full correlation of y with the kernel at extended position (r, c): the value the adjoint of
// "extend, then correlate validly" puts on that position before folding it back.
PODM_HD inline float fullCorrelation(const float* plane, ConvTaps taps, const ConvShape& s,
                                     int64_t r, int64_t c) {
  const int64_t a0 = s.kh / 2 - r > 0 ? s.kh / 2 - r : 0;
  const int64_t a1 = s.h - 1 - r + s.kh / 2 < s.kh - 1 ? s.h - 1 - r + s.kh / 2 : s.kh - 1;
  const int64_t b0 = s.kw / 2 - c > 0 ? s.kw / 2 - c : 0;
  const int64_t b1 = s.w - 1 - c + s.kw / 2 < s.kw - 1 ? s.w - 1 - c + s.kw / 2 : s.kw - 1;
  float acc = 0.f;
  for (int64_t a = a0; a <= a1; ++a) {
    const float* row = plane + (r + a - s.kh / 2) * s.w;
    for (int64_t b = b0; b <= b1; ++b)
      acc += taps.at(a, b) * row[c + b - s.kw / 2];
  }
  return acc;
}

// The exact adjoint (numerics::Convolution2d::adjoint) as a gather: x[p,q] sums the full
// correlation over every extended position (r, c) that the forward read from (p, q). Extended
// rows span [kh/2 - kh + 1, h - 1 + kh/2] (columns likewise).
PODM_HD inline float convolveAdjointPixel(const float* y, ConvTaps taps, const ConvShape& s,
                                          int64_t index) {
  const Pixel p = splitIndex(index, s.h, s.w);
  const float* plane = y + p.plane * s.h * s.w;
  const int64_t rowLo = s.kh / 2 - s.kh + 1, rowHi = s.h - 1 + s.kh / 2;
  const int64_t colLo = s.kw / 2 - s.kw + 1, colHi = s.w - 1 + s.kw / 2;
  const Preimages rows = preimagesOf(p.i, s.h, s.boundary, rowLo, rowHi);
  const Preimages cols = preimagesOf(p.j, s.w, s.boundary, colLo, colHi);
  float acc = 0.f;
  for (int ri = 0; ri < rows.count; ++ri)
    for (int64_t r = firstAtOrAbove(rows.residue(ri), rows.step, rowLo); r <= rowHi; r += rows.step)
      for (int ci = 0; ci < cols.count; ++ci)
        for (int64_t c = firstAtOrAbove(cols.residue(ci), cols.step, colLo); c <= colHi;
             c += cols.step)
          acc += fullCorrelation(plane, taps, s, r, c);
  return acc;
}

// ---- pad2d and pad2d_adjoint (numerics/pad.h) ----

// The order of numerics::PadMode, so the builder converts by value.
enum class PadKind : int32_t { Zero, Replicate, Smooth };

// h x w is the inner (unpadded) plane for both directions.
struct PadShape {
  int64_t planes, h, w, top, left, bottom, right;
  PadKind mode;
  PODM_HD int64_t paddedH() const { return h + top + bottom; }
  PODM_HD int64_t paddedW() const { return w + left + right; }
};

// One row of the 1-D extension matrix: output t = w0 x[i0] + w1 x[i1] (numerics::PadTap).
struct PadTap {
  int64_t i0 = 0, i1 = 0;
  float w0 = 0.f, w1 = 0.f;
};

// numerics::padTaps, one entry: position t of the padded line of a length-n signal.
PODM_HD inline PadTap padTap(int64_t t, int64_t n, int64_t before, int64_t after, PadKind mode) {
  PadTap tap;
  const int64_t p = t - before;
  if (p >= 0 && p < n) {
    tap.i0 = p;
    tap.w0 = 1.f;
    return tap;
  }
  switch (mode) {
  case PadKind::Zero:
    break;
  case PadKind::Replicate:
    tap.i0 = p < 0 ? 0 : n - 1;
    tap.w0 = 1.f;
    break;
  case PadKind::Smooth: {
    // q = 1..gap: the position in the gap that follows the last sample (the pad after the signal,
    // then, wrapping around, the pad before it); a cos^2 cross-fade from x[n-1] to x[0].
    const int64_t gap = before + after;
    const int64_t q = p >= n ? p - n + 1 : after + before + p + 1;
    const double s = static_cast<double>(q) / static_cast<double>(gap + 1);
    const double fromEnd = cos(0.5 * 3.14159265358979323846 * s);
    tap.i0 = n - 1;
    tap.i1 = 0;
    tap.w0 = static_cast<float>(fromEnd * fromEnd);
    tap.w1 = 1.f - tap.w0;
    break;
  }
  }
  return tap;
}

// y[r,c] = sum_a sum_b rows[r].w[a] cols[c].w[b] x[rows[r].i[a], cols[c].i[b]], in the CPU's
// order (Padding2d::apply): zero mode copies or writes 0.
PODM_HD inline float padPixel(const float* x, const PadShape& s, int64_t index) {
  const Pixel p = splitIndex(index, s.paddedH(), s.paddedW());
  const PadTap tr = padTap(p.i, s.h, s.top, s.bottom, s.mode);
  const PadTap tc = padTap(p.j, s.w, s.left, s.right, s.mode);
  const float* plane = x + p.plane * s.h * s.w;
  if (s.mode == PadKind::Zero)
    return (tr.w0 == 1.f && tc.w0 == 1.f) ? plane[tr.i0 * s.w + tc.i0] : 0.f;
  const float* x0 = plane + tr.i0 * s.w;
  const float* x1 = plane + tr.i1 * s.w;
  const float a = tc.w0 * x0[tc.i0] + tc.w1 * x0[tc.i1];
  const float b = tc.w0 * x1[tc.i0] + tc.w1 * x1[tc.i1];
  return tr.w0 * a + tr.w1 * b;
}

// The adjoint with mode zero: the crop.
PODM_HD inline float cropPixel(const float* y, const PadShape& s, int64_t index) {
  const Pixel p = splitIndex(index, s.h, s.w);
  return y[(p.plane * s.paddedH() + p.i + s.top) * s.paddedW() + p.j + s.left];
}

// The transpose of one 1-D extension, as a gather: out[q] = sum_t E[t][q] line[t] over the padded
// positions t whose tap reads sample q: q's own position, and every gap position when q is a
// border sample (replicate reads x[0] or x[n-1] there, smooth both). `line` holds the n + before
// + after padded values, `stride` floats apart.
PODM_HD inline float padAdjointLine(const float* line, int64_t stride, int64_t q, int64_t n,
                                    int64_t before, int64_t after, PadKind mode) {
  float acc = line[(q + before) * stride];
  if (mode == PadKind::Zero || (q != 0 && q != n - 1))
    return acc;
  const int64_t total = n + before + after;
  for (int64_t t = 0; t < total; ++t) {
    if (t == before) { // skip the signal itself: only its own position reads q
      t += n - 1;
      continue;
    }
    const PadTap tap = padTap(t, n, before, after, mode);
    const float weight = (tap.i0 == q ? tap.w0 : 0.f) + (tap.i1 == q ? tap.w1 : 0.f);
    acc += weight * line[t * stride];
  }
  return acc;
}

// pad2d_adjoint x = E_h' y E_w in two separable gathers (replicate and smooth), through a
// paddedH x w scratch per plane: first along rows (every padded row folded to w columns)...
PODM_HD inline float padAdjointColumnsPixel(const float* y, const PadShape& s, int64_t index) {
  const Pixel p = splitIndex(index, s.paddedH(), s.w);
  const float* row = y + (p.plane * s.paddedH() + p.i) * s.paddedW();
  return padAdjointLine(row, 1, p.j, s.w, s.left, s.right, s.mode);
}
// ...then down the columns of that scratch (paddedH rows folded to h).
PODM_HD inline float padAdjointRowsPixel(const float* folded, const PadShape& s, int64_t index) {
  const Pixel p = splitIndex(index, s.h, s.w);
  const float* column = folded + p.plane * s.paddedH() * s.w + p.j;
  return padAdjointLine(column, s.w, p.i, s.h, s.top, s.bottom, s.mode);
}

// ---- decimate and upsample_zero (numerics/resample.h) ----

// h x w is the full-resolution plane; the decimated one is (h/factor) x (w/factor).
struct SampleShape {
  int64_t planes, h, w, factor;
  PODM_HD int64_t lowH() const { return (h + factor - 1) / factor; }
  PODM_HD int64_t lowW() const { return (w + factor - 1) / factor; }
};

PODM_HD inline float decimatePixel(const float* x, const SampleShape& s, int64_t index) {
  const Pixel p = splitIndex(index, s.lowH(), s.lowW());
  return x[(p.plane * s.h + p.i * s.factor) * s.w + p.j * s.factor];
}

PODM_HD inline float upsampleZeroPixel(const float* x, const SampleShape& s, int64_t index) {
  const Pixel p = splitIndex(index, s.h, s.w);
  if (p.i % s.factor != 0 || p.j % s.factor != 0)
    return 0.f;
  return x[(p.plane * s.lowH() + p.i / s.factor) * s.lowW() + p.j / s.factor];
}

// ---- mask (numerics/mask.h): one 1x1xhxw mask broadcast over every plane ----

struct MaskShape {
  int64_t planes, planeSize;
};

PODM_HD inline float maskPixel(const float* x, const float* mask, const MaskShape& s,
                               int64_t index) {
  return mask[index % s.planeSize] * x[index];
}

// ---- fd_grad and fd_grad_adjoint (numerics/finite_diff.h) ----

// The order of numerics::DiffBoundary, so the builder converts by value.
enum class FdBoundary : int32_t { Periodic, Neumann };

// planes counts planes of x (fd_grad's operand, fd_grad_adjoint's result); the differences have
// twice as many: plane 2p holds x-differences of plane p, 2p+1 its y-differences.
struct FdShape {
  int64_t planes, h, w;
  FdBoundary boundary;
};

// One difference, as numerics::gradient computes it; index runs over the 2*planes output planes.
PODM_HD inline float fdGradPixel(const float* x, const FdShape& s, int64_t index) {
  const Pixel p = splitIndex(index, s.h, s.w);
  const float* plane = x + (p.plane / 2) * s.h * s.w;
  const float* row = plane + p.i * s.w;
  const bool periodic = s.boundary == FdBoundary::Periodic;
  if (p.plane % 2 == 0) {
    if (p.j + 1 < s.w)
      return row[p.j + 1] - row[p.j];
    return periodic ? row[0] - row[s.w - 1] : 0.f;
  }
  if (p.i + 1 < s.h)
    return row[s.w + p.j] - row[p.j];
  return periodic ? plane[p.j] - row[p.j] : 0.f;
}

// The negative divergence, as numerics::gradientAdjoint computes it: the x-part first, then the
// y-part added (same operations in the same order).
PODM_HD inline float fdGradAdjointPixel(const float* g, const FdShape& s, int64_t index) {
  const Pixel p = splitIndex(index, s.h, s.w);
  const int64_t planeSize = s.h * s.w;
  const float* gx = g + 2 * p.plane * planeSize + p.i * s.w;
  const float* dy = g + (2 * p.plane + 1) * planeSize;
  const bool periodic = s.boundary == FdBoundary::Periodic;
  const int64_t j = p.j, w = s.w;
  float out;
  if (periodic)
    out = j == 0 ? gx[w - 1] - gx[0] : gx[j - 1] - gx[j];
  else if (w == 1)
    out = 0.f;
  else
    out = j == 0 ? -gx[0] : j + 1 < w ? gx[j - 1] - gx[j] : gx[w - 2];
  const float gy = dy[p.i * w + j];
  const bool lastRow = p.i + 1 == s.h;
  const float* above = p.i > 0 ? dy + (p.i - 1) * w : (periodic ? dy + (s.h - 1) * w : nullptr);
  if (!periodic && lastRow) {
    if (above)
      out += above[j];
  } else if (above) {
    out += above[j] - gy;
  } else {
    out -= gy;
  }
  return out;
}

// ---- haar and haar_inv (numerics/haar.h) ----

// levels levels on h x w planes (h, w divisible by 2^levels).
struct HaarShape {
  int64_t planes, h, w, levels;
};

// A strided view of a stack of planes: element (plane, i, j) at data[plane*planeSize + i*stride +
// j].
template <class T>
struct PlanesOf {
  T* data;
  int64_t stride, planeSize;
  PODM_HD T& at(int64_t plane, int64_t i, int64_t j) const {
    return data[plane * planeSize + i * stride + j];
  }
};
using ConstPlanes = PlanesOf<const float>;
using Planes = PlanesOf<float>;

// One level of either direction: blocks = planes x halfH x halfW butterflies. Forward: source is
// the region being transformed, approx where its approximation goes, coefficients (the result
// planes) receive the three detail quadrants. Inverse: approx is the level's approximation,
// coefficients (the operand planes) hold its details, source receives the reconstructed region.
struct HaarLevel {
  ConstPlanes source;
  Planes target;
  ConstPlanes coefficientsIn;
  Planes coefficientsOut;
  int64_t planes, halfH, halfW;
  PODM_HD int64_t blocks() const { return planes * halfH * halfW; }
};

// One forward butterfly (numerics' forwardRows, same expressions): the 2x2 block of `source` at
// block position (i, j) becomes the approximation at target (i, j) and the details at (i, j +
// halfW), (i + halfH, j), (i + halfH, j + halfW) of the result.
PODM_HD inline void haarForwardBlock(const HaarLevel& l, int64_t index) {
  const Pixel p = splitIndex(index, l.halfH, l.halfW);
  const int64_t i = p.i, j = p.j;
  const float a = l.source.at(p.plane, 2 * i, 2 * j), b = l.source.at(p.plane, 2 * i, 2 * j + 1);
  const float c = l.source.at(p.plane, 2 * i + 1, 2 * j);
  const float d = l.source.at(p.plane, 2 * i + 1, 2 * j + 1);
  l.target.at(p.plane, i, j) = 0.5f * (a + b + c + d);
  l.coefficientsOut.at(p.plane, i, j + l.halfW) = 0.5f * (a - b + c - d);
  l.coefficientsOut.at(p.plane, i + l.halfH, j) = 0.5f * (a + b - c - d);
  l.coefficientsOut.at(p.plane, i + l.halfH, j + l.halfW) = 0.5f * (a - b - c + d);
}

// One inverse butterfly (numerics' inverseRows): the approximation at source (i, j) and the
// details of the operand become the 2x2 block of target at (2i, 2j).
PODM_HD inline void haarInverseBlock(const HaarLevel& l, int64_t index) {
  const Pixel p = splitIndex(index, l.halfH, l.halfW);
  const int64_t i = p.i, j = p.j;
  const float s = l.source.at(p.plane, i, j);
  const float x = l.coefficientsIn.at(p.plane, i, j + l.halfW);
  const float y = l.coefficientsIn.at(p.plane, i + l.halfH, j);
  const float z = l.coefficientsIn.at(p.plane, i + l.halfH, j + l.halfW);
  l.target.at(p.plane, 2 * i, 2 * j) = 0.5f * (s + x + y + z);
  l.target.at(p.plane, 2 * i, 2 * j + 1) = 0.5f * (s - x + y - z);
  l.target.at(p.plane, 2 * i + 1, 2 * j) = 0.5f * (s + x - y - z);
  l.target.at(p.plane, 2 * i + 1, 2 * j + 1) = 0.5f * (s - x - y + z);
}

// Floats of scratch a Haar node needs: two compact approximation buffers of a quarter plane each,
// used alternately by consecutive levels (none for one level).
inline int64_t haarScratchFloats(const HaarShape& s) {
  return s.levels > 1 ? 2 * s.planes * (s.h / 2) * (s.w / 2) : 0;
}

// Which buffers forward level `level` reads and writes. Level 0 reads the operand; every level
// writes its details straight into the result (they are final) and its approximation into the
// scratch half level % 2, except the last, which writes it into the result's top-left corner.
// So no level writes what another thread of the same level reads, and the operand stays intact.
inline HaarLevel haarForwardLevel(const HaarShape& s, int64_t level, const float* in, float* out,
                                  float* scratch) {
  const int64_t rh = s.h >> level, rw = s.w >> level;
  const int64_t half = s.planes * (s.h / 2) * (s.w / 2);
  const Planes result{out, s.w, s.h * s.w};
  HaarLevel l{};
  l.planes = s.planes;
  l.halfH = rh / 2;
  l.halfW = rw / 2;
  l.source = level == 0 ? ConstPlanes{in, s.w, s.h * s.w}
                        : ConstPlanes{scratch + ((level - 1) % 2) * half, rw, rh * rw};
  l.target = level == s.levels - 1
                 ? result
                 : Planes{scratch + (level % 2) * half, l.halfW, l.halfH * l.halfW};
  l.coefficientsIn = ConstPlanes{out, s.w, s.h * s.w};
  l.coefficientsOut = result;
  return l;
}

// Inverse level `level` (run from levels-1 down to 0): the coarsest reads its approximation from
// the operand, the others from the scratch half the level above wrote ((level + 1) % 2); level 0
// writes the result, the others their scratch half level % 2.
inline HaarLevel haarInverseLevel(const HaarShape& s, int64_t level, const float* in, float* out,
                                  float* scratch) {
  const int64_t rh = s.h >> level, rw = s.w >> level;
  const int64_t half = s.planes * (s.h / 2) * (s.w / 2);
  const ConstPlanes operand{in, s.w, s.h * s.w};
  HaarLevel l{};
  l.planes = s.planes;
  l.halfH = rh / 2;
  l.halfW = rw / 2;
  l.source = level == s.levels - 1
                 ? operand
                 : ConstPlanes{scratch + ((level + 1) % 2) * half, l.halfW, l.halfH * l.halfW};
  l.target =
      level == 0 ? Planes{out, s.w, s.h * s.w} : Planes{scratch + (level % 2) * half, rw, rh * rw};
  l.coefficientsIn = operand;
  l.coefficientsOut = Planes{out, s.w, s.h * s.w};
  return l;
}

} // namespace podm::cuda::linop

namespace podm::cuda {

// The launches over these functions (local_linop.cu), picked by the builders in
// local_linop_kernels.cpp. Each reads its shape from args.state (the struct above that its builder
// made) and, where it needs one, its scratch from args.workspace.
enum class LocalLinop : uint8_t {
  Conv2d,
  Conv2dAdjoint,
  Pad2d,
  Pad2dAdjoint,
  Decimate,
  UpsampleZero,
  Mask,
  FdGrad,
  FdGradAdjoint,
  Haar,
  HaarInv,
};
Launch localLinopLaunch(LocalLinop op);

} // namespace podm::cuda
