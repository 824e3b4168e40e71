// Reading and writing image files: round trips, every supported PNG/TIFF/BMP/npy layout, exact
// 16-bit values, and clear errors (never a crash) for missing, truncated, corrupt and absurd files
// of every format (JPEG's own cases are in jpeg_test.cpp), and for non-finite float samples.
#include "runtime/io/image.h"
#include "tests/runtime/io/fixtures.h"
#include "tests/runtime/io/io_test_util.h"

#include <cstring>
#include <doctest/doctest.h>
#include <limits>
#include <png.h>
#include <tiffio.h>

using namespace podm;
using namespace podm::io;
using namespace podm::io::test;

namespace {

// The decoder for a fixture by its name, fed from memory (fast enough to try thousands of
// variants; readImage adds only the file read and the magic-number dispatch).
Tensor decodeAs(const std::string& fixture, const std::string& bytes, const std::string& name) {
  const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
  ImageInfo info;
  if (fixture.ends_with(".png"))
    return decodePng(b, bytes.size(), name, &info);
  if (fixture.ends_with(".tif"))
    return decodeTiff(b, bytes.size(), name, &info);
  if (fixture.ends_with(".npy"))
    return decodeNpy(b, bytes.size(), name, &info);
  if (fixture.ends_with(".jpg"))
    return decodeJpeg(b, bytes.size(), name, &info);
  return decodeBmp(b, bytes.size(), name, &info);
}

// A JPEG of a planar image in [0,1] (libjpeg, quality 90).
std::string jpegOf(const Tensor& t) {
  const Shape& s = t.shape();
  std::vector<uint8_t> samples(size_t(s.c * s.h * s.w));
  for (int64_t ch = 0; ch < s.c; ++ch)
    for (int64_t i = 0; i < s.h * s.w; ++i)
      samples[size_t(i * s.c + ch)] = uint8_t(t.data()[ch * s.h * s.w + i] * 255 + 0.5f);
  return jpegRaw(int(s.w), int(s.h), int(s.c), samples, 90);
}

} // namespace

TEST_CASE("PNG 8-bit gray and RGB round trip exactly at 8-bit levels") {
  ScratchDir dir;
  for (int64_t c : {1, 3}) {
    Tensor img = testImage(c, 17, 23);
    writePng(dir.file("a.png"), img, 8);
    ImageInfo info;
    Tensor back = readImage(dir.file("a.png"), &info);
    CHECK(back.shape() == img.shape());
    CHECK(info.format == FileFormat::Png);
    CHECK(info.bitDepth == 8);
    CHECK(maxAbsDiff(back, img) <= 0.5 / 255 + 1e-6); // rounding only
    writePng(dir.file("b.png"), back, 8);
    CHECK(maxAbsDiff(readImage(dir.file("b.png")), back) == 0); // idempotent at 8-bit levels
  }
}

TEST_CASE("PNG 16-bit keeps 16-bit precision") {
  ScratchDir dir;
  Tensor img = testImage(3, 9, 11);
  writePng(dir.file("a.png"), img, 16);
  ImageInfo info;
  Tensor back = readImage(dir.file("a.png"), &info);
  CHECK(info.bitDepth == 16);
  CHECK(maxAbsDiff(back, img) <= 0.5 / 65535 + 1e-7);
  // Exact sample values written by libpng directly: v / 65535.
  std::vector<uint16_t> s = {0, 1, 256, 65535, 32768, 12345};
  REQUIRE(writePngRaw(dir.file("raw16.png"), 3, 2, PNG_COLOR_TYPE_GRAY, 16, {}, s));
  Tensor g = readImage(dir.file("raw16.png"));
  REQUIRE(g.shape() == Shape{1, 1, 2, 3});
  for (size_t i = 0; i < s.size(); ++i)
    CHECK(g.data()[i] == doctest::Approx(s[i] / 65535.0).epsilon(1e-7));
}

TEST_CASE("PNG gray+alpha, RGBA, palette and low bit depths") {
  ScratchDir dir;
  // gray+alpha: alpha dropped
  REQUIRE(writePngRaw(dir.file("ga.png"), 2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, {10, 255, 200, 0}));
  ImageInfo info;
  Tensor ga = readImage(dir.file("ga.png"), &info);
  CHECK(ga.shape() == Shape{1, 1, 1, 2});
  CHECK(info.hadAlpha);
  CHECK(ga.data()[0] == doctest::Approx(10 / 255.0));
  CHECK(ga.data()[1] == doctest::Approx(200 / 255.0));
  // RGBA -> RGB planes
  REQUIRE(writePngRaw(dir.file("rgba.png"), 2, 1, PNG_COLOR_TYPE_RGBA, 8,
                      {1, 2, 3, 4, 250, 251, 252, 0}));
  Tensor rgba = readImage(dir.file("rgba.png"));
  REQUIRE(rgba.shape() == Shape{1, 3, 1, 2});
  CHECK(rgba.data()[0] == doctest::Approx(1 / 255.0));
  CHECK(rgba.data()[1] == doctest::Approx(250 / 255.0));
  CHECK(rgba.data()[2] == doctest::Approx(2 / 255.0));
  CHECK(rgba.data()[5] == doctest::Approx(252 / 255.0));
  // colour palette -> RGB; gray palette -> gray
  REQUIRE(writePngRaw(dir.file("pal.png"), 3, 1, PNG_COLOR_TYPE_PALETTE, 8, {0, 1, 1}, {},
                      {255, 0, 0, 0, 0, 255}));
  Tensor pal = readImage(dir.file("pal.png"));
  REQUIRE(pal.shape() == Shape{1, 3, 1, 3});
  CHECK(pal.data()[0] == 1.0f);
  CHECK(pal.data()[1] == 0.0f);
  CHECK(pal.data()[2 * 3 + 1] == 1.0f); // blue plane, pixel 1
  REQUIRE(writePngRaw(dir.file("gpal.png"), 2, 1, PNG_COLOR_TYPE_PALETTE, 8, {1, 0}, {},
                      {0, 0, 0, 128, 128, 128}));
  Tensor gpal = readImage(dir.file("gpal.png"));
  REQUIRE(gpal.shape() == Shape{1, 1, 1, 2});
  CHECK(gpal.data()[0] == doctest::Approx(128 / 255.0));
  // 1-bit gray: 0b10100000 -> 1, 0, 1 scaled to the full range
  REQUIRE(writePngRaw(dir.file("bit.png"), 3, 1, PNG_COLOR_TYPE_GRAY, 1, {0xA0}));
  Tensor bit = readImage(dir.file("bit.png"));
  REQUIRE(bit.shape() == Shape{1, 1, 1, 3});
  CHECK(bit.data()[0] == 1.0f);
  CHECK(bit.data()[1] == 0.0f);
  CHECK(bit.data()[2] == 1.0f);
  // Adam7 interlaced 16-bit RGB: every pixel lands where it belongs.
  std::vector<uint16_t> s16;
  for (int i = 0; i < 9 * 7 * 3; ++i)
    s16.push_back(uint16_t(i * 300));
  REQUIRE(writePngRaw(dir.file("adam7.png"), 9, 7, PNG_COLOR_TYPE_RGB, 16, {}, s16, {}, true));
  Tensor ad = readImage(dir.file("adam7.png"));
  REQUIRE(ad.shape() == Shape{1, 3, 7, 9});
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 9; ++x)
      for (int c = 0; c < 3; ++c)
        CHECK(ad.data()[(c * 7 + y) * 9 + x] ==
              doctest::Approx(s16[size_t((y * 9 + x) * 3 + c)] / 65535.0).epsilon(1e-7));
}

TEST_CASE("TIFF: float round trip, 8/16-bit gray and RGB, alpha, separate planes, miniswhite") {
  ScratchDir dir;
  Tensor img = testImage(3, 13, 7);
  img.data()[0] = 1.75f; // float TIFF keeps values outside [0,1]
  writeTiff(dir.file("f.tif"), img);
  ImageInfo info;
  Tensor back = readImage(dir.file("f.tif"), &info);
  CHECK(info.format == FileFormat::Tiff);
  CHECK(info.floatSamples);
  CHECK(maxAbsDiff(back, img) == 0);

  std::vector<uint16_t> g16 = {0, 65535, 1000, 40000, 7, 9};
  REQUIRE(writeTiffRaw(dir.file("g16.tif"), 3, 2, 1, 16, PHOTOMETRIC_MINISBLACK, g16.data()));
  Tensor t16 = readImage(dir.file("g16.tif"), &info);
  CHECK(info.bitDepth == 16);
  for (size_t i = 0; i < g16.size(); ++i)
    CHECK(t16.data()[i] == doctest::Approx(g16[i] / 65535.0).epsilon(1e-7));

  std::vector<uint8_t> rgba = {10, 20, 30, 255, 40, 50, 60, 0};
  REQUIRE(writeTiffRaw(dir.file("rgba.tif"), 2, 1, 4, 8, PHOTOMETRIC_RGB, rgba.data()));
  Tensor t8 = readImage(dir.file("rgba.tif"), &info);
  REQUIRE(t8.shape() == Shape{1, 3, 1, 2});
  CHECK(info.hadAlpha);
  CHECK(t8.data()[1] == doctest::Approx(40 / 255.0));
  CHECK(t8.data()[2 + 1] == doctest::Approx(50 / 255.0));
  CHECK(t8.data()[4 + 0] == doctest::Approx(30 / 255.0));

  std::vector<uint8_t> rgb = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  REQUIRE(writeTiffRaw(dir.file("sep.tif"), 2, 2, 3, 8, PHOTOMETRIC_RGB, rgb.data(), true));
  Tensor sep = readImage(dir.file("sep.tif"));
  REQUIRE(sep.shape() == Shape{1, 3, 2, 2});
  CHECK(sep.data()[3] == doctest::Approx(10 / 255.0)); // R of pixel (1,1)
  CHECK(sep.data()[4 + 3] == doctest::Approx(11 / 255.0));

  std::vector<uint8_t> mw = {0, 255};
  REQUIRE(writeTiffRaw(dir.file("mw.tif"), 2, 1, 1, 8, PHOTOMETRIC_MINISWHITE, mw.data()));
  Tensor tmw = readImage(dir.file("mw.tif"));
  CHECK(tmw.data()[0] == 1.0f);
  CHECK(tmw.data()[1] == 0.0f);
}

TEST_CASE("BMP: 24-bit bottom-up and top-down with row padding, 8-bit gray and colour palettes") {
  ScratchDir dir;
  int w = 3, h = 2; // 9 bytes per row, padded to 12
  std::vector<uint8_t> rgb;
  for (int i = 0; i < w * h * 3; ++i)
    rgb.push_back(uint8_t(i * 10));
  for (bool topDown : {false, true}) {
    spit(dir.file("a.bmp"), bmp24(w, h, rgb, topDown));
    Tensor t = readImage(dir.file("a.bmp"));
    REQUIRE(t.shape() == Shape{1, 3, 2, 3});
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c)
          CHECK(t.data()[(c * h + y) * w + x] ==
                doctest::Approx(rgb[size_t((y * w + x) * 3 + c)] / 255.0));
  }
  std::vector<uint8_t> grayPal, colourPal;
  for (int i = 0; i < 256; ++i) {
    grayPal.insert(grayPal.end(), {uint8_t(i), uint8_t(i), uint8_t(i), 0});
    colourPal.insert(colourPal.end(), {uint8_t(i), 0, uint8_t(255 - i), 0});
  }
  spit(dir.file("g.bmp"), bmp8(5, 2, {0, 1, 2, 3, 4, 250, 251, 252, 253, 255}, grayPal));
  Tensor g = readImage(dir.file("g.bmp"));
  REQUIRE(g.shape() == Shape{1, 1, 2, 5});
  CHECK(g.data()[4] == doctest::Approx(4 / 255.0));
  CHECK(g.data()[9] == 1.0f);
  spit(dir.file("c.bmp"), bmp8(1, 1, {10}, colourPal));
  Tensor c = readImage(dir.file("c.bmp"));
  REQUIRE(c.shape() == Shape{1, 3, 1, 1});
  CHECK(c.data()[0] == doctest::Approx(245 / 255.0)); // R = palette byte 2
  CHECK(c.data()[2] == doctest::Approx(10 / 255.0));  // B = palette byte 0
}

TEST_CASE("npy: float32/float64/uint8/uint16, 2-D and HxWxC, big-endian, versions 1 and 2") {
  ScratchDir dir;
  Tensor img = testImage(3, 5, 4);
  img.data()[7] = -3.5f; // stored values come back as stored
  writeNpy(dir.file("a.npy"), img);
  CHECK(maxAbsDiff(readImage(dir.file("a.npy")), img) == 0);
  std::string header = slurp(dir.file("a.npy")).substr(10, 80);
  CHECK(header.find("'shape': (5, 4, 3)") != std::string::npos);
  CHECK((slurp(dir.file("a.npy")).size() - img.bytes()) % 64 == 0); // numpy's header alignment

  double f8[] = {0.25, -1.0, 1e10, 2.0, 3.0, 4.0};
  spit(dir.file("f8.npy"), npy("<f8", "(2, 3)", std::string(reinterpret_cast<char*>(f8), 48)));
  Tensor t = readImage(dir.file("f8.npy"));
  REQUIRE(t.shape() == Shape{1, 1, 2, 3});
  CHECK(t.data()[2] == doctest::Approx(1e10));
  uint16_t u2[] = {1, 65535};
  spit(dir.file("u2.npy"), npy("<u2", "(1, 2)", std::string(reinterpret_cast<char*>(u2), 4), 2));
  CHECK(readImage(dir.file("u2.npy")).data()[1] == 65535.0f);
  spit(dir.file("u1.npy"), npy("|u1", "(1, 1, 2)", std::string("\x07\xff", 2)));
  Tensor u1 = readImage(dir.file("u1.npy"));
  REQUIRE(u1.shape() == Shape{1, 2, 1, 1});
  CHECK(u1.data()[1] == 255.0f);
  spit(dir.file("be.npy"), npy(">f4", "(1, 1)", std::string("\x3f\x80\x00\x00", 4)));
  CHECK(readImage(dir.file("be.npy")).data()[0] == 1.0f);
  spit(dir.file("i4.npy"), npy("<i4", "(1, 1)", std::string(4, '\0')));
  CHECK(errorOf(dir.file("i4.npy")).find("unsupported .npy dtype") != std::string::npos);
  spit(dir.file("1d.npy"), npy("<f4", "(4,)", std::string(16, '\0')));
  CHECK(errorOf(dir.file("1d.npy")).find("dimensions") != std::string::npos);
}

TEST_CASE("non-finite float samples are refused: counted, the first placed, the file named") {
  ScratchDir dir;
  const float nan = std::numeric_limits<float>::quiet_NaN(),
              inf = std::numeric_limits<float>::infinity();
  // 2 x 3 x 2 (HxWxC): NaN at (row 0, column 2, channel 1) and (1, 1, 0).
  float hwc[12] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, nan, 0.7f, 0.8f, nan, 1.0f, 0.f, 0.f};
  spit(dir.file("nan.npy"), npy("<f4", "(2, 3, 2)", std::string(reinterpret_cast<char*>(hwc), 48)));
  std::string e = errorOf(dir.file("nan.npy"));
  CHECK(e.rfind(dir.file("nan.npy") + ": ", 0) == 0);
  CHECK(e.find("2 of 12 values are not finite (2 NaN, 0 Inf)") != std::string::npos);
  CHECK(e.find("row 0, column 2, channel 1") != std::string::npos);

  float gray[4] = {0.f, 1.f, -inf, inf};
  spit(dir.file("inf.npy"), npy("<f4", "(2, 2)", std::string(reinterpret_cast<char*>(gray), 16)));
  e = errorOf(dir.file("inf.npy"));
  CHECK(e.find("inf.npy: 2 of 4 values are not finite (0 NaN, 2 Inf)") != std::string::npos);
  CHECK(e.find("row 1, column 0, channel 0") != std::string::npos);
  // float64 beyond float32's range becomes Inf: refused too.
  double big[2] = {0.5, 1e300};
  spit(dir.file("big.npy"), npy("<f8", "(1, 2)", std::string(reinterpret_cast<char*>(big), 16)));
  CHECK(errorOf(dir.file("big.npy")).find("(0 NaN, 1 Inf)") != std::string::npos);

  // A float TIFF with a NaN goes the same way; finite floats and integer formats still read.
  Tensor t = testImage(1, 4, 5);
  t.data()[7] = nan;
  writeTiff(dir.file("nan.tif"), t);
  CHECK(errorOf(dir.file("nan.tif")).find("row 1, column 2, channel 0") != std::string::npos);
  t.data()[7] = 0.5f;
  writeTiff(dir.file("ok.tif"), t);
  CHECK_NOTHROW(readImage(dir.file("ok.tif")));
}

TEST_CASE("missing, empty, unknown and directory inputs give errors naming the file") {
  ScratchDir dir;
  CHECK(errorOf(dir.file("nope.png")).find("nope.png: cannot open") != std::string::npos);
  spit(dir.file("empty.png"), "");
  CHECK(errorOf(dir.file("empty.png")).find("empty") != std::string::npos);
  spit(dir.file("text.png"), "hello, this is not an image");
  CHECK(errorOf(dir.file("text.png")).find("unsupported file format") != std::string::npos);
  CHECK(errorOf(dir.path().string()).find("directory") != std::string::npos);
}

TEST_CASE("every truncation of a valid file of each format is an IoError, never a crash") {
  ScratchDir dir;
  Tensor img = testImage(3, 12, 10);
  writePng(dir.file("v.png"), img, 16);
  writeTiff(dir.file("v.tif"), img);
  writeNpy(dir.file("v.npy"), img);
  std::vector<uint8_t> rgb(12 * 10 * 3, 77);
  spit(dir.file("v.bmp"), bmp24(10, 12, rgb));
  spit(dir.file("v.jpg"), jpegOf(img));
  for (const char* name : {"v.png", "v.tif", "v.npy", "v.bmp", "v.jpg"}) {
    std::string full = slurp(dir.file(name));
    CHECK_NOTHROW(readImage(dir.file(name)));
    int failures = 0;
    for (size_t len = 0; len < full.size(); ++len) {
      std::string cut = full.substr(0, len);
      if (len < 24) // through the file path and format dispatch too
        spit(dir.file("cut"), cut);
      try {
        if (len < 24)
          readImage(dir.file("cut"));
        else
          decodeAs(name, cut, "cut");
      } catch (const IoError& e) {
        ++failures;
        CHECK(std::string(e.what()).find("cut") != std::string::npos);
        continue;
      }
      FAIL("truncated " << name << " at " << len << " of " << full.size() << " bytes decoded");
    }
    CHECK(failures > 200);
  }
}

TEST_CASE("corrupted bytes never crash the decoders") {
  ScratchDir dir;
  Tensor img = testImage(1, 8, 8);
  writePng(dir.file("v.png"), img, 8);
  writeTiff(dir.file("v.tif"), img);
  writeNpy(dir.file("v.npy"), img);
  spit(dir.file("v.bmp"), bmp24(8, 8, std::vector<uint8_t>(8 * 8 * 3, 1)));
  spit(dir.file("v.jpg"), jpegOf(img));
  uint64_t s = 12345;
  for (const char* name : {"v.png", "v.tif", "v.npy", "v.bmp", "v.jpg"}) {
    std::string full = slurp(dir.file(name));
    for (int trial = 0; trial < 2000; ++trial) {
      std::string bad = full;
      for (int k = 0; k < 3; ++k) { // flip a few bytes, mostly in the headers
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        size_t at = (s >> 33) % std::min<size_t>(bad.size(), trial % 2 ? 64 : bad.size());
        bad[at] = char(bad[at] ^ char(1 + (s >> 20) % 255));
      }
      try {
        Tensor t = decodeAs(name, bad, "bad");
        CHECK(t.numel() > 0); // some flips still decode (e.g. in pixel data): fine
      } catch (const IoError&) {
      }
    }
  }
}

TEST_CASE("absurd sizes are refused before allocating") {
  ScratchDir dir;
  Tensor img = testImage(1, 4, 4);
  writePng(dir.file("v.png"), img, 8);
  spit(dir.file("huge.png"), pngWithSize(slurp(dir.file("v.png")), 10000, 10000));
  CHECK(errorOf(dir.file("huge.png")).find("impossible for a file of") != std::string::npos);
  spit(dir.file("wide.png"), pngWithSize(slurp(dir.file("v.png")), 1u << 20, 1));
  CHECK(!errorOf(dir.file("wide.png")).empty());

  std::string b = bmp24(2, 2, std::vector<uint8_t>(12, 0));
  std::memcpy(&b[18], "\x10\x27\x00\x00", 4); // 10000 x 10000
  std::memcpy(&b[22], "\x10\x27\x00\x00", 4);
  spit(dir.file("huge.bmp"), b);
  CHECK(errorOf(dir.file("huge.bmp")).find("truncated BMP pixel data") != std::string::npos);
  std::memcpy(&b[18], "\x00\x00\x00\x10", 4); // 2^28 wide: over the per-side limit
  spit(dir.file("wide.bmp"), b);
  CHECK(errorOf(dir.file("wide.bmp")).find("exceeds the limit") != std::string::npos);

  spit(dir.file("huge.npy"), npy("<f4", "(100000, 100000)", std::string(64, '\0')));
  CHECK(errorOf(dir.file("huge.npy")).find("exceeds the limit") != std::string::npos);
  spit(dir.file("big.npy"), npy("<f4", "(1000, 1000)", std::string(64, '\0')));
  CHECK(errorOf(dir.file("big.npy")).find("truncated .npy data") != std::string::npos);
  spit(dir.file("neg.npy"), npy("<f4", "(-1, 4)", std::string(64, '\0')));
  CHECK(errorOf(dir.file("neg.npy")).find("corrupt .npy shape") != std::string::npos);
}

TEST_CASE("writeImage chooses the format by extension and refuses unknown ones") {
  ScratchDir dir;
  Tensor img = testImage(1, 6, 6);
  writeImage(dir.file("a.PNG"), img);
  CHECK(sniffFormat(dir.file("a.PNG")) == FileFormat::Png);
  writeImage(dir.file("a.tiff"), img);
  CHECK(sniffFormat(dir.file("a.tiff")) == FileFormat::Tiff);
  writeImage(dir.file("a.npy"), img);
  CHECK(sniffFormat(dir.file("a.npy")) == FileFormat::Npy);
  CHECK_THROWS_AS(writeImage(dir.file("a.jpg"), img), IoError);
  CHECK_THROWS_AS(writePng(dir.file("b.png"), img, 12), IoError);
  CHECK_THROWS_AS(writePng(dir.file("c.png"), Tensor(Shape{1, 2, 4, 4})), IoError);
}

TEST_CASE("shared data: Set5/podm-official BMPs and Set12 PNGs (skipped when absent)") {
  std::string root = std::string(PODM_SOURCE_DIR) + "/../shared/data/";
  if (!std::filesystem::exists(root + "podm-official/baby_GT.bmp")) {
    MESSAGE("shared data not present; skipped");
    return;
  }
  Tensor baby = readImage(root + "podm-official/baby_GT.bmp");
  CHECK(baby.shape() == Shape{1, 3, 512, 512});
  if (std::filesystem::exists(root + "testsets/Set5/butterfly_GT.bmp")) // BITMAPV4 header
    CHECK(readImage(root + "testsets/Set5/butterfly_GT.bmp").shape() == Shape{1, 3, 256, 256});
  if (std::filesystem::exists(root + "testsets/Set12/01.png")) {
    Tensor s = readImage(root + "testsets/Set12/01.png");
    CHECK(s.shape() == Shape{1, 1, 256, 256});
    double mean = 0;
    for (int64_t i = 0; i < s.numel(); ++i)
      mean += s.data()[i];
    mean /= double(s.numel());
    CHECK(mean > 0.05);
    CHECK(mean < 0.95);
  }
}
