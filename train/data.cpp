// Image folders, the validation split, crops/augmentations and degradations (see data.h). Noise
// reuses io::addGaussianNoise with a per-sample seed drawn from the sampler's generator, so the
// noise is as portable as the rest of podm's degradations.
#include "train/data.h"

#include "numerics/conv.h"
#include "runtime/io/color.h"
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace podm::train {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool isImageExtension(const fs::path& p) {
  std::string ext = lower(p.extension().string());
  return ext == ".png" || ext == ".tif" || ext == ".tiff" || ext == ".bmp" || ext == ".jpg" ||
         ext == ".jpeg";
}

std::vector<fs::path> sortedFiles(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw DataError(dir + ": not a folder");
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file())
      files.push_back(e.path());
  if (ec)
    throw DataError(dir + ": cannot list the folder: " + ec.message());
  // By file name only, so the order (and hence the split) does not depend on the folder's path.
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return files;
}

// Uniform integer in [0, n) from 64 random bits; the modulo bias is below 2^-40 for our sizes and
// the mapping is fixed, unlike std::uniform_int_distribution whose algorithm is unspecified.
int64_t uniformIndex(std::mt19937_64& rng, int64_t n) {
  return static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
}

double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

// Square crop of `src` at (y0, x0), then `flip` (mirror columns) and `rot` quarter turns
// (counter-clockwise), written into `dst` (side x side).
void cropInto(const Tensor& src, int64_t y0, int64_t x0, int64_t side, bool flip, int rot,
              float* dst) {
  const int64_t w = src.shape().w;
  const float* s = src.data();
  for (int64_t y = 0; y < side; ++y)
    for (int64_t x = 0; x < side; ++x) {
      // Inverse map: destination (y, x) reads source (sy, sx) of the flipped crop.
      int64_t sy = y, sx = x;
      for (int r = 0; r < rot; ++r) {
        int64_t t = sy;
        sy = sx;
        sx = side - 1 - t;
      }
      if (flip)
        sx = side - 1 - sx;
      dst[y * side + x] = s[(y0 + sy) * w + (x0 + sx)];
    }
}

Tensor degrade(const Tensor& clean, const Degradation& d, const Tensor* kernel, double sigma255,
               uint64_t noiseSeed) {
  Tensor out = clean;
  if (kernel)
    out = io::blur(out, *kernel, numerics::Boundary::Periodic);
  if (d.decimate > 1)
    out = io::decimate(out, d.decimate);
  if (sigma255 > 0)
    out = io::addGaussianNoise(out, sigma255 / 255.0, noiseSeed);
  else if (out.data() == clean.data())
    out = out.clone();
  return out;
}

} // namespace

std::vector<NamedImage> loadImageFolder(const std::string& dir, std::vector<std::string>* skipped) {
  std::vector<NamedImage> images;
  for (const fs::path& p : sortedFiles(dir)) {
    if (!isImageExtension(p)) {
      if (skipped)
        skipped->push_back(p.string());
      continue;
    }
    NamedImage n;
    n.path = p.string();
    try {
      n.image = io::luma(io::readImage(n.path));
    } catch (const std::exception& e) {
      // io errors already start with the file name.
      std::string what = e.what();
      throw DataError(what.rfind(n.path, 0) == 0 ? what : n.path + ": " + what);
    }
    images.push_back(std::move(n));
  }
  if (images.empty())
    throw DataError(dir + ": no training images (PNG, TIFF, BMP or JPEG) in the folder");
  return images;
}

Split splitByName(size_t count, size_t valCount) {
  if (count < valCount + 1)
    throw DataError("a validation split of " + std::to_string(valCount) +
                    " image(s) needs at least " + std::to_string(valCount + 1) +
                    " images, the folder has " + std::to_string(count));
  Split s;
  std::vector<bool> held(count, false);
  for (size_t j = 0; j < valCount; ++j)
    held[static_cast<size_t>((static_cast<double>(j) + 0.5) * static_cast<double>(count) /
                             static_cast<double>(valCount))] = true;
  for (size_t i = 0; i < count; ++i)
    (held[i] ? s.val : s.train).push_back(i);
  return s;
}

Tensor kernelFromSpec(const std::string& spec) {
  // One parser of blur specs for podm degrade, podm eval and training (runtime/io/degrade.h).
  try {
    return io::kernelFromSpec(spec);
  } catch (const std::exception& e) {
    throw DataError("blur '" + spec + "': " + e.what());
  }
}

std::vector<Tensor> loadKernelFolder(const std::string& dir) {
  std::vector<Tensor> kernels;
  for (const fs::path& p : sortedFiles(dir)) {
    try {
      kernels.push_back(io::readKernel(p.string()));
    } catch (const std::exception& e) {
      throw DataError(p.string() + ": not a blur kernel: " + e.what());
    }
  }
  if (kernels.empty())
    throw DataError(dir + ": no kernel files in the folder");
  return kernels;
}

std::vector<Tensor> trainingKernels(const std::string& spec, uint64_t seed) {
  if (!spec.starts_with("shake:"))
    return loadKernelFolder(spec);
  // COUNT:SIZE, two decimal numbers and nothing else.
  long count = 0, size = 0;
  const char* end = spec.data() + spec.size();
  auto [afterCount, e1] = std::from_chars(spec.data() + 6, end, count);
  const bool parsed = e1 == std::errc() && afterCount < end && *afterCount == ':' &&
                      std::from_chars(afterCount + 1, end, size).ptr == end;
  if (!parsed || count < 1 || count > 100000 || size < 3 || size > 255 || size % 2 == 0)
    throw DataError("--kernels '" + spec +
                    "': expected shake:COUNT:SIZE with COUNT in 1..100000 and an odd SIZE in "
                    "3..255");
  std::vector<Tensor> kernels;
  kernels.reserve(size_t(count));
  for (long i = 0; i < count; ++i)
    kernels.push_back(io::shakeKernel(int(size), seed * 1000003u + uint64_t(i)));
  return kernels;
}

BatchSampler::BatchSampler(const std::vector<const NamedImage*>& images, SamplerOptions options,
                           Degradation degradation, uint64_t seed)
    : images_(images), options_(options), degradation_(std::move(degradation)), rng_(seed) {
  if (images_.empty())
    throw DataError("no training images");
  if (options_.crop < 1)
    throw DataError("the crop size must be at least 1");
  if (degradation_.decimate < 1 || options_.crop % degradation_.decimate != 0)
    throw DataError("the crop size " + std::to_string(options_.crop) +
                    " must be a multiple of the decimation factor " +
                    std::to_string(degradation_.decimate));
  if (degradation_.sigmaLow < 0 || degradation_.sigmaHigh < degradation_.sigmaLow)
    throw DataError("the noise range must satisfy 0 <= low <= high");
  for (const NamedImage* im : images_)
    if (im->image.shape().h < options_.crop || im->image.shape().w < options_.crop)
      throw DataError(im->path + ": image is " + std::to_string(im->image.shape().h) + "x" +
                      std::to_string(im->image.shape().w) + ", smaller than the crop " +
                      std::to_string(options_.crop) + "x" + std::to_string(options_.crop));
}

Batch BatchSampler::next(int64_t n) {
  const int64_t side = options_.crop;
  const int64_t low = side / degradation_.decimate;
  Batch b{Tensor(Shape{n, 1, side, side}), Tensor(Shape{n, 1, low, low})};
  for (int64_t i = 0; i < n; ++i) {
    // A fixed number of draws per sample, whatever the options, so turning an augmentation off
    // changes the samples it affects but not the alignment of the stream.
    const NamedImage& im =
        *images_[static_cast<size_t>(uniformIndex(rng_, static_cast<int64_t>(images_.size())))];
    int64_t y0 = uniformIndex(rng_, im.image.shape().h - side + 1);
    int64_t x0 = uniformIndex(rng_, im.image.shape().w - side + 1);
    bool flip = (rng_() & 1) && options_.flips;
    int rot = options_.rotations ? static_cast<int>(rng_() & 3) : (rng_(), 0);
    double u = uniform01(rng_);
    uint64_t kernelDraw = rng_();
    uint64_t noiseSeed = rng_();
    Tensor clean = Tensor::image(side, side);
    cropInto(im.image, y0, x0, side, flip, rot, clean.data());
    std::memcpy(b.clean.data() + i * side * side, clean.data(), clean.bytes());
    double sigma = degradation_.sigmaLow + u * (degradation_.sigmaHigh - degradation_.sigmaLow);
    const Tensor* kernel = degradation_.kernels.empty()
                               ? nullptr
                               : &degradation_.kernels[kernelDraw % degradation_.kernels.size()];
    Tensor one = degrade(clean, degradation_, kernel, sigma, noiseSeed);
    std::memcpy(b.degraded.data() + i * low * low, one.data(), one.bytes());
  }
  return b;
}

std::string BatchSampler::state() const {
  std::ostringstream out;
  out << rng_;
  return out.str();
}

void BatchSampler::setState(const std::string& text) {
  std::istringstream in(text);
  std::mt19937_64 restored;
  in >> restored;
  if (in.fail())
    throw DataError("the saved random-generator state is malformed");
  rng_ = restored;
}

std::vector<Batch> validationSet(const std::vector<const NamedImage*>& images, int64_t crop,
                                 const Degradation& degradation) {
  std::vector<Batch> out;
  const int s = std::max(1, degradation.decimate);
  double sigma = 0.5 * (degradation.sigmaLow + degradation.sigmaHigh);
  for (size_t i = 0; i < images.size(); ++i) {
    const Tensor& im = images[i]->image;
    int64_t h = im.shape().h, w = im.shape().w;
    int64_t ch = crop > 0 ? std::min(crop, h) : h, cw = crop > 0 ? std::min(crop, w) : w;
    ch -= ch % s;
    cw -= cw % s;
    if (ch < s || cw < s)
      throw DataError(images[i]->path + ": image too small for the decimation factor");
    Tensor clean(Shape{1, 1, ch, cw});
    int64_t y0 = (h - ch) / 2, x0 = (w - cw) / 2;
    for (int64_t y = 0; y < ch; ++y)
      std::memcpy(clean.data() + y * cw, im.data() + (y0 + y) * w + x0,
                  static_cast<size_t>(cw) * sizeof(float));
    const Tensor* kernel = degradation.kernels.empty() ? nullptr : &degradation.kernels.front();
    // Fixed seeds per position: the same noisy validation images in every run.
    Tensor noisy = degrade(clean, degradation, kernel, sigma, 0x9e3779b97f4a7c15ull + i);
    out.push_back({clean, noisy});
  }
  return out;
}

Tensor sample(const Tensor& batch, int64_t i) {
  const Shape& s = batch.shape();
  Tensor one(Shape{1, s.c, s.h, s.w});
  std::memcpy(one.data(), batch.data() + i * s.c * s.h * s.w, one.bytes());
  return one;
}

} // namespace podm::train
