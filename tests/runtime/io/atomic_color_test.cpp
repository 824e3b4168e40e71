// Atomic writes (a failed write leaves the old file and no temporaries) and the BT.601 YCbCr
// conversion with the luma split/merge used for colour images.
#include "runtime/io/atomic_file.h"
#include "runtime/io/color.h"
#include "runtime/io/image.h"
#include "tests/runtime/io/io_test_util.h"

#include <csignal>
#include <doctest/doctest.h>
#include <sys/resource.h>

using namespace podm;
using namespace podm::io;
using namespace podm::io::test;

TEST_CASE("atomic write replaces the target and leaves no temporary") {
  ScratchDir dir;
  writeFileAtomic(dir.file("t.txt"), "old");
  writeFileAtomic(dir.file("t.txt"), "new content");
  CHECK(slurp(dir.file("t.txt")) == "new content");
  CHECK(dir.entryCount() == 1);
}

TEST_CASE("a producer that fails leaves the old file intact and removes the temporary") {
  ScratchDir dir;
  spit(dir.file("t.png"), "precious");
  CHECK_THROWS_AS(writeFileAtomic(dir.file("t.png"),
                                  [](const std::string& tmp) {
                                    spit(tmp, "half a fi");
                                    throw IoError("simulated failure");
                                  }),
                  IoError);
  CHECK(slurp(dir.file("t.png")) == "precious");
  CHECK(dir.entryCount() == 1);
}

TEST_CASE("writing into an unusable directory fails cleanly; the target is untouched") {
  ScratchDir dir;
  spit(dir.file("plain"), "x");
  // A path through a regular file: no temporary can be created there (works as root too).
  CHECK_THROWS_WITH_AS(writePng(dir.file("plain/out.png"), testImage(1, 4, 4)),
                       doctest::Contains("cannot create a temporary file"), IoError);
  CHECK_THROWS_AS(writeNpy(dir.file("missing/out.npy"), testImage(1, 4, 4)), IoError);
  // Renaming onto a non-empty directory fails after the temporary was written.
  std::filesystem::create_directory(dir.file("target.png"));
  spit(dir.file("target.png/keep"), "k");
  CHECK_THROWS_AS(writePng(dir.file("target.png"), testImage(1, 4, 4)), IoError);
  CHECK(slurp(dir.file("target.png/keep")) == "k");
  CHECK(dir.entryCount() == 2); // plain, target.png: no temporaries left
}

TEST_CASE("an output's place is checked before the work, leaving nothing behind") {
  ScratchDir dir;
  spit(dir.file("plain"), "x");
  std::filesystem::create_directory(dir.file("sub"));
  CHECK_FALSE(fileOutputProblem(dir.file("new.bin")));
  CHECK_FALSE(fileOutputProblem(dir.file("plain"))); // replaced atomically, as writes do
  CHECK(slurp(dir.file("plain")) == "x");
  CHECK(fileOutputProblem(dir.file("missing/out.bin")).value() ==
        dir.file("missing/out.bin") + ": the folder '" + dir.file("missing") + "' does not exist");
  CHECK(fileOutputProblem(dir.file("plain/out.bin")).value() ==
        dir.file("plain/out.bin") + ": '" + dir.file("plain") + "' is not a folder");
  CHECK(fileOutputProblem(dir.file("sub")).value() ==
        dir.file("sub") + ": names a folder, not a file");
  CHECK(fileOutputProblem(dir.file("sub") + "/").has_value());

  CHECK_FALSE(folderOutputProblem(dir.file("sub")));
  CHECK_FALSE(folderOutputProblem(dir.file("new/deeper/still"))); // create_directories makes them
  CHECK(folderOutputProblem(dir.file("plain/x")).value() ==
        dir.file("plain/x") + ": '" + dir.file("plain") + "' is not a folder");
  CHECK(folderOutputProblem(dir.file("plain")).has_value());
  CHECK(folderOutputProblem(dir.file("plain") + "/").has_value());

  CHECK_FALSE(imageOutputProblem(dir.file("a.PNG")));
  CHECK_FALSE(imageOutputProblem(dir.file("a.tiff")));
  CHECK_FALSE(imageOutputProblem(dir.file("a.npy")));
  CHECK(imageOutputProblem(dir.file("a.jpg")).value().find("JPEG output is not supported") !=
        std::string::npos);
  CHECK(imageOutputProblem(dir.file("a.bmp")).value().find("cannot choose an output format") !=
        std::string::npos);
  CHECK(imageOutputProblem(dir.file("missing/a.png")).value().find("does not exist") !=
        std::string::npos);
  // The checks created nothing: no probe file, no folder.
  CHECK(dir.entryCount() == 2);
  CHECK(std::filesystem::is_empty(dir.file("sub")));
}

TEST_CASE("a write that runs out of space (file size limit) keeps the old file") {
  ScratchDir dir;
  Tensor small = testImage(1, 4, 4);
  writeTiff(dir.file("a.tif"), small);
  std::string before = slurp(dir.file("a.tif"));
  rlimit old{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto oldHandler = std::signal(SIGXFSZ, SIG_IGN); // get EFBIG instead of a signal
  rlimit lim = old;
  lim.rlim_cur = 4096;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
  bool threwTiff = false, threwNpy = false;
  try {
    writeTiff(dir.file("a.tif"), testImage(3, 64, 64)); // 48 KiB of floats
  } catch (const IoError&) {
    threwTiff = true;
  }
  try {
    writeNpy(dir.file("a.tif.npy"), testImage(3, 64, 64));
  } catch (const IoError&) {
    threwNpy = true;
  }
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, oldHandler);
  CHECK(threwTiff);
  CHECK(threwNpy);
  CHECK(slurp(dir.file("a.tif")) == before);
  CHECK(dir.entryCount() == 1);
}

TEST_CASE("YCbCr: MATLAB rgb2ycbcr reference values and exact inverse") {
  Tensor rgb(Shape{1, 3, 1, 4});
  float px[4][3] = {{0, 0, 0}, {1, 1, 1}, {1, 0, 0}, {0.2f, 0.5f, 0.8f}};
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 3; ++c)
      rgb.data()[c * 4 + i] = px[i][c];
  Tensor ycc = rgbToYCbCr(rgb);
  const float* y = ycc.data();
  CHECK(y[0] == doctest::Approx(16 / 255.0));
  CHECK(y[4] == doctest::Approx(128 / 255.0));
  CHECK(y[1] == doctest::Approx(235 / 255.0));
  CHECK(y[4 + 1] == doctest::Approx(128 / 255.0));
  // MATLAB: rgb2ycbcr(uint8([255 0 0])) = [81 90 240]
  CHECK(y[2] * 255 == doctest::Approx(81.481).epsilon(1e-4));
  CHECK(y[4 + 2] * 255 == doctest::Approx(90.203).epsilon(1e-4));
  CHECK(y[8 + 2] * 255 == doctest::Approx(240.0).epsilon(1e-4));
  // Y of (0.2, 0.5, 0.8) by the formula written out here.
  CHECK(y[3] == doctest::Approx((16 + 65.481 * 0.2 + 128.553 * 0.5 + 24.966 * 0.8) / 255));
  Tensor img = testImage(3, 9, 13);
  CHECK(maxAbsDiff(yCbCrToRgb(rgbToYCbCr(img)), img) < 1e-6);
}

TEST_CASE("luma split/merge: gray passes through, RGB recombines with the original chroma") {
  Tensor gray = testImage(1, 8, 8);
  LumaSplit g = splitLuma(gray);
  CHECK(!g.color());
  CHECK(maxAbsDiff(mergeLuma(g.y, g), gray) == 0);

  Tensor img = testImage(3, 16, 12);
  LumaSplit s = splitLuma(img);
  REQUIRE(s.color());
  CHECK(s.y.shape() == Shape{1, 1, 16, 12});
  CHECK(maxAbsDiff(luma(img), s.y) == 0);
  CHECK(maxAbsDiff(mergeLuma(s.y, s), img) < 1e-5);
  // A processed Y (brighter) changes only luma: the merged image's chroma equals the original's.
  Tensor y2 = s.y.clone();
  for (int64_t i = 0; i < y2.numel(); ++i)
    y2.data()[i] = y2.data()[i] * 0.9f + 0.05f;
  LumaSplit back = splitLuma(mergeLuma(y2, s));
  CHECK(maxAbsDiff(back.cb, s.cb) < 1e-5);
  CHECK(maxAbsDiff(back.y, y2) < 1e-5);
  // Super-resolution: a 2x larger Y gets bicubically upscaled chroma of its size.
  Tensor big = Tensor::image(32, 24);
  big.fill(0.5f);
  Tensor merged = mergeLuma(big, s);
  CHECK(merged.shape() == Shape{1, 3, 32, 24});
  CHECK_THROWS_AS(splitLuma(Tensor(Shape{1, 2, 4, 4})), std::invalid_argument);
}
