// Padding of image planes beyond their border, and its adjoint: the extension a boundary-aware
// deblurring model needs (the unknown larger than the observation by the kernel's support, and
// the observation extended to a periodic image so that FFT deconvolution does not ring).
//
// Every mode is linear, and separable: output row r and column c read at most two input rows and
// two input columns, so pad2d is y = E_h x E_w' with 1-D extension matrices E of at most two
// entries per row, and pad2dAdjoint is x = E_h' y E_w.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace podm::numerics {

enum class PadMode {
  Zero,      // zeros outside: with it, pad2dAdjoint is the crop
  Replicate, // the nearest border pixel
  // A smooth periodic extension: across the gap between the last sample and the first one of the
  // next period, a cos^2 cross-fade from the last value to the first, so the padded image is
  // continuous across its own wrap-around and FFT deconvolution sees no jump. (A cross-fade of
  // the image mirrored at either border scored 0.8 dB lower on Levin's captures, docs/results.md.)
  Smooth,
};

std::optional<PadMode> parsePadMode(std::string_view text);
const char* padModeName(PadMode mode);

struct PadSides {
  int64_t top = 0, left = 0, bottom = 0, right = 0;
};

// One row of a 1-D extension matrix: output t = w[0] x[i[0]] + w[1] x[i[1]].
struct PadTap {
  int64_t i[2] = {0, 0};
  float w[2] = {0.f, 0.f};
};

// The n + before + after rows of the extension matrix of a length-n signal.
std::vector<PadTap> padTaps(int64_t n, int64_t before, int64_t after, PadMode mode);

// The padding of h x w planes, its tap tables made once (kernels build it at prepare time).
class Padding2d {
public:
  Padding2d(int64_t h, int64_t w, PadSides sides, PadMode mode);
  int64_t paddedH() const { return static_cast<int64_t>(rows_.size()); }
  int64_t paddedW() const { return static_cast<int64_t>(cols_.size()); }
  // y (planes x paddedH x paddedW) = the padding of x (planes x h x w).
  void apply(const float* x, float* y, int64_t planes) const;
  // The adjoint: x (planes x h x w) = E_h' y E_w. With Zero, the crop.
  void adjoint(const float* y, float* x, int64_t planes) const;

private:
  int64_t h_, w_;
  PadSides sides_;
  PadMode mode_;
  std::vector<PadTap> rows_, cols_;
};

} // namespace podm::numerics
