// The per-element math of the CUDA transform kernels (transform.cu) -- bicubic resizing and its
// adjoint, the DCT matrix, the DCT filter bank and its adjoint -- written once for the device and
// the host, so that tests/runtime/cuda/transform_math_test.cpp proves on any machine, by looping
// these functions, that the GPU computes what numerics/ computes for the CPU backend.
//
// The tables the kernels read (resize taps, transposed taps, the filter bank's adjoint taps, the
// DCT matrix) are built on the host at prepare time by the functions at the end of this file,
// which only the host compiler sees; the kernels get flat views of them (plain pointers). Both
// adjoints are gathers over transposed tables, so no kernel needs atomics. Kept C++17 for nvcc.
#pragma once

#include "runtime/cuda/cuda_kernels.h"
#include "runtime/elementwise_math.h"

#include <cmath>
#include <cstdint>

#if !defined(__CUDACC__)
#include "numerics/bicubic.h"
#include "numerics/conv.h"

#include <vector>
#endif

namespace podm::cuda::transform {

// One axis of a separable resampling as compressed rows: output o is the sum of
// weight[k] * in[index[k]] over k in [start[o], start[o + 1]).
struct AxisTaps {
  const int32_t* start = nullptr;
  const int32_t* index = nullptr;
  const float* weight = nullptr;
};

// Output o of one row resampled along it (the width pass).
PODM_HD inline float gatherAlongRow(const AxisTaps& taps, const float* row, int64_t o) {
  float sum = 0.0f;
  for (int32_t k = taps.start[o]; k < taps.start[o + 1]; ++k)
    sum += taps.weight[k] * row[taps.index[k]];
  return sum;
}

// Output (o, j) of a plane of row length w resampled along its columns (the height pass).
PODM_HD inline float gatherAlongColumn(const AxisTaps& taps, const float* plane, int64_t w,
                                       int64_t o, int64_t j) {
  float sum = 0.0f;
  for (int32_t k = taps.start[o]; k < taps.start[o + 1]; ++k)
    sum += taps.weight[k] * plane[static_cast<int64_t>(taps.index[k]) * w + j];
  return sum;
}

// A separable resampling of `planes` inH x inW planes to outH x outW: a width pass (inW -> outW)
// and a height pass (inH -> outH) through a scratch of planes x (inH x outW) or (outH x inW). The
// pass order is the CPU's (numerics::BicubicResize2d::widthFirst for the resize, the reverse for
// its adjoint), so both backends add the same products in the same order.
struct SeparablePlan {
  AxisTaps width, height;
  bool widthFirst = true;
  int64_t planes = 0, inH = 0, inW = 0, outH = 0, outW = 0;
  float* scratch = nullptr;
};

// The orthonormal DCT-II matrix C of length n: X = C x, entry (k, i) = c_k cos(pi (2i+1) k / 2n),
// c_0 = sqrt(1/n), c_k = sqrt(2/n). Orthogonal, so the inverse is C^T. Evaluated in double; the
// kernels get it rounded to float once.
PODM_HD inline double dctMatrixEntry(int64_t k, int64_t i, int64_t n) {
  const double pi = 3.14159265358979323846;
  const double c = k == 0 ? sqrt(1.0 / static_cast<double>(n)) : sqrt(2.0 / static_cast<double>(n));
  return c * cos(pi * (2.0 * static_cast<double>(i) + 1.0) * static_cast<double>(k) /
                 (2.0 * static_cast<double>(n)));
}

// numerics::Boundary's rules for reading outside a plane (same order, so the host maps by value).
enum class Edge : int32_t { Periodic = 0, Symmetric = 1, Zero = 2 };

// The plane sample that position i (any integer) of an extended line of length n reads, or -1
// where the extension is zero: numerics::extendedIndex on the device.
PODM_HD inline int64_t extendedIndex(int64_t i, int64_t n, Edge edge) {
  if (edge == Edge::Periodic) {
    const int64_t m = i % n;
    return m < 0 ? m + n : m;
  }
  if (edge == Edge::Symmetric) {
    // Half-sample reflection is periodic with period 2n: n samples forward, n mirrored.
    const int64_t period = 2 * n;
    int64_t m = i % period;
    if (m < 0)
      m += period;
    return m < n ? m : period - 1 - m;
  }
  return (i >= 0 && i < n) ? i : -1;
}

// Output (i, j) of one filter of a bank convolved with one h x w plane, by numerics/conv.h's
// convention: y[i,j] = sum_{a,b} f[a,b] * xe[i - a + size/2, j - b + size/2] (xe: the plane
// extended by the edge rule).
PODM_HD inline float filterBankElement(const float* plane, int64_t h, int64_t w,
                                       const float* filter, int64_t size, Edge edge, int64_t i,
                                       int64_t j) {
  float sum = 0.0f;
  for (int64_t a = 0; a < size; ++a) {
    const int64_t r = extendedIndex(i - a + size / 2, h, edge);
    if (r < 0)
      continue;
    const float* row = plane + r * w;
    for (int64_t b = 0; b < size; ++b) {
      const int64_t c = extendedIndex(j - b + size / 2, w, edge);
      if (c >= 0)
        sum += filter[a * size + b] * row[c];
    }
  }
  return sum;
}

// The transpose of one axis of the filter-bank convolution: for plane position q, the pairs
// (output position source[k], filter tap tap[k]) over k in [start[q], start[q + 1]) whose forward
// term reads q. The edge rule is in the table: a reflected or wrapped read appears as the pair it
// came from, a zero read appears nowhere.
struct ConvTaps {
  const int32_t* start = nullptr;
  const int32_t* source = nullptr;
  const int32_t* tap = nullptr;
};

// Pixel (r, s) of the adjoint of a bank of `count` filters: the sum over filters n of the
// transposed convolution of plane n of `planes` (the count planes made from one input plane).
PODM_HD inline float filterBankAdjointElement(const float* planes, int64_t h, int64_t w,
                                              const float* filters, int64_t count, int64_t size,
                                              const ConvTaps& rows, const ConvTaps& cols, int64_t r,
                                              int64_t s) {
  float sum = 0.0f;
  for (int64_t n = 0; n < count; ++n) {
    const float* plane = planes + n * h * w;
    const float* filter = filters + n * size * size;
    for (int32_t kr = rows.start[r]; kr < rows.start[r + 1]; ++kr) {
      const float* row = plane + static_cast<int64_t>(rows.source[kr]) * w;
      const float* taps = filter + static_cast<int64_t>(rows.tap[kr]) * size;
      for (int32_t kc = cols.start[s]; kc < cols.start[s + 1]; ++kc)
        sum += taps[cols.tap[kc]] * row[cols.source[kc]];
    }
  }
  return sum;
}

// What a filter-bank launch reads: `planes` input planes of h x w and count filters of
// size x size; the adjoint also reads the transposed taps of each axis.
struct FilterBankPlan {
  const float* filters = nullptr;
  int64_t size = 0, count = 0, planes = 0, h = 0, w = 0;
  Edge edge = Edge::Periodic;
  ConvTaps rows, cols;
};

// The launches of transform.cu; args.state points at the plan (a SeparablePlan for the resizes,
// a FilterBankPlan for the filter banks), args.in[0] / args.out at the operand and the result.
Launch separableResampleLaunch();
Launch filterBankLaunch();
Launch filterBankAdjointLaunch();

#if !defined(__CUDACC__)
// Host side, at prepare time: the tables above as vectors, views onto them for host loops, and
// the vectors the builders upload.

struct AxisTapTable {
  std::vector<int32_t> start, index;
  std::vector<float> weight;
  AxisTaps view() const { return {start.data(), index.data(), weight.data()}; }
};

// numerics' weights of one axis (output o from input index[k]) as a table.
inline AxisTapTable axisTapTable(const numerics::AxisWeights& weights) {
  AxisTapTable t;
  t.start.assign(weights.start.begin(), weights.start.end());
  t.index = weights.index;
  t.weight = weights.weight;
  return t;
}

// The two axis tables of resize_bicubic (adjoint = false) or of its adjoint, for the op's operand
// (inH x inW) and result (outH x outW). The adjoint's tables are the transposes of the forward
// resize from the adjoint's result size to its operand size, with the forward's scale.
struct ResizeTables {
  AxisTapTable width, height;
  bool widthFirst = true;
};

inline ResizeTables resizeTables(int64_t inH, int64_t inW, int64_t outH, int64_t outW, double scale,
                                 bool antialias, bool adjoint) {
  ResizeTables t;
  if (adjoint) {
    const numerics::BicubicResize2d forward(outH, outW, inH, inW, scale, antialias);
    t.width = axisTapTable(forward.colWeightsTransposed());
    t.height = axisTapTable(forward.rowWeightsTransposed());
    t.widthFirst = !forward.widthFirst();
  } else {
    const numerics::BicubicResize2d forward(inH, inW, outH, outW, scale, antialias);
    t.width = axisTapTable(forward.colWeights());
    t.height = axisTapTable(forward.rowWeights());
    t.widthFirst = forward.widthFirst();
  }
  return t;
}

// The n x n DCT-II matrix, row-major (entry (k, i) at k * n + i), rounded to float.
inline std::vector<float> dctMatrix(int64_t n) {
  std::vector<float> m(static_cast<size_t>(n * n));
  for (int64_t k = 0; k < n; ++k)
    for (int64_t i = 0; i < n; ++i)
      m[static_cast<size_t>(k * n + i)] = static_cast<float>(dctMatrixEntry(k, i, n));
  return m;
}

// One product per plane, C = op(A) op(B) with column-major matrices, in the terms of cuBLAS's
// sgemmStridedBatched (a stride of 0 reuses one matrix for every plane).
struct PlaneProduct {
  bool transposeA = false, transposeB = false;
  int m = 0, n = 0, k = 0, lda = 0, ldb = 0, ldc = 0;
  long long strideA = 0, strideB = 0, strideC = 0;
};

// The DCT of h x w planes as two products: first (A = the width matrix M_w, B = the operand,
// C = scratch), then second (A = scratch, B = the height matrix M_h, C = the result), where M_n
// is dctMatrix(n). A row-major h x w plane X is, to a column-major product, the w x h matrix
// X^T (leading dimension w), and M_n is likewise C_n^T. With Y = C_h X C_w^T (dct2) and
// X = C_h^T Y C_w (idct2):
//   dct2:  Y^T = C_w X^T C_h^T:  T = op_T(M_w) X^T,  then  Y^T = T op_N(M_h)
//   idct2: X^T = C_w^T Y^T C_h:  T = op_N(M_w) Y^T,  then  X^T = T op_T(M_h)
// Step one is w x h = (w x w)(w x h), step two w x h = (w x h)(h x h).
struct DctProducts {
  PlaneProduct first, second;
};

inline DctProducts dctProducts(int h, int w, bool inverse) {
  const long long plane = static_cast<long long>(h) * w;
  DctProducts p;
  p.first.transposeA = !inverse;
  p.first.m = w;
  p.first.n = h;
  p.first.k = w;
  p.first.lda = w;
  p.first.ldb = w;
  p.first.ldc = w;
  p.first.strideB = plane;
  p.first.strideC = plane;
  p.second.transposeB = inverse;
  p.second.m = w;
  p.second.n = h;
  p.second.k = h;
  p.second.lda = w;
  p.second.ldb = h;
  p.second.ldc = w;
  p.second.strideA = plane;
  p.second.strideC = plane;
  return p;
}

inline Edge edgeOf(numerics::Boundary boundary) {
  switch (boundary) {
  case numerics::Boundary::Periodic:
    return Edge::Periodic;
  case numerics::Boundary::Symmetric:
    return Edge::Symmetric;
  case numerics::Boundary::Zero:
    return Edge::Zero;
  }
  return Edge::Zero;
}

struct ConvTapTable {
  std::vector<int32_t> start, source, tap;
  ConvTaps view() const { return {start.data(), source.data(), tap.data()}; }
};

// The transposed taps of one axis of length n for a filter of `size` taps: pairs (i, a) grouped
// by the position extendedIndex(i - a + size/2) that the forward term reads.
inline ConvTapTable convTransposeTable(int64_t n, int64_t size, Edge edge) {
  ConvTapTable t;
  t.start.assign(static_cast<size_t>(n) + 1, 0);
  std::vector<std::vector<std::pair<int32_t, int32_t>>> byPosition(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t a = 0; a < size; ++a) {
      const int64_t q = extendedIndex(i - a + size / 2, n, edge);
      if (q >= 0)
        byPosition[static_cast<size_t>(q)].emplace_back(static_cast<int32_t>(i),
                                                        static_cast<int32_t>(a));
    }
  for (int64_t q = 0; q < n; ++q) {
    for (const auto& [i, a] : byPosition[static_cast<size_t>(q)]) {
      t.source.push_back(i);
      t.tap.push_back(a);
    }
    t.start[static_cast<size_t>(q) + 1] = static_cast<int32_t>(t.source.size());
  }
  return t;
}
#endif

} // namespace podm::cuda::transform
