// File dispatch, the BMP and .npy codecs (small enough to own), and the size checks every decoder
// shares. PNG and TIFF go through libpng/libtiff in png_tiff.cpp, JPEG through libjpeg in jpeg.cpp.
#include "runtime/io/image.h"

#include "runtime/io/atomic_file.h"
#include "runtime/io/image_internal.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <sys/stat.h>
#include <vector>

namespace podm::io {

const char* formatName(FileFormat format) {
  switch (format) {
  case FileFormat::Png:
    return "PNG";
  case FileFormat::Tiff:
    return "TIFF";
  case FileFormat::Bmp:
    return "BMP";
  case FileFormat::Jpeg:
    return "JPEG";
  case FileFormat::Npy:
    return "NPY";
  case FileFormat::Unknown:
    break;
  }
  return "unknown";
}

namespace detail {

void checkDimensions(const std::string& name, int64_t h, int64_t w, int64_t c) {
  if (h <= 0 || w <= 0 || c <= 0)
    throw IoError(name + ": invalid image size " + std::to_string(h) + "x" + std::to_string(w) +
                  "x" + std::to_string(c));
  if (h > kMaxSide || w > kMaxSide || c > 4096 || h * w * c > kMaxValues)
    throw IoError(name + ": image size " + std::to_string(h) + "x" + std::to_string(w) + "x" +
                  std::to_string(c) + " exceeds the limit (" + std::to_string(kMaxSide) +
                  " per side, " + std::to_string(kMaxValues) + " values)");
}

} // namespace detail

namespace {

FileFormat sniffBytes(const uint8_t* b, size_t n) {
  if (n >= 8 && std::memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
    return FileFormat::Png;
  if (n >= 4 && (std::memcmp(b, "II*\0", 4) == 0 || std::memcmp(b, "MM\0*", 4) == 0 ||
                 std::memcmp(b, "II+\0", 4) == 0 || std::memcmp(b, "MM\0+", 4) == 0))
    return FileFormat::Tiff;
  if (n >= 2 && b[0] == 'B' && b[1] == 'M')
    return FileFormat::Bmp;
  if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) // SOI, then the next marker
    return FileFormat::Jpeg;
  if (n >= 6 && std::memcmp(b, "\x93NUMPY", 6) == 0)
    return FileFormat::Npy;
  return FileFormat::Unknown;
}

uint32_t le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint16_t le16(const uint8_t* p) {
  return uint16_t(p[0] | p[1] << 8);
}

} // namespace

std::string readFileBytes(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw IoError(path + ": cannot open: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    throw IoError(path + ": is a directory");
  if (st.st_size > kMaxFileBytes)
    throw IoError(path + ": file is too large (" + std::to_string(st.st_size) + " bytes, limit " +
                  std::to_string(kMaxFileBytes) + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw IoError(path + ": cannot open: " + std::strerror(errno));
  // Sized by stat and read in one call (a stream copy grew and copied a 1 MB file four times);
  // a file that grew since the stat is read on in chunks, under the same limit.
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  char chunk[65536];
  while (in && (in.read(chunk, sizeof chunk), in.gcount() > 0)) {
    bytes.append(chunk, static_cast<size_t>(in.gcount()));
    if (bytes.size() > static_cast<size_t>(kMaxFileBytes))
      throw IoError(path + ": file is too large (limit " + std::to_string(kMaxFileBytes) +
                    " bytes)");
  }
  if (in.bad())
    throw IoError(path + ": read error");
  return bytes;
}

FileFormat sniffFormat(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  uint8_t head[8] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  return sniffBytes(head, static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
}

FileFormat formatFromExtension(const std::string& path) {
  size_t dot = path.find_last_of('.');
  size_t slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return FileFormat::Unknown;
  std::string ext = path.substr(dot + 1);
  for (char& ch : ext)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (ext == "png")
    return FileFormat::Png;
  if (ext == "tif" || ext == "tiff")
    return FileFormat::Tiff;
  if (ext == "bmp")
    return FileFormat::Bmp;
  if (ext == "jpg" || ext == "jpeg")
    return FileFormat::Jpeg;
  if (ext == "npy")
    return FileFormat::Npy;
  return FileFormat::Unknown;
}

void requireFinite(const Tensor& image, const std::string& name) {
  const Shape& s = image.shape();
  const float* d = image.data();
  // One branch-free pass (it vectorizes) decides; only a bad file pays for the located search.
  int64_t notFinite = 0;
  for (int64_t i = 0, n = image.numel(); i < n; ++i)
    notFinite += !(std::fabs(d[i]) <= std::numeric_limits<float>::max());
  if (notFinite == 0)
    return;
  int64_t nans = 0, infs = 0, row = -1, col = 0, ch = 0;
  // In reading order (row, column, channel), as a user sees the file, not the planar storage.
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t y = 0; y < s.h; ++y)
      for (int64_t x = 0; x < s.w; ++x)
        for (int64_t c = 0; c < s.c; ++c) {
          const float v = d[((n * s.c + c) * s.h + y) * s.w + x];
          if (std::isfinite(v))
            continue;
          (std::isnan(v) ? nans : infs) += 1;
          if (row < 0) {
            row = y;
            col = x;
            ch = c;
          }
        }
  if (row < 0)
    return;
  throw IoError(name + ": " + std::to_string(nans + infs) + " of " + std::to_string(image.numel()) +
                " values are not finite (" + std::to_string(nans) + " NaN, " +
                std::to_string(infs) + " Inf); the first is at row " + std::to_string(row) +
                ", column " + std::to_string(col) + ", channel " + std::to_string(ch) +
                " (counted from 0); inputs must be finite numbers");
}

namespace {

Tensor decodeAny(const std::string& bytes, const std::string& path, ImageInfo* out) {
  const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
  switch (sniffBytes(b, bytes.size())) {
  case FileFormat::Png:
    return decodePng(b, bytes.size(), path, out);
  case FileFormat::Tiff:
    return decodeTiff(b, bytes.size(), path, out);
  case FileFormat::Bmp:
    return decodeBmp(b, bytes.size(), path, out);
  case FileFormat::Jpeg:
    return decodeJpeg(b, bytes.size(), path, out);
  case FileFormat::Npy:
    return decodeNpy(b, bytes.size(), path, out);
  case FileFormat::Unknown:
    break;
  }
  if (bytes.empty())
    throw IoError(path + ": file is empty");
  throw IoError(path + ": unsupported file format (expected PNG, TIFF, BMP, JPEG or NumPy .npy)");
}

} // namespace

Tensor readImage(const std::string& path, ImageInfo* info) {
  std::string bytes = readFileBytes(path);
  ImageInfo local;
  ImageInfo* out = info ? info : &local;
  *out = ImageInfo{};
  Tensor image = decodeAny(bytes, path, out);
  // Integer samples are finite by construction; only stored floats can carry NaN or Inf.
  if (out->floatSamples)
    requireFinite(image, path);
  return image;
}

// ---- BMP: BITMAPFILEHEADER + BITMAPINFOHEADER (or V4/V5), uncompressed 8/24/32-bit. ----

Tensor decodeBmp(const uint8_t* b, size_t n, const std::string& name, ImageInfo* info) {
  if (n < 26)
    throw IoError(name + ": truncated BMP header");
  uint32_t dataOffset = le32(b + 10);
  uint32_t dibSize = le32(b + 14);
  if (dibSize != 40 && dibSize != 52 && dibSize != 56 && dibSize != 108 && dibSize != 124)
    throw IoError(name + ": unsupported BMP header (size " + std::to_string(dibSize) +
                  "; only Windows BITMAPINFOHEADER/V4/V5 are read)");
  if (n < 14 + size_t{dibSize})
    throw IoError(name + ": truncated BMP header");
  int64_t w = static_cast<int32_t>(le32(b + 18));
  int64_t hSigned = static_cast<int32_t>(le32(b + 22));
  uint16_t planes = le16(b + 26), bpp = le16(b + 28);
  uint32_t compression = le32(b + 30);
  uint32_t colorsUsed = le32(b + 46);
  bool topDown = hSigned < 0;
  int64_t h = topDown ? -hSigned : hSigned;
  if (planes != 1)
    throw IoError(name + ": corrupt BMP header (planes = " + std::to_string(planes) + ")");
  // BI_BITFIELDS (3) is accepted for 32-bit only with the standard BGRA masks.
  if (compression != 0 && !(compression == 3 && bpp == 32))
    throw IoError(name + ": compressed BMP (method " + std::to_string(compression) +
                  ") is not supported; save it uncompressed");
  if (bpp != 8 && bpp != 24 && bpp != 32)
    throw IoError(name + ": " + std::to_string(bpp) +
                  "-bit BMP is not supported (8, 24 and 32-bit are)");
  detail::checkDimensions(name, h, w, 1);
  int64_t rowBytes = (w * bpp / 8 + 3) / 4 * 4;
  if (dataOffset > n || static_cast<int64_t>(n - dataOffset) < rowBytes * h)
    throw IoError(name + ": truncated BMP pixel data (" + std::to_string(h) + "x" +
                  std::to_string(w) + " needs " + std::to_string(rowBytes * h) + " bytes)");

  std::vector<uint8_t> palette; // BGRx entries
  bool grayPalette = true;
  if (bpp == 8) {
    size_t count = colorsUsed == 0 ? 256 : colorsUsed;
    size_t palOffset = 14 + size_t{dibSize};
    if (count > 256 || palOffset + 4 * count > dataOffset)
      throw IoError(name + ": corrupt BMP palette");
    palette.assign(b + palOffset, b + palOffset + 4 * count);
    palette.resize(4 * 256, 0); // out-of-range indices read black rather than past the end
    for (size_t i = 0; i < count; ++i)
      grayPalette &= palette[4 * i] == palette[4 * i + 1] && palette[4 * i] == palette[4 * i + 2];
  }
  int64_t c = (bpp == 8 && grayPalette) ? 1 : 3;
  Tensor t(Shape{1, c, h, w});
  float* d = t.data();
  int64_t plane = h * w;
  for (int64_t y = 0; y < h; ++y) {
    const uint8_t* row = b + dataOffset + (topDown ? y : h - 1 - y) * rowBytes;
    for (int64_t x = 0; x < w; ++x) {
      const uint8_t* px;
      if (bpp == 8)
        px = &palette[4 * size_t{row[x]}];
      else
        px = row + x * (bpp / 8);
      if (c == 1) {
        d[y * w + x] = px[0] / 255.0f;
      } else {
        d[y * w + x] = px[2] / 255.0f; // stored B, G, R
        d[plane + y * w + x] = px[1] / 255.0f;
        d[2 * plane + y * w + x] = px[0] / 255.0f;
      }
    }
  }
  info->format = FileFormat::Bmp;
  info->bitDepth = 8;
  info->storedChannels = bpp == 8 ? 1 : bpp / 8;
  info->hadAlpha = bpp == 32;
  return t;
}

// ---- NumPy .npy, format versions 1-3: a Python dict literal header, then raw C-order data. ----

namespace {

// The value of 'key': ... in the header dict, up to the next top-level comma or closing brace.
std::string dictValue(const std::string& header, const std::string& key, const std::string& name) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos)
    throw IoError(name + ": .npy header has no '" + key + "'");
  size_t colon = header.find(':', k);
  if (colon == std::string::npos)
    throw IoError(name + ": corrupt .npy header");
  size_t i = colon + 1;
  while (i < header.size() && header[i] == ' ')
    ++i;
  int depth = 0;
  size_t j = i;
  for (; j < header.size(); ++j) {
    char ch = header[j];
    if (ch == '(')
      ++depth;
    else if (ch == ')')
      --depth;
    else if ((ch == ',' || ch == '}') && depth == 0)
      break;
  }
  return header.substr(i, j - i);
}

} // namespace

Tensor decodeNpy(const uint8_t* b, size_t n, const std::string& name, ImageInfo* info) {
  if (n < 10)
    throw IoError(name + ": truncated .npy header");
  uint8_t major = b[6];
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = le16(b + 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (n < 12)
      throw IoError(name + ": truncated .npy header");
    headerLen = le32(b + 8);
    headerStart = 12;
  } else {
    throw IoError(name + ": unsupported .npy format version " + std::to_string(major));
  }
  if (headerLen > n - headerStart)
    throw IoError(name + ": truncated .npy header");
  std::string header(reinterpret_cast<const char*>(b + headerStart), headerLen);
  std::string descr = dictValue(header, "descr", name);
  std::string fortran = dictValue(header, "fortran_order", name);
  std::string shapeText = dictValue(header, "shape", name);
  if (fortran.rfind("False", 0) != 0)
    throw IoError(name + ": Fortran-order .npy arrays are not supported (save with C order)");
  if (descr.size() < 5 || (descr.front() != '\'' && descr.front() != '"'))
    throw IoError(name + ": corrupt .npy dtype " + descr);
  std::string dt = descr.substr(1, descr.size() - 2);
  char endian = dt.empty() ? '?' : dt[0];
  std::string kind = dt.size() > 1 ? dt.substr(1) : "";
  int itemBytes;
  if (kind == "f4" || kind == "f8" || kind == "u1" || kind == "u2")
    itemBytes = kind[1] - '0';
  else
    throw IoError(name + ": unsupported .npy dtype '" + dt +
                  "' (float32, float64, uint8 and uint16 are read)");
  if (endian != '<' && endian != '>' && endian != '|' && endian != '=')
    throw IoError(name + ": corrupt .npy dtype '" + dt + "'");
  bool swap = (endian == '>') != (std::endian::native == std::endian::big) && itemBytes > 1;

  std::vector<int64_t> dims;
  if (shapeText.empty() || shapeText.front() != '(' || shapeText.back() != ')')
    throw IoError(name + ": corrupt .npy shape " + shapeText);
  std::string inner = shapeText.substr(1, shapeText.size() - 2);
  std::stringstream ss(inner);
  for (std::string item; std::getline(ss, item, ',');) {
    item.erase(std::remove(item.begin(), item.end(), ' '), item.end());
    if (item.empty())
      continue;
    if (item.size() > 12 || !std::all_of(item.begin(), item.end(), ::isdigit))
      throw IoError(name + ": corrupt .npy shape " + shapeText);
    dims.push_back(std::stoll(item));
  }
  if (dims.size() != 2 && dims.size() != 3)
    throw IoError(name + ": .npy array has " + std::to_string(dims.size()) +
                  " dimensions; expected 2 (HxW) or 3 (HxWxC)");
  int64_t h = dims[0], w = dims[1], c = dims.size() == 3 ? dims[2] : 1;
  detail::checkDimensions(name, h, w, c);
  size_t dataStart = headerStart + headerLen;
  size_t need = static_cast<size_t>(h * w * c) * static_cast<size_t>(itemBytes);
  if (n - dataStart < need)
    throw IoError(name + ": truncated .npy data (" + std::to_string(need) + " bytes expected, " +
                  std::to_string(n - dataStart) + " present)");
  Tensor t(Shape{1, c, h, w});
  float* d = t.data();
  const uint8_t* src = b + dataStart;
  info->format = FileFormat::Npy;
  info->bitDepth = itemBytes * 8;
  info->storedChannels = static_cast<int>(c);
  info->floatSamples = true;
  if (kind == "f4" && !swap && c == 1) { // what podm and numpy write: the bytes are the plane
    std::memcpy(d, src, need);
    return t;
  }
  for (int64_t i = 0; i < h * w * c; ++i) {
    uint8_t item[8];
    std::memcpy(item, src + i * itemBytes, itemBytes);
    if (swap)
      std::reverse(item, item + itemBytes);
    double v;
    if (kind == "f4") {
      float f;
      std::memcpy(&f, item, 4);
      v = f;
    } else if (kind == "f8") {
      std::memcpy(&v, item, 8);
    } else if (kind == "u1") {
      v = item[0];
    } else {
      uint16_t u;
      std::memcpy(&u, item, 2);
      v = u;
    }
    int64_t pix = i / c, ch = i % c; // HxWxC interleaved -> planar
    d[ch * h * w + pix] = static_cast<float>(v);
  }
  return t;
}

namespace {

void checkWritable(const std::string& path, const Tensor& image, bool anyChannels) {
  const Shape& s = image.shape();
  if (image.empty() || image.dtype() != DType::F32 || s.n != 1 || s.h <= 0 || s.w <= 0 ||
      (!anyChannels && s.c != 1 && s.c != 3))
    throw IoError(path + ": cannot write a tensor of shape " + s.str() +
                  (anyChannels ? "" : " (expected 1x1xHxW or 1x3xHxW)"));
}

} // namespace

void writeNpy(const std::string& path, const Tensor& image) {
  checkWritable(path, image, true);
  const Shape& s = image.shape();
  std::string shape = s.c == 1 ? "(" + std::to_string(s.h) + ", " + std::to_string(s.w) + ")"
                               : "(" + std::to_string(s.h) + ", " + std::to_string(s.w) + ", " +
                                     std::to_string(s.c) + ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so magic + length + header + '\n' is a multiple of 64 (what numpy writes).
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string bytes = "\x93NUMPY";
  bytes.push_back('\x01');
  bytes.push_back('\x00');
  bytes.push_back(static_cast<char>(header.size() & 0xff));
  bytes.push_back(static_cast<char>(header.size() >> 8));
  bytes += header;
  size_t start = bytes.size();
  bytes.resize(start + image.bytes());
  const float* d = image.data();
  int64_t plane = s.h * s.w;
  for (int64_t pix = 0; pix < plane; ++pix)
    for (int64_t ch = 0; ch < s.c; ++ch) {
      float v = d[ch * plane + pix];
      uint8_t le[4];
      std::memcpy(le, &v, 4);
      if constexpr (std::endian::native == std::endian::big)
        std::reverse(le, le + 4);
      std::memcpy(&bytes[start + 4 * size_t(pix * s.c + ch)], le, 4);
    }
  writeFileAtomic(path, bytes);
}

namespace {

// writeImage's refusal of an extension, or nullopt for one it writes.
std::optional<std::string> extensionProblem(const std::string& path) {
  switch (formatFromExtension(path)) {
  case FileFormat::Png:
  case FileFormat::Tiff:
  case FileFormat::Npy:
    return std::nullopt;
  case FileFormat::Jpeg:
    return path + ": JPEG output is not supported (it is lossy, so the result would carry the "
                  "codec's artefacts): use .png, .tif, .tiff or .npy";
  case FileFormat::Bmp:
  case FileFormat::Unknown:
    break;
  }
  return path + ": cannot choose an output format from the extension (use .png, .tif, .tiff or "
                ".npy)";
}

} // namespace

void writeImage(const std::string& path, const Tensor& image, int pngBitDepth) {
  if (std::optional<std::string> problem = extensionProblem(path))
    throw IoError(*problem);
  const FileFormat format = formatFromExtension(path);
  if (format == FileFormat::Png)
    return writePng(path, image, pngBitDepth);
  if (format == FileFormat::Tiff)
    return writeTiff(path, image);
  writeNpy(path, image); // the one format extensionProblem leaves
}

std::optional<std::string> imageOutputProblem(const std::string& path) {
  if (std::optional<std::string> problem = extensionProblem(path))
    return problem;
  return fileOutputProblem(path);
}

} // namespace podm::io
