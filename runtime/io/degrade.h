// Making test data: blur kernels (Gaussian, motion, from files), the degradations of the paper's
// experiments (blur, decimation or bicubic downscaling, Gaussian noise), inpainting masks, Poisson
// noise, and deterministic synthetic images, so that every example runs without downloaded data.
// Randomness comes from a fixed generator (splitmix64, Box-Muller, Knuth/PTRS for Poisson), so a
// seed gives the same pixels on every platform.
#pragma once

#include "numerics/conv.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <string>

namespace podm::io {

// A blur kernel: 1x1xKHxKW, normalised to sum 1 by the constructors below.
// MATLAB fspecial('gaussian', size, sigma).
Tensor gaussianKernel(int size, double sigma);
// A line of `length` pixels at `angleDegrees` (counter-clockwise from the x axis), antialiased by
// sampling the segment densely with bilinear splatting (close to fspecial('motion')).
Tensor motionKernel(double length, double angleDegrees);
// A camera-shake kernel: a random 2-D path (a walk with inertia, jitter and sudden turns, after
// Boracchi & Foi's trajectory model) drawn from `seed`, splatted into an odd size x size support
// with its mean position at the centre, then trimmed. The kernels that training draws to resemble
// real hand shake (Levin et al.'s captures) without using any measured kernel.
Tensor shakeKernel(int size, uint64_t seed);
// Kernel files: text (one row per line, numbers separated by spaces/commas/tabs, as kernels12 and
// Levin's kernels), .npy, or an image (.png/.bmp/.tif). NaN or infinite entries (requireFinite)
// and negative ones are refused; the result is normalised to sum 1. Throws IoError.
Tensor readKernel(const std::string& path);
// The kernel rotated by 180 degrees: a correlation kernel as the kernel of a true convolution
// (docs/language.md, "Kernels").
Tensor flippedKernel(const Tensor& kernel);
// Text form, one row per line, full float precision (readable by readKernel and by MATLAB load).
void writeKernelText(const std::string& path, const Tensor& kernel);

// Every plane convolved with the kernel (true convolution, centre at (kh/2, kw/2), output size =
// input size), with the given boundary rule.
Tensor blur(const Tensor& image, const Tensor& kernel, numerics::Boundary boundary);
// Keep every s-th pixel from (0,0) (the model's S); output ceil(h/s) x ceil(w/s).
Tensor decimate(const Tensor& image, int s);
// MATLAB imresize(x, 1/s, 'bicubic') with antialiasing; the image must be a multiple of s.
Tensor bicubicDownscale(const Tensor& image, int s);
// Crops bottom/right so that both sides are multiples of s (MATLAB modcrop).
Tensor modcrop(const Tensor& image, int s);
// Adds i.i.d. N(0, sigma^2) noise; sigma is in the units of the image values (pass sigma255/255).
Tensor addGaussianNoise(const Tensor& image, double sigma, uint64_t seed);
// Poisson (shot) noise at `peak` photons for the value 1: x <- Poisson(peak * x) / peak, i.i.d.;
// values below 0 (or NaN) count as 0. Mean x, variance x / peak. Samples by Knuth's product of
// uniforms below a mean of 10 and by Hormann's PTRS (transformed rejection, exact) from 10 on.
Tensor addPoissonNoise(const Tensor& image, double peak, uint64_t seed);

// Inpainting masks are 1x1xHxW with 1 for a kept pixel and 0 for a dropped one.
// Exactly round(fraction * h * w) pixels kept, chosen uniformly at random (a partial Fisher-Yates
// shuffle) from `seed`; fraction in [0, 1].
Tensor randomMask(int64_t h, int64_t w, double fraction, uint64_t seed);
// A mask file: a gray image (any format readImage reads) whose nonzero pixels are kept. Throws
// IoError naming the file when it cannot be read or is not gray.
Tensor readMask(const std::string& path);
// Every plane of `image` times the mask; throws std::invalid_argument when the sizes differ.
Tensor applyMask(const Tensor& image, const Tensor& mask);
// A `--mask` value of podm degrade and podm eval: "random:FRACTION" returns FRACTION (0 < FRACTION
// <= 1; anything else after "random:" throws std::invalid_argument with a message); any other value
// is a mask file for readMask, and 0 is returned.
double maskFractionFromSpec(const std::string& spec);

// The pipeline of `podm degrade` and `podm eval`, in this order: blur with `kernel` (when not
// empty) under `boundary`, decimation or bicubic downscaling by `scale`, the mask, Poisson noise
// at `poissonPeak`, Gaussian noise of `noise255` (0-255 scale). The mask is `mask` when given (of
// the downscaled size; `maskName` names it in errors), else a random one keeping `maskFraction`
// of the pixels when that is > 0; noise falls on the kept pixels only, dropped ones stay 0 (they
// are not observed). Mask, Poisson and Gaussian noise each draw from their own stream of `seed`.
// The image must already be a multiple of the scale (modcrop). Colour images are degraded plane
// by plane, under one mask.
struct Degradation {
  Tensor kernel;
  numerics::Boundary boundary = numerics::Boundary::Periodic;
  // Correlation: the blur is a correlation with `kernel` (a convolution with it flipped), as
  // `conv(k, as = "correlation")` models it.
  numerics::KernelOrientation orientation = numerics::KernelOrientation::Convolution;
  enum class Downscale { None, Decimate, Bicubic } downscale = Downscale::None;
  int scale = 1;
  Tensor mask;
  std::string maskName = "the mask";
  double maskFraction = 0;
  double poissonPeak = 0;
  double noise255 = 0;
  uint64_t seed = 0;

  bool masked() const { return !mask.empty() || maskFraction > 0; }
};
// Throws IoError (naming `maskName`) when a given mask is not the size of the downscaled image.
// `maskUsed`, when given, receives the mask applied (empty without one).
Tensor degrade(const Tensor& image, const Degradation& d, Tensor* maskUsed = nullptr);

// A kernel from a `--blur` spec: "gaussian:SIZE:SIGMA", "motion:LENGTH:ANGLE" or
// "shake:SIZE:SEED". Throws std::invalid_argument with a message for a malformed spec or bad
// numbers.
Tensor kernelFromSpec(const std::string& spec);

// Synthetic images: "scene" (gray) or "scene-rgb" (colour), h x w, values in [0,1]: a smooth
// gradient background, antialiased shapes with sharp edges, stripes, and band-limited texture.
// Deterministic in (name, h, w, seed). Throws std::invalid_argument for an unknown name.
Tensor syntheticImage(const std::string& name, int64_t h, int64_t w, uint64_t seed = 1);
// The names syntheticImage accepts, for help texts.
const char* syntheticNames();

} // namespace podm::io
