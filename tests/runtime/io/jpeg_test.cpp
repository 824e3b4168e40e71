// JPEG input: images encoded here with libjpeg (gray and RGB, baseline and progressive) read back
// close to what was encoded, and every kind of bad file (CMYK, truncated, corrupt, absurd header)
// an IoError naming the file rather than a crash, an exit() or made-up pixels.
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"
#include "tests/runtime/io/fixtures.h"
#include "tests/runtime/io/io_test_util.h"
#include "tests/support/scratch_dir.h"

#include <cmath>
#include <doctest/doctest.h>
#include <fstream>

using namespace podm;
using namespace podm::io;
using podm::io::test::errorOf;
using podm::test::ScratchDir;

namespace {

void spitBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// Interleaved 8-bit samples of a planar image in [0,1].
std::vector<uint8_t> samples8(const Tensor& t) {
  const Shape& s = t.shape();
  std::vector<uint8_t> out(size_t(s.c * s.h * s.w));
  for (int64_t ch = 0; ch < s.c; ++ch)
    for (int64_t i = 0; i < s.h * s.w; ++i)
      out[size_t(i * s.c + ch)] = uint8_t(std::lround(t.data()[ch * s.h * s.w + i] * 255));
  return out;
}

// Over every channel, range 1.
double psnrAll(const Tensor& a, const Tensor& b) {
  double se = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    se += (double(a.data()[i]) - b.data()[i]) * (double(a.data()[i]) - b.data()[i]);
  return 10 * std::log10(double(a.numel()) / se);
}

// A 70x90 scene (sides not multiples of 8 or 16, so partial blocks are decoded too), encoded.
std::string sceneJpeg(int64_t c, int quality, bool progressive, bool fullChroma = false,
                      Tensor* original = nullptr) {
  Tensor scene = syntheticImage(c == 1 ? "scene" : "scene-rgb", 70, 90, 3);
  if (original)
    *original = scene;
  std::string bytes =
      io::test::jpegRaw(90, 70, int(c), samples8(scene), quality, progressive, fullChroma);
  REQUIRE(!bytes.empty());
  return bytes;
}

} // namespace

TEST_CASE("JPEG: gray and RGB, baseline and progressive, read back close to the original") {
  ScratchDir tmp;
  for (int64_t c : {1, 3})
    for (bool progressive : {false, true}) {
      CAPTURE(c);
      CAPTURE(progressive);
      Tensor original;
      // 4:4:4 chroma: at quality 95 the codec then loses little anywhere (4:2:0 is below).
      spitBytes(tmp.file("a.jpg"), sceneJpeg(c, 95, progressive, true, &original));
      ImageInfo info;
      Tensor back = readImage(tmp.file("a.jpg"), &info);
      REQUIRE(back.shape() == original.shape());
      CHECK(info.format == FileFormat::Jpeg);
      CHECK(info.bitDepth == 8);
      CHECK(info.storedChannels == c);
      CHECK(info.progressive == progressive);
      CHECK_FALSE(info.floatSamples);
      CHECK(psnrAll(back, original) > 35);
    }
}

TEST_CASE("JPEG: libjpeg's default 4:2:0 colour, sniffed by content, never written") {
  ScratchDir tmp;
  Tensor original;
  // Chroma at half resolution blurs the scene's colour edges: a lower bound than 4:4:4's.
  spitBytes(tmp.file("photo.png"), sceneJpeg(3, 95, false, false, &original));
  ImageInfo info;
  Tensor back = readImage(tmp.file("photo.png"), &info); // the name says PNG, the bytes JPEG
  CHECK(info.format == FileFormat::Jpeg);
  CHECK(psnrAll(back, original) > 30);
  CHECK(sniffFormat(tmp.file("photo.png")) == FileFormat::Jpeg);
  CHECK(formatFromExtension("x/y.JPG") == FileFormat::Jpeg);
  CHECK(formatFromExtension("y.jpeg") == FileFormat::Jpeg);
  CHECK(std::string(formatName(FileFormat::Jpeg)) == "JPEG");

  std::string refused;
  try {
    writeImage(tmp.file("out.jpg"), back);
  } catch (const IoError& e) {
    refused = e.what();
  }
  CHECK(refused.find("out.jpg: JPEG output is not supported") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(tmp.file("out.jpg")));
}

TEST_CASE("JPEG: CMYK, truncated, corrupt and absurd files are IoErrors naming the file") {
  ScratchDir tmp;
  std::vector<uint8_t> cmyk(16 * 16 * 4, 100);
  spitBytes(tmp.file("cmyk.jpg"), io::test::jpegRaw(16, 16, 4, cmyk, 90));
  CHECK(errorOf(tmp.file("cmyk.jpg")).find("cmyk.jpg: CMYK JPEG is not supported") !=
        std::string::npos);

  const std::string full = sceneJpeg(3, 90, false);
  spitBytes(tmp.file("half.jpg"), full.substr(0, full.size() / 2));
  CHECK(errorOf(tmp.file("half.jpg")).find("half.jpg: cannot decode JPEG: ") != std::string::npos);
  // Without its end-of-image marker only: libjpeg would quietly invent it.
  spitBytes(tmp.file("noeoi.jpg"), full.substr(0, full.size() - 2));
  CHECK(errorOf(tmp.file("noeoi.jpg"))
            .find("noeoi.jpg: cannot decode JPEG: Premature end of JPEG file") !=
        std::string::npos);
  const std::string progressive = sceneJpeg(1, 90, true);
  spitBytes(tmp.file("prog.jpg"), progressive.substr(0, progressive.size() * 2 / 3));
  CHECK(errorOf(tmp.file("prog.jpg")).find("prog.jpg: cannot decode JPEG: ") != std::string::npos);

  // The frame header (SOF0: FF C0, length, precision, height, width): 12-bit samples and a
  // claimed 9000x9000 (within the global limits) from a file of a few kilobytes.
  const size_t sof = full.find("\xFF\xC0");
  REQUIRE(sof != std::string::npos);
  std::string twelve = full;
  twelve[sof + 4] = 12;
  spitBytes(tmp.file("twelve.jpg"), twelve);
  CHECK(errorOf(tmp.file("twelve.jpg"))
            .find("twelve.jpg: cannot decode JPEG: Unsupported JPEG data precision 12") !=
        std::string::npos);
  std::string huge = full;
  huge.replace(sof + 5, 4, "\x23\x28\x23\x28");
  spitBytes(tmp.file("huge.jpg"), huge);
  CHECK(errorOf(tmp.file("huge.jpg")).find("huge.jpg: JPEG header claims 9000x9000 pixels") !=
        std::string::npos);

  // Entropy-coded data overwritten in the middle: a bad Huffman code or a marker in the data.
  std::string scribbled = full;
  for (size_t i = full.size() / 2; i < full.size() / 2 + 16; ++i)
    scribbled[i] = char(0xFF);
  spitBytes(tmp.file("scribbled.jpg"), scribbled);
  CHECK(errorOf(tmp.file("scribbled.jpg")).find("scribbled.jpg: cannot decode JPEG: ") !=
        std::string::npos);
}
