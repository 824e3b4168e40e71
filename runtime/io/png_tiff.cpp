// PNG through libpng and TIFF through libtiff, both decoded from bytes in memory so that truncation
// is detected uniformly. libpng reports errors by longjmp: every C++ object the decoder owns is
// created before setjmp, and the handler only copies the message, so no destructor is skipped.
#include "runtime/io/atomic_file.h"
#include "runtime/io/image.h"
#include "runtime/io/image_internal.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <png.h>
#include <tiffio.h>
#include <vector>

namespace podm::io {
namespace {

// Decompressed data larger than this multiple of the file size cannot come from a valid deflate
// stream (its best ratio is about 1032:1), so such headers are rejected before allocating.
constexpr int64_t kMaxExpansion = 1100;

struct PngState {
  const uint8_t* data = nullptr;
  size_t size = 0, pos = 0;
  std::string* out = nullptr; // encoder output
  char message[256] = {};
};

void pngError(png_structp png, png_const_charp msg) {
  auto* s = static_cast<PngState*>(png_get_error_ptr(png));
  std::snprintf(s->message, sizeof s->message, "%s", msg);
  png_longjmp(png, 1);
}
void pngWarning(png_structp, png_const_charp) {
} // warnings (e.g. bad iCCP) are not failures

void pngRead(png_structp png, png_bytep out, png_size_t n) {
  auto* s = static_cast<PngState*>(png_get_io_ptr(png));
  if (n > s->size - s->pos)
    png_error(png, "file is truncated");
  std::memcpy(out, s->data + s->pos, n);
  s->pos += n;
}
void pngWrite(png_structp png, png_bytep in, png_size_t n) {
  auto* s = static_cast<PngState*>(png_get_io_ptr(png));
  s->out->append(reinterpret_cast<const char*>(in), n);
}
void pngFlush(png_structp) {
}

} // namespace

Tensor decodePng(const uint8_t* bytes, size_t size, const std::string& name, ImageInfo* info) {
  PngState st;
  st.data = bytes;
  st.size = size;
  std::vector<uint8_t> pixels;
  std::vector<png_bytep> rows;
  Tensor result;
  std::string failure; // set (before any longjmp can happen) for our own checks
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st, pngError, pngWarning);
  if (!png)
    throw IoError(name + ": cannot initialise libpng");
  png_infop pinfo = png_create_info_struct(png);
  if (!pinfo) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    throw IoError(name + ": cannot initialise libpng");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &pinfo, nullptr);
    throw IoError(name + ": corrupt or truncated PNG: " + st.message);
  }
  png_set_read_fn(png, &st, pngRead);
  png_set_user_limits(png, kMaxSide, kMaxSide);
  png_read_info(png, pinfo);
  png_uint_32 w = 0, h = 0;
  int depth = 0, colorType = 0, interlace = 0;
  png_get_IHDR(png, pinfo, &w, &h, &depth, &colorType, &interlace, nullptr, nullptr);
  int storedChannels = png_get_channels(png, pinfo);
  bool grayPalette = false;
  if (colorType == PNG_COLOR_TYPE_PALETTE) {
    png_colorp pal = nullptr;
    int count = 0;
    if (png_get_PLTE(png, pinfo, &pal, &count) && count > 0) {
      grayPalette = true;
      for (int i = 0; i < count; ++i)
        grayPalette &= pal[i].red == pal[i].green && pal[i].red == pal[i].blue;
    }
    png_set_palette_to_rgb(png);
  }
  if (colorType == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  bool hadAlpha = (colorType & PNG_COLOR_MASK_ALPHA) != 0;
  if (hadAlpha)
    png_set_strip_alpha(png);
  if (depth == 16)
    png_set_swap(png); // host order on little-endian machines; no-op request otherwise is fine
  png_set_interlace_handling(png);
  png_read_update_info(png, pinfo);
  int channels = png_get_channels(png, pinfo);
  int outDepth = png_get_bit_depth(png, pinfo);
  size_t rowBytes = png_get_rowbytes(png, pinfo);
  try {
    detail::checkDimensions(name, h, w, channels);
  } catch (const IoError& e) {
    failure = e.what();
  }
  if (failure.empty() &&
      static_cast<int64_t>(rowBytes) * h > kMaxExpansion * static_cast<int64_t>(size) + (1 << 20))
    failure = name + ": PNG header claims " + std::to_string(h) + "x" + std::to_string(w) +
              " pixels, impossible for a file of " + std::to_string(size) + " bytes";
  if (!failure.empty()) {
    png_destroy_read_struct(&png, &pinfo, nullptr);
    throw IoError(failure);
  }
  pixels.resize(rowBytes * h);
  rows.resize(h);
  for (png_uint_32 y = 0; y < h; ++y)
    rows[y] = pixels.data() + y * rowBytes;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &pinfo, nullptr);

  // Palette images whose palette is all gray come back as gray.
  int64_t c = (grayPalette && channels == 3) ? 1 : channels;
  result = Tensor(Shape{1, c, int64_t(h), int64_t(w)});
  float* d = result.data();
  int64_t plane = int64_t(h) * w;
  float scale = outDepth == 16 ? 1.0f / 65535.0f : 1.0f / 255.0f;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t ch = 0; ch < c; ++ch) {
        size_t idx = static_cast<size_t>(x * channels + ch);
        float v;
        if (outDepth == 16) {
          uint16_t u;
          std::memcpy(&u, rows[y] + 2 * idx, 2);
          v = u * scale;
        } else {
          v = rows[y][idx] * scale;
        }
        d[ch * plane + y * w + x] = v;
      }
  info->format = FileFormat::Png;
  info->bitDepth = depth;
  info->storedChannels = storedChannels;
  info->hadAlpha = hadAlpha;
  return result;
}

void writePng(const std::string& path, const Tensor& image, int bitDepth) {
  const Shape& s = image.shape();
  if (image.empty() || s.n != 1 || (s.c != 1 && s.c != 3))
    throw IoError(path + ": cannot write a tensor of shape " + s.str() +
                  " as PNG (expected 1x1xHxW or 1x3xHxW)");
  if (bitDepth != 8 && bitDepth != 16)
    throw IoError(path + ": PNG bit depth must be 8 or 16, not " + std::to_string(bitDepth));
  detail::checkDimensions(path, s.h, s.w, s.c);
  int64_t bytesPer = bitDepth / 8;
  int64_t rowBytes = s.w * s.c * bytesPer;
  std::vector<uint8_t> pixels(static_cast<size_t>(rowBytes * s.h));
  std::vector<png_bytep> rows(static_cast<size_t>(s.h));
  double maxv = bitDepth == 16 ? 65535.0 : 255.0;
  const float* d = image.data();
  int64_t plane = s.h * s.w;
  for (int64_t y = 0; y < s.h; ++y) {
    rows[y] = pixels.data() + y * rowBytes;
    for (int64_t x = 0; x < s.w; ++x)
      for (int64_t ch = 0; ch < s.c; ++ch) {
        double v = d[ch * plane + y * s.w + x];
        v = std::isnan(v) ? 0.0 : std::clamp(v, 0.0, 1.0);
        auto q = static_cast<uint32_t>(std::lround(v * maxv));
        uint8_t* p = rows[y] + (x * s.c + ch) * bytesPer;
        if (bitDepth == 16) {
          p[0] = uint8_t(q >> 8); // PNG stores big-endian samples
          p[1] = uint8_t(q & 0xff);
        } else {
          p[0] = uint8_t(q);
        }
      }
  }
  std::string encoded;
  PngState st;
  st.out = &encoded;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &st, pngError, pngWarning);
  if (!png)
    throw IoError(path + ": cannot initialise libpng");
  png_infop pinfo = png_create_info_struct(png);
  if (!pinfo) {
    png_destroy_write_struct(&png, nullptr);
    throw IoError(path + ": cannot initialise libpng");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &pinfo);
    throw IoError(path + ": PNG encoding failed: " + st.message);
  }
  png_set_write_fn(png, &st, pngWrite, pngFlush);
  png_set_IHDR(png, pinfo, png_uint_32(s.w), png_uint_32(s.h), bitDepth,
               s.c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, pinfo);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &pinfo);
  writeFileAtomic(path, encoded);
}

// ---- TIFF ----

namespace {

struct TiffMem {
  const uint8_t* data;
  toff_t size, pos;
};

tmsize_t tiffRead(thandle_t h, void* buf, tmsize_t n) {
  auto* m = static_cast<TiffMem*>(h);
  if (n < 0 || m->pos >= m->size)
    return 0;
  tmsize_t k = static_cast<tmsize_t>(std::min<toff_t>(toff_t(n), m->size - m->pos));
  std::memcpy(buf, m->data + m->pos, size_t(k));
  m->pos += toff_t(k);
  return k;
}
tmsize_t tiffWrite(thandle_t, void*, tmsize_t) {
  return 0;
}
toff_t tiffSeek(thandle_t h, toff_t off, int whence) {
  auto* m = static_cast<TiffMem*>(h);
  toff_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
  m->pos = base + off;
  return m->pos;
}
int tiffClose(thandle_t) {
  return 0;
}
toff_t tiffSize(thandle_t h) {
  return static_cast<TiffMem*>(h)->size;
}
int tiffMap(thandle_t, void**, toff_t*) {
  return 0;
}
void tiffUnmap(thandle_t, void*, toff_t) {
}

int tiffErrorHandler(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* msg = static_cast<std::string*>(user);
  if (msg->empty()) { // keep the first error: later ones are usually consequences
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    *msg = (module ? std::string(module) + ": " : std::string()) + buf;
  }
  return 1;
}
int tiffWarningHandler(TIFF*, void*, const char*, const char*, va_list) {
  return 1;
}

// Owns a TIFF* and the options it was opened with.
struct TiffHandle {
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  TIFF* tif = nullptr;
  std::string error;
  TiffHandle() {
    TIFFOpenOptionsSetErrorHandlerExtR(opts, tiffErrorHandler, &error);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, tiffWarningHandler, nullptr);
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, tmsize_t{1} << 30);
  }
  ~TiffHandle() {
    if (tif)
      TIFFClose(tif);
    TIFFOpenOptionsFree(opts);
  }
  TiffHandle(const TiffHandle&) = delete;
  TiffHandle& operator=(const TiffHandle&) = delete;
};

} // namespace

Tensor decodeTiff(const uint8_t* bytes, size_t size, const std::string& name, ImageInfo* info) {
  TiffMem mem{bytes, toff_t(size), 0};
  TiffHandle th;
  th.tif = TIFFClientOpenExt(name.c_str(), "rm", &mem, tiffRead, tiffWrite, tiffSeek, tiffClose,
                             tiffSize, tiffMap, tiffUnmap, th.opts);
  auto fail = [&](const std::string& what) -> IoError {
    return IoError(name + ": " + what + (th.error.empty() ? "" : " (" + th.error + ")"));
  };
  if (!th.tif)
    throw fail("corrupt or truncated TIFF");
  TIFF* tif = th.tif;
  uint32_t w = 0, h = 0;
  uint16_t bits = 1, spp = 1, format = SAMPLEFORMAT_UINT, photometric = PHOTOMETRIC_MINISBLACK,
           planar = PLANARCONFIG_CONTIG;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric))
    photometric = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
  if (TIFFIsTiled(tif))
    throw fail("tiled TIFF is not supported (save it with strips)");
  bool isFloat = format == SAMPLEFORMAT_IEEEFP;
  bool isUint = format == SAMPLEFORMAT_UINT;
  if (!((isUint && (bits == 8 || bits == 16)) || (isFloat && (bits == 32 || bits == 64))))
    throw fail(std::to_string(bits) + "-bit " +
               (isFloat  ? "float"
                : isUint ? "unsigned"
                         : "signed") +
               " TIFF samples are not supported (8/16-bit unsigned and 32/64-bit float are)");
  bool gray = photometric == PHOTOMETRIC_MINISBLACK || photometric == PHOTOMETRIC_MINISWHITE;
  if (!gray && photometric != PHOTOMETRIC_RGB)
    throw fail("TIFF photometric interpretation " + std::to_string(photometric) +
               " is not supported (gray and RGB are)");
  int64_t c = gray ? 1 : 3;
  if (spp < c || spp > c + 1)
    throw fail("TIFF has " + std::to_string(spp) + " samples per pixel for " +
               (gray ? "gray" : "RGB") + " data");
  detail::checkDimensions(name, h, w, spp);
  int64_t bytesPer = bits / 8;
  if (int64_t(h) * w * spp * bytesPer > kMaxExpansion * int64_t(size) + (1 << 20))
    throw fail("TIFF header claims " + std::to_string(h) + "x" + std::to_string(w) +
               " pixels, impossible for a file of " + std::to_string(size) + " bytes");
  tmsize_t lineBytes = TIFFScanlineSize(tif);
  int64_t samplesPerLine = planar == PLANARCONFIG_CONTIG ? int64_t(w) * spp : int64_t(w);
  if (lineBytes < samplesPerLine * bytesPer)
    throw fail("corrupt TIFF strip layout");
  std::vector<uint8_t> line(static_cast<size_t>(lineBytes));
  Tensor t(Shape{1, c, int64_t(h), int64_t(w)});
  float* d = t.data();
  int64_t plane = int64_t(h) * w;
  bool invert = photometric == PHOTOMETRIC_MINISWHITE;
  int passes = planar == PLANARCONFIG_CONTIG ? 1 : int(c); // separate planes: one pass per sample
  for (int pass = 0; pass < passes; ++pass)
    for (uint32_t y = 0; y < h; ++y) {
      if (TIFFReadScanline(tif, line.data(), y, uint16_t(pass)) < 0)
        throw fail("corrupt or truncated TIFF data at row " + std::to_string(y));
      for (int64_t x = 0; x < w; ++x)
        for (int64_t ch = 0; ch < (passes == 1 ? c : 1); ++ch) {
          int64_t idx = passes == 1 ? x * spp + ch : x;
          const uint8_t* p = line.data() + idx * bytesPer;
          double v;
          if (bits == 8) {
            v = p[0] / 255.0;
          } else if (bits == 16) {
            uint16_t u;
            std::memcpy(&u, p, 2); // libtiff returns host byte order
            v = u / 65535.0;
          } else if (bits == 32) {
            float f;
            std::memcpy(&f, p, 4);
            v = f;
          } else {
            std::memcpy(&v, p, 8);
          }
          if (invert)
            v = 1.0 - v; // float data in [0,1] by the same convention
          int64_t outCh = passes == 1 ? ch : pass;
          d[outCh * plane + int64_t(y) * w + x] = float(v);
        }
    }
  info->format = FileFormat::Tiff;
  info->bitDepth = bits;
  info->storedChannels = spp;
  info->hadAlpha = spp > c;
  info->floatSamples = isFloat;
  return t;
}

void writeTiff(const std::string& path, const Tensor& image) {
  const Shape& s = image.shape();
  if (image.empty() || s.n != 1 || (s.c != 1 && s.c != 3))
    throw IoError(path + ": cannot write a tensor of shape " + s.str() +
                  " as TIFF (expected 1x1xHxW or 1x3xHxW)");
  detail::checkDimensions(path, s.h, s.w, s.c);
  writeFileAtomic(path, [&](const std::string& tmp) {
    TiffHandle th;
    th.tif = TIFFOpenExt(tmp.c_str(), "w", th.opts);
    if (!th.tif)
      throw IoError(path + ": cannot open for writing: " + th.error);
    TIFF* tif = th.tif;
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, uint32_t(s.w));
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, uint32_t(s.h));
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, uint16_t(s.c));
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, uint16_t(32));
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, uint16_t(SAMPLEFORMAT_IEEEFP));
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC,
                 uint16_t(s.c == 1 ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB));
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, uint16_t(PLANARCONFIG_CONTIG));
    TIFFSetField(tif, TIFFTAG_COMPRESSION, uint16_t(COMPRESSION_NONE));
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(tif, 0));
    std::vector<float> line(size_t(s.w * s.c));
    const float* d = image.data();
    int64_t plane = s.h * s.w;
    for (int64_t y = 0; y < s.h; ++y) {
      for (int64_t x = 0; x < s.w; ++x)
        for (int64_t ch = 0; ch < s.c; ++ch)
          line[size_t(x * s.c + ch)] = d[ch * plane + y * s.w + x];
      if (TIFFWriteScanline(tif, line.data(), uint32_t(y), 0) < 0)
        throw IoError(path + ": TIFF write failed: " + th.error);
    }
    TIFF* done = th.tif;
    th.tif = nullptr;
    TIFFClose(done); // flushes; errors show up in th.error
    if (!th.error.empty())
      throw IoError(path + ": TIFF write failed: " + th.error);
  });
}

} // namespace podm::io
