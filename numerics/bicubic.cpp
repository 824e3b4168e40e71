// MATLAB-compatible bicubic weights and the separable sparse resize built on them.
#include "numerics/bicubic.h"

#include "numerics/conv.h"
#include "numerics/scratch.h"

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

BicubicResize2d::BicubicResize2d(int64_t h, int64_t w, double scale, bool antialias)
    : BicubicResize2d(h, w, imresizeLength(h, scale), imresizeLength(w, scale), scale, antialias) {
}

BicubicResize2d::BicubicResize2d(int64_t h, int64_t w, int64_t outH, int64_t outW, double scale,
                                 bool antialias)
    : rows_(bicubicAxisWeights(h, outH, scale, antialias)),
      cols_(bicubicAxisWeights(w, outW, scale, antialias)) {
}

void BicubicResize2d::apply(const float* x, float* y, int64_t planes) const {
  const int64_t ih = inH(), iw = inW(), oh = outH(), ow = outW();
  // Width first into an ih x ow buffer, then height as weighted sums of whole rows (contiguous,
  // vectorized).
  float* across = scratchFloats(ScratchSlot::Resample, static_cast<size_t>(ih * ow));
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = x + p * ih * iw;
    for (int64_t r = 0; r < ih; ++r) {
      const float* row = src + r * iw;
      float* out = across + r * ow;
      for (int64_t o = 0; o < ow; ++o) {
        float sum = 0.0f;
        for (int64_t k = cols_.start[static_cast<size_t>(o)];
             k < cols_.start[static_cast<size_t>(o + 1)]; ++k)
          sum += cols_.weight[static_cast<size_t>(k)] * row[cols_.index[static_cast<size_t>(k)]];
        out[o] = sum;
      }
    }
    float* dst = y + p * oh * ow;
    for (int64_t o = 0; o < oh; ++o) {
      float* __restrict out = dst + o * ow;
      std::fill(out, out + ow, 0.0f);
      for (int64_t k = rows_.start[static_cast<size_t>(o)];
           k < rows_.start[static_cast<size_t>(o + 1)]; ++k) {
        const float wgt = rows_.weight[static_cast<size_t>(k)];
        const float* __restrict in = across + rows_.index[static_cast<size_t>(k)] * ow;
        for (int64_t j = 0; j < ow; ++j)
          out[j] += wgt * in[j];
      }
    }
  }
}

void BicubicResize2d::adjoint(const float* y, float* x, int64_t planes) const {
  const int64_t ih = inH(), iw = inW(), oh = outH(), ow = outW();
  float* across = scratchFloats(ScratchSlot::Resample, static_cast<size_t>(ih * ow));
  for (int64_t p = 0; p < planes; ++p) {
    // Transpose of the height pass: scatter each output row back onto the rows it was made from.
    std::fill(across, across + ih * ow, 0.0f);
    const float* src = y + p * oh * ow;
    for (int64_t o = 0; o < oh; ++o) {
      const float* __restrict in = src + o * ow;
      for (int64_t k = rows_.start[static_cast<size_t>(o)];
           k < rows_.start[static_cast<size_t>(o + 1)]; ++k) {
        const float wgt = rows_.weight[static_cast<size_t>(k)];
        float* __restrict out = across + rows_.index[static_cast<size_t>(k)] * ow;
        for (int64_t j = 0; j < ow; ++j)
          out[j] += wgt * in[j];
      }
    }
    // Transpose of the width pass.
    float* dst = x + p * ih * iw;
    std::fill(dst, dst + ih * iw, 0.0f);
    for (int64_t r = 0; r < ih; ++r) {
      const float* row = across + r * ow;
      float* out = dst + r * iw;
      for (int64_t o = 0; o < ow; ++o) {
        const float v = row[o];
        for (int64_t k = cols_.start[static_cast<size_t>(o)];
             k < cols_.start[static_cast<size_t>(o + 1)]; ++k)
          out[cols_.index[static_cast<size_t>(k)]] += cols_.weight[static_cast<size_t>(k)] * v;
      }
    }
  }
}

} // namespace podm::numerics
