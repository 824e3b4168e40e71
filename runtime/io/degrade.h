// Making test data: blur kernels (Gaussian, motion, from files), the degradations of the paper's
// experiments (blur, decimation or bicubic downscaling, Gaussian noise) and deterministic synthetic
// images, so that every example runs without downloaded data. Randomness comes from a fixed
// generator (splitmix64 + Box-Muller), so a seed gives the same pixels on every platform.
#pragma once

#include "runtime/cpu/kernels/conv.h"
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
// Kernel files: text (one row per line, numbers separated by spaces/commas/tabs, as kernels12 and
// Levin's kernels), .npy, or an image (.png/.bmp/.tif). NaN or infinite entries (requireFinite)
// and negative ones are refused; the result is normalised to sum 1. Throws IoError.
Tensor readKernel(const std::string& path);
// Text form, one row per line, full float precision (readable by readKernel and by MATLAB load).
void writeKernelText(const std::string& path, const Tensor& kernel);

// Every plane convolved with the kernel (true convolution, centre at (kh/2, kw/2), output size =
// input size), with the given boundary rule.
Tensor blur(const Tensor& image, const Tensor& kernel, cpu::Boundary boundary);
// Keep every s-th pixel from (0,0) (the model's S); output ceil(h/s) x ceil(w/s).
Tensor decimate(const Tensor& image, int s);
// MATLAB imresize(x, 1/s, 'bicubic') with antialiasing; the image must be a multiple of s.
Tensor bicubicDownscale(const Tensor& image, int s);
// Crops bottom/right so that both sides are multiples of s (MATLAB modcrop).
Tensor modcrop(const Tensor& image, int s);
// Adds i.i.d. N(0, sigma^2) noise; sigma is in the units of the image values (pass sigma255/255).
Tensor addGaussianNoise(const Tensor& image, double sigma, uint64_t seed);

// Synthetic images: "scene" (gray) or "scene-rgb" (colour), h x w, values in [0,1]: a smooth
// gradient background, antialiased shapes with sharp edges, stripes, and band-limited texture.
// Deterministic in (name, h, w, seed). Throws std::invalid_argument for an unknown name.
Tensor syntheticImage(const std::string& name, int64_t h, int64_t w, uint64_t seed = 1);
// The names syntheticImage accepts, for help texts.
const char* syntheticNames();

} // namespace podm::io
