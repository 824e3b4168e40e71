// Writers for test fixtures in the exact layouts the decoders must accept (palette PNGs, 16-bit
// TIFFs, 8-bit BMPs, JPEGs, hand-made .npy headers), written with libpng/libtiff/libjpeg directly
// or byte by byte, independently of the podm_io code under test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace podm::io::test {

// Raw samples row-major, interleaved; 16-bit samples given as host uint16 values in `samples16`.
// colorType is a PNG_COLOR_TYPE_*; palette is RGB triples (for palette images).
bool writePngRaw(const std::string& path, int w, int h, int colorType, int bitDepth,
                 const std::vector<uint8_t>& samples8, const std::vector<uint16_t>& samples16 = {},
                 const std::vector<uint8_t>& palette = {}, bool interlaced = false);

// TIFF with `spp` samples per pixel of `bits` (8/16 unsigned or 32 float), contiguous.
bool writeTiffRaw(const std::string& path, int w, int h, int spp, int bits, int photometric,
                  const void* samples, bool separatePlanes = false);

// BMP: 24-bit (rgb: R,G,B interleaved) or 8-bit with palette (indices + palette BGRx),
// bottom-up unless topDown.
std::string bmp24(int w, int h, const std::vector<uint8_t>& rgb, bool topDown = false);
std::string bmp8(int w, int h, const std::vector<uint8_t>& indices,
                 const std::vector<uint8_t>& paletteBgrx);

// A .npy file: header dict text as given (descr, shape) followed by raw data.
std::string npy(const std::string& descr, const std::string& shape, const std::string& data,
                int version = 1);

// A JPEG of interleaved 8-bit samples (components: 1 gray, 3 RGB, 4 CMYK) encoded by libjpeg at
// `quality`, baseline or progressive, with libjpeg's default 4:2:0 chroma unless fullChroma.
// Empty when libjpeg reports an error.
std::string jpegRaw(int w, int h, int components, const std::vector<uint8_t>& samples, int quality,
                    bool progressive = false, bool fullChroma = false);

// Sets a PNG's IHDR width/height and fixes the chunk CRC (for absurd-size tests).
std::string pngWithSize(std::string png, uint32_t w, uint32_t h);

} // namespace podm::io::test
