// Fixture writers for the podm_io tests (see fixtures.h).
#include "tests/runtime/io/fixtures.h"

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>
#include <zlib.h>

namespace podm::io::test {

bool writePngRaw(const std::string& path, int w, int h, int colorType, int bitDepth,
                 const std::vector<uint8_t>& samples8, const std::vector<uint16_t>& samples16,
                 const std::vector<uint8_t>& palette, bool interlaced) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f)
    return false;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  std::vector<uint8_t> bytes;
  std::vector<png_bytep> rows;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    return false;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, w, h, bitDepth, colorType,
               interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  std::vector<png_color> pal;
  for (size_t i = 0; i + 2 < palette.size(); i += 3)
    pal.push_back({palette[i], palette[i + 1], palette[i + 2]});
  if (colorType == PNG_COLOR_TYPE_PALETTE)
    png_set_PLTE(png, info, pal.data(), int(pal.size()));
  png_write_info(png, info);
  if (bitDepth == 16) {
    for (uint16_t v : samples16) { // PNG is big-endian
      bytes.push_back(uint8_t(v >> 8));
      bytes.push_back(uint8_t(v));
    }
  } else {
    bytes = samples8;
  }
  size_t rowBytes = bytes.size() / size_t(h);
  for (int y = 0; y < h; ++y)
    rows.push_back(bytes.data() + size_t(y) * rowBytes);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return std::fclose(f) == 0;
}

namespace {

struct JpegEncoder {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  std::jmp_buf jump;
  unsigned char* out = nullptr;
  unsigned long size = 0;
};

void jpegFixtureError(j_common_ptr cinfo) {
  std::longjmp(static_cast<JpegEncoder*>(cinfo->client_data)->jump, 1);
}

// No C++ object lives in this frame, so the longjmp skips no destructor.
bool encodeJpeg(JpegEncoder& e, int w, int h, int components, const uint8_t* samples, int quality,
                bool progressive, bool fullChroma) {
  e.cinfo.err = jpeg_std_error(&e.err);
  e.err.error_exit = jpegFixtureError;
  e.cinfo.client_data = &e;
  if (setjmp(e.jump))
    return false;
  jpeg_create_compress(&e.cinfo);
  jpeg_mem_dest(&e.cinfo, &e.out, &e.size);
  e.cinfo.image_width = JDIMENSION(w);
  e.cinfo.image_height = JDIMENSION(h);
  e.cinfo.input_components = components;
  e.cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&e.cinfo);
  jpeg_set_quality(&e.cinfo, quality, TRUE);
  if (progressive)
    jpeg_simple_progression(&e.cinfo);
  if (fullChroma)
    for (int c = 0; c < e.cinfo.num_components; ++c)
      e.cinfo.comp_info[c].h_samp_factor = e.cinfo.comp_info[c].v_samp_factor = 1;
  jpeg_start_compress(&e.cinfo, TRUE);
  while (e.cinfo.next_scanline < e.cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(samples + size_t(e.cinfo.next_scanline) * w * components);
    jpeg_write_scanlines(&e.cinfo, &row, 1);
  }
  jpeg_finish_compress(&e.cinfo);
  return true;
}

} // namespace

std::string jpegRaw(int w, int h, int components, const std::vector<uint8_t>& samples, int quality,
                    bool progressive, bool fullChroma) {
  JpegEncoder e{};
  bool ok = encodeJpeg(e, w, h, components, samples.data(), quality, progressive, fullChroma);
  std::string bytes = ok ? std::string(reinterpret_cast<const char*>(e.out), e.size) : "";
  jpeg_destroy_compress(&e.cinfo);
  std::free(e.out);
  return bytes;
}

bool writeTiffRaw(const std::string& path, int w, int h, int spp, int bits, int photometric,
                  const void* samples, bool separatePlanes) {
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  if (!tif)
    return false;
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, uint32_t(w));
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, uint32_t(h));
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, uint16_t(spp));
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, uint16_t(bits));
  TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT,
               uint16_t(bits == 32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT));
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, uint16_t(photometric));
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG,
               uint16_t(separatePlanes ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG));
  if (spp == 2 || spp == 4) {
    uint16_t extra = EXTRASAMPLE_UNASSALPHA;
    TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, uint16_t(1), &extra);
  }
  TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, uint32_t(2));
  const auto* p = static_cast<const uint8_t*>(samples);
  size_t bytesPer = size_t(bits / 8);
  bool ok = true;
  if (!separatePlanes) {
    size_t line = size_t(w) * spp * bytesPer;
    std::vector<uint8_t> buf(line);
    for (int y = 0; y < h && ok; ++y) {
      std::memcpy(buf.data(), p + y * line, line);
      ok = TIFFWriteScanline(tif, buf.data(), uint32_t(y), 0) >= 0;
    }
  } else { // samples given interleaved; write each plane separately
    std::vector<uint8_t> buf(size_t(w) * bytesPer);
    for (int s = 0; s < spp && ok; ++s)
      for (int y = 0; y < h && ok; ++y) {
        for (int x = 0; x < w; ++x)
          std::memcpy(&buf[x * bytesPer], p + ((size_t(y) * w + x) * spp + s) * bytesPer, bytesPer);
        ok = TIFFWriteScanline(tif, buf.data(), uint32_t(y), uint16_t(s)) >= 0;
      }
  }
  TIFFClose(tif);
  return ok;
}

namespace {

void put16(std::string& s, size_t at, uint16_t v) {
  s[at] = char(v & 0xff);
  s[at + 1] = char(v >> 8);
}
void put32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    s[at + i] = char((v >> (8 * i)) & 0xff);
}

std::string bmpHeader(int w, int h, int bpp, uint32_t paletteBytes, uint32_t dataBytes) {
  std::string s(54 + paletteBytes, '\0');
  s[0] = 'B';
  s[1] = 'M';
  put32(s, 2, uint32_t(54 + paletteBytes + dataBytes));
  put32(s, 10, 54 + paletteBytes);
  put32(s, 14, 40);
  put32(s, 18, uint32_t(w));
  put32(s, 22, uint32_t(h)); // negative (top-down) passes through as two's complement
  put16(s, 26, 1);
  put16(s, 28, uint16_t(bpp));
  put32(s, 34, dataBytes);
  return s;
}

} // namespace

std::string bmp24(int w, int h, const std::vector<uint8_t>& rgb, bool topDown) {
  int rowBytes = (w * 3 + 3) / 4 * 4;
  std::string s = bmpHeader(w, topDown ? -h : h, 24, 0, uint32_t(rowBytes * h));
  for (int r = 0; r < h; ++r) {
    int y = topDown ? r : h - 1 - r;
    std::string row(size_t(rowBytes), '\0');
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        row[size_t(x * 3 + c)] = char(rgb[size_t((y * w + x) * 3 + (2 - c))]);
    s += row;
  }
  return s;
}

std::string bmp8(int w, int h, const std::vector<uint8_t>& indices,
                 const std::vector<uint8_t>& paletteBgrx) {
  int rowBytes = (w + 3) / 4 * 4;
  std::string s = bmpHeader(w, h, 8, uint32_t(paletteBgrx.size()), uint32_t(rowBytes * h));
  put32(s, 46, uint32_t(paletteBgrx.size() / 4));
  std::memcpy(&s[54], paletteBgrx.data(), paletteBgrx.size());
  for (int r = 0; r < h; ++r) {
    int y = h - 1 - r;
    std::string row(size_t(rowBytes), '\0');
    for (int x = 0; x < w; ++x)
      row[size_t(x)] = char(indices[size_t(y * w + x)]);
    s += row;
  }
  return s;
}

std::string npy(const std::string& descr, const std::string& shape, const std::string& data,
                int version) {
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }\n";
  std::string s = "\x93NUMPY";
  s.push_back(char(version));
  s.push_back('\0');
  if (version == 1) {
    s.push_back(char(header.size() & 0xff));
    s.push_back(char(header.size() >> 8));
  } else {
    for (int i = 0; i < 4; ++i)
      s.push_back(char((header.size() >> (8 * i)) & 0xff));
  }
  return s + header + data;
}

std::string pngWithSize(std::string png, uint32_t w, uint32_t h) {
  // IHDR data starts at byte 16 (8 signature + 4 length + 4 type), 13 bytes, CRC after it.
  auto be32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i)
      png[at + i] = char((v >> (24 - 8 * i)) & 0xff);
  };
  be32(16, w);
  be32(20, h);
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(png.data() + 12), 17);
  be32(29, uint32_t(crc));
  return png;
}

} // namespace podm::io::test
