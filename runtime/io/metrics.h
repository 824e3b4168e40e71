// Image-quality metrics with the conventions of the super-resolution / restoration literature:
//   - both images are 1x1xHxW (use io::luma for colour: metrics are on the BT.601 Y channel);
//   - `shave` pixels are removed on every side first (the SR convention shaves the scale factor);
//   - `dataRange` is the peak value: 1 for podm's float images in [0,1] (255 for 8-bit data);
//   - no quantization is applied: round to 8 bits first (quantize()) to match uint8 evaluations.
// SSIM is Wang et al. 2004 (their ssim_index.m): 11x11 Gaussian window with sigma 1.5 (normalised
// to sum 1), K1 = 0.01, K2 = 0.03, C1 = (K1 L)^2, C2 = (K2 L)^2, local statistics over the 'valid'
// region (no padding), mean of the SSIM map; no automatic downsampling.
#pragma once

#include "runtime/tensor.h"

#include <optional>

namespace podm::io {

// 10 log10(L^2 / MSE); +infinity for identical images.
double psnr(const Tensor& x, const Tensor& ref, int shave = 0, double dataRange = 1.0);
// Mean SSIM; images (after shaving) must be at least 11x11.
double ssim(const Tensor& x, const Tensor& ref, int shave = 0, double dataRange = 1.0);
// ||x - ref|| / ||ref|| (Frobenius; the paper's reconstruction error), over the whole tensors.
double reconstructionError(const Tensor& x, const Tensor& ref);
// ||xNew - xOld|| / ||xOld|| (the paper's relative error before log10).
double relativeChange(const Tensor& xNew, const Tensor& xOld);
// Values clamped to [0,1] and rounded to the nearest of 2^bits - 1 levels, as written to a PNG.
Tensor quantize(const Tensor& image, int bits = 8);
// What a run reports per stage against a ground truth: PSNR and SSIM on the luma (io::luma for
// RGB) with `shave` and data range 1, and the reconstruction error over all channels. SSIM is NaN
// when the shaved image is smaller than the window.
struct Quality {
  double psnr = 0, ssim = 0, reconError = 0;
};
Quality measure(const Tensor& x, const Tensor& ref, int shave = 0);
// For ground truths misregistered by a few pixels (real captures such as Levin et al.'s): the
// best PSNR over shifts of x by (dy, dx) with |dy|, |dx| <= maxShift, in steps of 1/subdivisions
// of a pixel, on ref's window without a border of max(shave, maxShift) pixels (so that every
// shift finds x's pixels); SSIM at that shift. A fractional shift samples x bilinearly. This is
// Levin et al.'s comp_upto_shift.m (their protocol: shave 15, maxShift 5, subdivisions 4).
// maxShift 0 is measure() with its reconstruction error.
struct AlignedQuality : Quality {
  double dy = 0, dx = 0; // the shift applied to x: x[y + dy, x + dx] is compared with ref[y, x]
};
AlignedQuality measureAligned(const Tensor& x, const Tensor& ref, int shave, int maxShift,
                              int subdivisions = 1);
// The border measureAligned leaves out of the reference: max(shave, maxShift) (shave when
// maxShift is 0). Callers check an image against it before a run's result is scored.
int64_t alignedBorder(int shave, int maxShift);
// The subdivisions of a search step of `step` pixels: n for step = 1/n with n in 1..16 (so that
// whole shifts stay on the grid), nullopt for anything else.
std::optional<int> alignSubdivisions(double step);

// The 11x11 window (sigma 1.5) the SSIM uses, row-major, sum 1 (MATLAB fspecial('gaussian')).
void ssimWindow(double window[121]);

} // namespace podm::io
