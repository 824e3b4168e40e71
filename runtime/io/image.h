// Image and array files for podm runs: PNG, TIFF, BMP, JPEG and NumPy .npy in, PNG/TIFF/.npy out,
// as podm::Tensor (1 x C x H x W, float32, planar). Integer pixels become floats in [0,1]; float
// data
// (.npy, float TIFF) is returned as stored. Every write is atomic (see atomic_file.h), so a crashed
// or failed run never leaves a half-written result. Conventions are documented in docs/io.md.
#pragma once

#include "runtime/tensor.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace podm::io {

// Every read/write failure: the message starts with the file name and says what is wrong.
class IoError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Limits checked before anything is allocated, so a corrupt or hostile header cannot make us
// allocate gigabytes: at most kMaxSide pixels per side and kMaxValues values (H*W*C) per image.
inline constexpr int64_t kMaxSide = 1 << 16;
inline constexpr int64_t kMaxValues = int64_t{1} << 28; // 1 GiB of float32
// Files larger than this are refused before they are read.
inline constexpr int64_t kMaxFileBytes = int64_t{1} << 31;

enum class FileFormat { Png, Tiff, Bmp, Jpeg, Npy, Unknown };
const char* formatName(FileFormat format);
// By the leading bytes (magic numbers), not by the extension.
FileFormat sniffFormat(const std::string& path);
// By the extension (.png .tif .tiff .bmp .jpg .jpeg .npy, case-insensitive); Unknown for anything
// else.
FileFormat formatFromExtension(const std::string& path);

struct ImageInfo {
  FileFormat format = FileFormat::Unknown;
  int bitDepth = 0;          // bits per stored sample: 8, 16, 32 (float), 64 (npy float64)
  int storedChannels = 0;    // channels in the file, alpha included
  bool hadAlpha = false;     // alpha was present and dropped
  bool floatSamples = false; // values returned as stored, not scaled to [0,1]
  bool progressive = false;  // JPEG: progressive (multi-scan) rather than baseline coding
};

// Reads any supported file. Result: 1 x C x H x W with C = 1 (gray) or 3 (RGB); alpha is dropped,
// palettes are expanded (to gray when every palette entry is gray), 16-bit samples keep their full
// precision (v / 65535). Non-finite float samples are refused (requireFinite). Throws IoError.
Tensor readImage(const std::string& path, ImageInfo* info = nullptr);

// Refuses an image with NaN or infinite samples, which would run silently to a NaN result: the
// IoError names `name`, counts the NaN and Inf values and gives the first (in row, column, channel
// order, counted from 0). readImage applies it to float samples (.npy, float TIFF).
void requireFinite(const Tensor& image, const std::string& name);

// Decoders on bytes already in memory (`name` is used in messages only); readImage calls these.
Tensor decodePng(const uint8_t* bytes, size_t size, const std::string& name, ImageInfo* info);
Tensor decodeTiff(const uint8_t* bytes, size_t size, const std::string& name, ImageInfo* info);
Tensor decodeBmp(const uint8_t* bytes, size_t size, const std::string& name, ImageInfo* info);
// Baseline or progressive, gray or YCbCr/RGB (CMYK and other colour spaces are refused), 8-bit.
// Data that libjpeg can only guess at (truncated or corrupt entropy-coded data) is an error.
Tensor decodeJpeg(const uint8_t* bytes, size_t size, const std::string& name, ImageInfo* info);
Tensor decodeNpy(const uint8_t* bytes, size_t size, const std::string& name, ImageInfo* info);

// Writers. The tensor must be 1 x C x H x W with C = 1 or 3 (npy also any C: HxWxC, or HxW for
// C = 1). PNG clamps to [0,1] and rounds to 8 or 16 bits; TIFF stores float32 as is; npy stores
// float32 ('<f4', C order) as is.
void writePng(const std::string& path, const Tensor& image, int bitDepth = 8);
void writeTiff(const std::string& path, const Tensor& image);
void writeNpy(const std::string& path, const Tensor& image);
// Chooses the writer by extension (.png, .tif/.tiff, .npy); pngBitDepth applies to .png only.
// JPEG is read but never written: a restoration saved lossily would be scored on the codec's
// artefacts, so .jpg/.jpeg outputs are refused with an IoError that says so.
void writeImage(const std::string& path, const Tensor& image, int pngBitDepth = 8);
// Why writeImage(path) would refuse `path` (its extension, then fileOutputProblem), or nullopt:
// for checking an output before the work that produces it.
std::optional<std::string> imageOutputProblem(const std::string& path);

// The whole file, refusing files over kMaxFileBytes; throws IoError naming the file.
std::string readFileBytes(const std::string& path);

} // namespace podm::io
