// Training data for `podm train`: a folder of images (PNG, TIFF, BMP; colour reduced to the
// BT.601 Y channel the models restore), a fixed validation split, random crops with flips and
// 90-degree rotations, and the synthetic degradations of the paper's experiments (Gaussian noise
// at a level or a range of levels, blur by generated or file kernels, decimation), batched as
// N x 1 x h x w tensors.
//
// Everything random draws from one explicit std::mt19937_64 owned by the sampler (no global
// state), so a seed fixes the whole sequence of batches, and the generator's state can be saved in
// a checkpoint and restored to continue the same sequence bit for bit.
#pragma once

#include "runtime/tensor.h"

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace podm::train {

// Bad training data (empty folder, unreadable image, crop larger than an image): the message names
// the file or folder and the problem.
class DataError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct NamedImage {
  std::string path;
  Tensor image; // 1 x 1 x H x W, values in [0, 1]
};

// The images of `dir` (not recursive) with a .png, .tif, .tiff, .bmp, .jpg or .jpeg extension
// (case-insensitive), sorted by file name, each read as gray or reduced to Y. Other files are
// skipped and their names returned in `skipped` (a folder with notes or .npy arrays beside the
// images is normal). Throws DataError when the folder is missing, holds no readable-format image,
// or an image cannot be decoded (naming the file).
std::vector<NamedImage> loadImageFolder(const std::string& dir,
                                        std::vector<std::string>* skipped = nullptr);

// A deterministic split of a folder sorted by name: `valCount` images spread evenly over the list
// (index floor((j + 0.5) * n / valCount)) are held out, the rest train. Depends only on the sorted
// names, never on a seed, so every run of a project validates on the same images. Throws DataError
// when fewer than valCount + 1 images are given.
struct Split {
  std::vector<size_t> train, val; // indices into the folder's list, ascending
};
Split splitByName(size_t count, size_t valCount);

// How a clean crop becomes a network input. Noise sigmas are on the 0-255 scale; sigmaHigh >
// sigmaLow draws each sample's level uniformly from [sigmaLow, sigmaHigh].
struct Degradation {
  double sigmaLow = 0, sigmaHigh = 0;
  std::vector<Tensor> kernels; // blur kernels, one drawn per sample; empty = no blur
  int decimate = 1;            // keep every s-th pixel after the blur
};

// Generated kernels (runtime/io degrade): "gaussian:SIZE:SIGMA" or "motion:LEN:ANGLE".
// Throws DataError on a malformed specification.
Tensor kernelFromSpec(const std::string& spec);
// Every kernel file of a folder (text, one row per line; also .npy and images), sorted by name.
std::vector<Tensor> loadKernelFolder(const std::string& dir);
// `--kernels` of training: "shake:COUNT:SIZE" draws COUNT camera-shake kernels of support up to
// SIZE (io::shakeKernel, kernel i from a seed derived from `seed` and i); anything else is a
// folder for loadKernelFolder. Throws DataError.
std::vector<Tensor> trainingKernels(const std::string& spec, uint64_t seed);

struct SamplerOptions {
  int64_t crop = 40;     // side of the square clean crop
  bool flips = true;     // random horizontal flip
  bool rotations = true; // random rotation by a multiple of 90 degrees
};

// One batch: clean targets N x 1 x crop x crop and their degraded versions (N x 1 x crop/s x
// crop/s; the same size when there is no decimation).
struct Batch {
  Tensor clean, degraded;
};

class BatchSampler {
public:
  // `images` must outlive the sampler. Throws DataError naming the first image smaller than the
  // crop, and when the crop is not a multiple of the decimation factor.
  BatchSampler(const std::vector<const NamedImage*>& images, SamplerOptions options,
               Degradation degradation, uint64_t seed);

  // Draws `n` samples: image uniformly, crop position uniformly, then flip and rotation, then
  // the degradation. Advances the generator by a fixed pattern per sample kind.
  Batch next(int64_t n);

  // The generator's full state as text (std::mt19937_64's stream format) and back; restoring a
  // saved state makes next() continue the same sequence. setState throws DataError on bad text.
  std::string state() const;
  void setState(const std::string& text);

private:
  std::vector<const NamedImage*> images_;
  SamplerOptions options_;
  Degradation degradation_;
  std::mt19937_64 rng_;
};

// The fixed validation set: the centre crop (side `crop`, or the whole image when crop <= 0 or
// larger than the image) of each image, degraded with noise from a seed fixed per image position
// (independent of the training seed, so validation figures are comparable across runs). Blur
// uses the first kernel of the degradation. Returned one pair per image (batch size 1, since
// sizes may differ).
std::vector<Batch> validationSet(const std::vector<const NamedImage*>& images, int64_t crop,
                                 const Degradation& degradation);

// Sample i of a batch as its own 1 x C x h x w tensor (a copy: kernels may expect the aligned
// start of a storage, which a view into the middle of a batch would not give).
Tensor sample(const Tensor& batch, int64_t i);

} // namespace podm::train
