// Bicubic resizing with the conventions of MATLAB's imresize(A, scale, 'bicubic'):
//   - Keys cubic kernel with a = -0.5, support [-2, 2];
//   - output sample o (1-based) sits at input coordinate u = o/scale + 0.5*(1 - 1/scale);
//   - when shrinking (scale < 1) with antialiasing, the kernel is stretched to scale*k(scale*x),
//     i.e. its support widens by 1/scale;
//   - weights of each output sample are normalized to sum to 1;
//   - samples outside the input are read by half-sample symmetric reflection of the index
//     (MATLAB's aux = [1:n, n:-1:1] trick);
//   - the output length is ceil(scale * n).
// The operator is separable: one sparse weight matrix per axis, built once with its transpose; the
// adjoint gathers by the transposes in the reverse order (no scatter, so every output row is
// computed alone and large planes split into row bands over the cores, as the FFTs do). The pass
// along rows (height) combines whole contiguous rows and vectorizes; the pass along each row
// (width) gathers scattered samples and does not, so the order is chosen per size to give the
// gathers the fewer rows: height first when shrinking (the width pass then runs on 1/s of the
// rows), width first when enlarging. The two orders add the same products in a different order, so
// they agree to float rounding (about 1e-7 relative).
#pragma once

#include <cstdint>
#include <vector>

namespace podm::numerics {

// Sparse rows of a 1-D resampling matrix: output o is sum_k weight[k] * in[index[k]] over
// k in [start[o], start[o+1]). Indices are distinct within a row (reflected duplicates merged).
struct AxisWeights {
  int64_t inLength = 0, outLength = 0;
  std::vector<int64_t> start;
  std::vector<int32_t> index;
  std::vector<float> weight;
};

// MATLAB's output length for a scale: ceil(scale * n).
int64_t imresizeLength(int64_t n, double scale);

// The weights MATLAB's imresize computes for one axis (its `contributions` function).
AxisWeights bicubicAxisWeights(int64_t inLength, int64_t outLength, double scale,
                               bool antialias = true);

// The transpose as rows of its own: row i lists the outputs o that read input i, with their
// weights, in increasing o -- the order in which a scatter by the forward rows would add into i,
// so gathering by the transpose gives the scatter's sums bit for bit.
AxisWeights transposedAxisWeights(const AxisWeights& weights);

// A bicubic resize of h x w planes, weights precomputed for one size. Thread-safe for const calls.
class BicubicResize2d {
public:
  // Output size ceil(scale*h) x ceil(scale*w).
  BicubicResize2d(int64_t h, int64_t w, double scale, bool antialias = true);
  // Explicit output size (for callers that know it exactly, e.g. h / s for a downscale by s).
  BicubicResize2d(int64_t h, int64_t w, int64_t outH, int64_t outW, double scale,
                  bool antialias = true);

  int64_t inH() const { return rows_.inLength; }
  int64_t inW() const { return cols_.inLength; }
  int64_t outH() const { return rows_.outLength; }
  int64_t outW() const { return cols_.outLength; }
  const AxisWeights& rowWeights() const { return rows_; }
  const AxisWeights& colWeights() const { return cols_; }
  const AxisWeights& rowWeightsTransposed() const { return rowsTransposed_; }
  const AxisWeights& colWeightsTransposed() const { return colsTransposed_; }
  // Whether apply runs the width pass first (adjoint then runs the height pass's transpose first).
  bool widthFirst() const { return widthFirst_; }

  // y (outH x outW per plane) = resize of x (inH x inW per plane). x and y must not overlap.
  void apply(const float* x, float* y, int64_t planes) const;
  // x = transpose of the resize applied to y.
  void adjoint(const float* y, float* x, int64_t planes) const;

private:
  AxisWeights rows_, cols_, rowsTransposed_, colsTransposed_;
  bool widthFirst_ = true;
};

} // namespace podm::numerics
