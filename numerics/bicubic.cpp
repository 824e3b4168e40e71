// MATLAB-compatible bicubic weights and the separable sparse resize built on them.
#include "numerics/bicubic.h"

#include "numerics/conv.h"
#include "numerics/parallel.h"
#include "numerics/scratch.h"
#include "numerics/vector_clones.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace podm::numerics {
namespace {

double keysCubic(double x) {
  double ax = std::abs(x), ax2 = ax * ax, ax3 = ax2 * ax;
  if (ax <= 1.0)
    return 1.5 * ax3 - 2.5 * ax2 + 1.0;
  if (ax <= 2.0)
    return -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0;
  return 0.0;
}

void checkLengths(int64_t in, int64_t out, double scale) {
  if (in <= 0 || out <= 0 || !(scale > 0.0) || in > INT32_MAX)
    throw std::invalid_argument("bicubic: cannot resize length " + std::to_string(in) + " to " +
                                std::to_string(out) + " with scale " + std::to_string(scale));
}

} // namespace

int64_t imresizeLength(int64_t n, double scale) {
  return static_cast<int64_t>(std::ceil(scale * static_cast<double>(n)));
}

AxisWeights bicubicAxisWeights(int64_t inLength, int64_t outLength, double scale, bool antialias) {
  checkLengths(inLength, outLength, scale);
  const bool widen = scale < 1.0 && antialias;
  const double kernelScale = widen ? scale : 1.0;
  const double kernelWidth = 4.0 / kernelScale;
  const int64_t taps = static_cast<int64_t>(std::ceil(kernelWidth)) + 2;

  AxisWeights result;
  result.inLength = inLength;
  result.outLength = outLength;
  result.start.reserve(static_cast<size_t>(outLength + 1));
  result.start.push_back(0);
  std::vector<double> raw(static_cast<size_t>(taps));
  std::vector<int32_t> rowIndex;
  std::vector<double> rowWeight;
  for (int64_t o = 1; o <= outLength; ++o) {
    // 1-based coordinates, as in MATLAB, so the formulas can be compared line by line.
    const double u = static_cast<double>(o) / scale + 0.5 * (1.0 - 1.0 / scale);
    const int64_t left = static_cast<int64_t>(std::floor(u - kernelWidth / 2.0));
    double total = 0.0;
    for (int64_t t = 0; t < taps; ++t) {
      raw[static_cast<size_t>(t)] =
          kernelScale * keysCubic(kernelScale * (u - static_cast<double>(left + t)));
      total += raw[static_cast<size_t>(t)];
    }
    rowIndex.clear();
    rowWeight.clear();
    for (int64_t t = 0; t < taps; ++t) {
      double wgt = raw[static_cast<size_t>(t)] / total;
      if (wgt == 0.0)
        continue;
      int32_t idx =
          static_cast<int32_t>(extendedIndex(left + t - 1, inLength, Boundary::Symmetric));
      auto found = std::find(rowIndex.begin(), rowIndex.end(), idx);
      if (found != rowIndex.end()) {
        rowWeight[static_cast<size_t>(found - rowIndex.begin())] += wgt;
      } else {
        rowIndex.push_back(idx);
        rowWeight.push_back(wgt);
      }
    }
    for (size_t k = 0; k < rowIndex.size(); ++k) {
      result.index.push_back(rowIndex[k]);
      result.weight.push_back(static_cast<float>(rowWeight[k]));
    }
    result.start.push_back(static_cast<int64_t>(result.index.size()));
  }
  return result;
}

AxisWeights transposedAxisWeights(const AxisWeights& weights) {
  AxisWeights t;
  t.inLength = weights.outLength;
  t.outLength = weights.inLength;
  t.start.assign(static_cast<size_t>(t.outLength + 1), 0);
  for (int32_t i : weights.index)
    ++t.start[static_cast<size_t>(i) + 1];
  for (size_t i = 0; i < static_cast<size_t>(t.outLength); ++i)
    t.start[i + 1] += t.start[i];
  std::vector<int64_t> next(t.start.begin(), t.start.end() - 1);
  t.index.resize(weights.index.size());
  t.weight.resize(weights.weight.size());
  for (int64_t o = 0; o < weights.outLength; ++o)
    for (int64_t k = weights.start[static_cast<size_t>(o)];
         k < weights.start[static_cast<size_t>(o + 1)]; ++k) {
      const int64_t slot = next[static_cast<size_t>(weights.index[static_cast<size_t>(k)])]++;
      t.index[static_cast<size_t>(slot)] = static_cast<int32_t>(o);
      t.weight[static_cast<size_t>(slot)] = weights.weight[static_cast<size_t>(k)];
    }
  return t;
}

BicubicResize2d::BicubicResize2d(int64_t h, int64_t w, double scale, bool antialias)
    : BicubicResize2d(h, w, imresizeLength(h, scale), imresizeLength(w, scale), scale, antialias) {
}

BicubicResize2d::BicubicResize2d(int64_t h, int64_t w, int64_t outH, int64_t outW, double scale,
                                 bool antialias)
    : rows_(bicubicAxisWeights(h, outH, scale, antialias)),
      cols_(bicubicAxisWeights(w, outW, scale, antialias)),
      rowsTransposed_(transposedAxisWeights(rows_)), colsTransposed_(transposedAxisWeights(cols_)) {
  // Multiply-adds of each order; one of the width pass costs more (scalar gathers on few rows, or
  // on many rows its share of the two transposes): count it as four.
  const double gather = 4.0;
  const double taps = static_cast<double>(cols_.index.size());
  const double rowTaps = static_cast<double>(rows_.index.size());
  const double widthThenHeight = gather * static_cast<double>(h) * taps + rowTaps * outW;
  const double heightThenWidth = rowTaps * static_cast<double>(w) + gather * outH * taps;
  widthFirst_ = widthThenHeight <= heightThenWidth;
}

namespace {

// From this many rows the width pass runs transposed (gatherAlongRows): a vector of floats per
// row position (SSE2: 4) and a few more so the transposes pay for themselves.
constexpr int64_t kTransposedRows = 16;

// out (cols x rows) = the transpose of in (rows x cols), in tiles that stay in L1.
PODM_VECTOR_CLONES void transposePlane(const float* in, int64_t rows, int64_t cols, float* out) {
  constexpr int64_t kTile = 16;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile)
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t r = r0; r < r1; ++r)
          out[c * rows + r] = in[r * cols + c];
    }
}

// Rows [first, last) of the height pass below.
PODM_VECTOR_CLONES void combineRowRange(const AxisWeights& axis, const float* in, int64_t width,
                                        float* out, int64_t first, int64_t last) {
  for (int64_t o = first; o < last; ++o) {
    float* __restrict dst = out + o * width;
    std::fill(dst, dst + width, 0.0f);
    for (int64_t k = axis.start[static_cast<size_t>(o)]; k < axis.start[static_cast<size_t>(o + 1)];
         ++k) {
      const float wgt = axis.weight[static_cast<size_t>(k)];
      const float* __restrict src = in + axis.index[static_cast<size_t>(k)] * width;
      for (int64_t j = 0; j < width; ++j)
        dst[j] += wgt * src[j];
    }
  }
}

// Height pass: out row o (of outLength rows of `width`) = weighted sum of whole rows of in.
void combineRows(const AxisWeights& axis, const float* in, int64_t width, float* out) {
  const int64_t rows = axis.outLength;
  parallelRows(rows, std::max(rows, axis.inLength) * width, [&](int64_t first, int64_t last) {
    combineRowRange(axis, in, width, out, first, last);
  });
}

// Width pass: out (rows x outLength) = each row of in (rows x inLength) resampled by `axis`.
// Gathering along a row reads scattered samples one at a time; with enough rows, the pass runs
// on the transpose instead, where it is the height pass's sum of whole contiguous rows, and the
// two transposes cost less than the scalar gathers they replace. Each output is the same sum in
// the same order either way (from 0, taps in order), so the two paths agree bit for bit.
void gatherAlongRows(const AxisWeights& axis, const float* in, int64_t rows, float* out) {
  const int64_t iw = axis.inLength, ow = axis.outLength;
  if (rows >= kTransposedRows) {
    float* across = scratchFloats(ScratchSlot::ResampleTransposed, static_cast<size_t>(iw * rows));
    float* result =
        scratchFloats(ScratchSlot::ResampleTransposedResult, static_cast<size_t>(ow * rows));
    transposePlane(in, rows, iw, across);
    combineRows(axis, across, rows, result);
    transposePlane(result, ow, rows, out);
    return;
  }
  const int64_t* start = axis.start.data();
  const int32_t* index = axis.index.data();
  const float* weight = axis.weight.data();
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = in + r * iw;
    float* dst = out + r * ow;
    for (int64_t o = 0; o < ow; ++o) {
      float sum = 0.0f;
      for (int64_t k = start[o]; k < start[o + 1]; ++k)
        sum += weight[k] * row[index[k]];
      dst[o] = sum;
    }
  }
}

// One separable resampling of `planes` inH x inW planes to outH x outW, the width pass first or
// the height pass first, through the thread's scratch plane.
void resampleSeparable(const AxisWeights& width, const AxisWeights& height, bool widthFirst,
                       const float* in, float* out, int64_t planes) {
  const int64_t inH = height.inLength, inW = width.inLength;
  const int64_t outH = height.outLength, outW = width.outLength;
  const int64_t between = widthFirst ? inH * outW : outH * inW;
  float* across = scratchFloats(ScratchSlot::Resample, static_cast<size_t>(between));
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = in + p * inH * inW;
    float* dst = out + p * outH * outW;
    if (widthFirst) {
      gatherAlongRows(width, src, inH, across);
      combineRows(height, across, outW, dst);
    } else {
      combineRows(height, src, inW, across);
      gatherAlongRows(width, across, outH, dst);
    }
  }
}

} // namespace

void BicubicResize2d::apply(const float* x, float* y, int64_t planes) const {
  resampleSeparable(cols_, rows_, widthFirst_, x, y, planes);
}

// The transposes in the reverse order: (H W)' = W' H'.
void BicubicResize2d::adjoint(const float* y, float* x, int64_t planes) const {
  resampleSeparable(colsTransposed_, rowsTransposed_, !widthFirst_, y, x, planes);
}

} // namespace podm::numerics
