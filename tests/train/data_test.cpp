// train/data: image folders (sorting, Y conversion, skipped and bad files), the fixed validation
// split, and the batch sampler (crops really are windows of the images, augmentations are among
// the 8 square symmetries, noise has the requested level, decimation keeps every s-th pixel,
// everything reproducible under a seed and from a saved generator state).
#include "../runtime/io/fixtures.h"
#include "../runtime/io/io_test_util.h"
#include "runtime/io/color.h"
#include "runtime/io/image.h"
#include "train/data.h"

#include <cmath>
#include <cstring>
#include <doctest/doctest.h>

namespace {

using podm::Shape;
using podm::Tensor;
using podm::io::test::ScratchDir;
using podm::io::test::testImage;
namespace tr = podm::train;

tr::Degradation noise(double lo, double hi) {
  tr::Degradation d;
  d.sigmaLow = lo;
  d.sigmaHigh = hi;
  return d;
}

tr::Degradation blurBy(const Tensor& k) {
  tr::Degradation d;
  d.kernels = {k};
  return d;
}

tr::Degradation decimation(int s) {
  tr::Degradation d;
  d.decimate = s;
  return d;
}

bool equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.bytes()) == 0;
}

// The 8 symmetries of a side x side window of `im` at (y0, x0), as row-major arrays.
std::vector<std::vector<float>> symmetries(const Tensor& im, int64_t y0, int64_t x0, int64_t side) {
  std::vector<std::vector<float>> out;
  for (int flip = 0; flip < 2; ++flip)
    for (int rot = 0; rot < 4; ++rot) {
      std::vector<float> v(static_cast<size_t>(side * side));
      for (int64_t y = 0; y < side; ++y)
        for (int64_t x = 0; x < side; ++x) {
          int64_t sy = y, sx = x;
          for (int r = 0; r < rot; ++r) {
            int64_t t = sy;
            sy = sx;
            sx = side - 1 - t;
          }
          if (flip)
            sx = side - 1 - sx;
          v[static_cast<size_t>(y * side + x)] = im.at(y0 + sy, x0 + sx);
        }
      out.push_back(v);
    }
  return out;
}

// Whether `s` (side x side values) is a window of `im`, allowing the 8 symmetries when `augment`.
bool isWindowOf(const float* s, const Tensor& im, int64_t side, bool augment) {
  for (int64_t y0 = 0; y0 + side <= im.shape().h; ++y0)
    for (int64_t x0 = 0; x0 + side <= im.shape().w; ++x0) {
      auto all = symmetries(im, y0, x0, side);
      for (size_t k = 0; k < (augment ? all.size() : 1); ++k)
        if (std::memcmp(all[k].data(), s, all[k].size() * sizeof(float)) == 0)
          return true;
    }
  return false;
}

struct Folder {
  ScratchDir dir;
  std::vector<tr::NamedImage> images;
  Folder() {
    podm::io::writePng(dir.file("b.png"), testImage(1, 24, 20, 2));
    podm::io::writePng(dir.file("a.png"), testImage(3, 16, 18, 1)); // RGB
    podm::io::writePng(dir.file("c.PNG"), testImage(1, 20, 20, 3));
    podm::io::test::spit(dir.file("notes.txt"), "not an image");
    images = tr::loadImageFolder(dir.path().string());
  }
  std::vector<const tr::NamedImage*> all() const {
    std::vector<const tr::NamedImage*> p;
    for (const auto& im : images)
      p.push_back(&im);
    return p;
  }
};

} // namespace

TEST_CASE("image folder: sorted by name, gray or Y, other files skipped") {
  Folder f;
  std::vector<std::string> skipped;
  auto images = tr::loadImageFolder(f.dir.path().string(), &skipped);
  REQUIRE(images.size() == 3);
  CHECK(images[0].path.ends_with("a.png"));
  CHECK(images[1].path.ends_with("b.png"));
  CHECK(images[2].path.ends_with("c.PNG"));
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].ends_with("notes.txt"));
  for (const auto& im : images)
    CHECK(im.image.shape().c == 1);
  // The RGB file becomes exactly the luma of what is stored.
  CHECK(equal(images[0].image, podm::io::luma(podm::io::readImage(f.dir.file("a.png")))));
  CHECK(images[1].image.shape() == Shape{1, 1, 24, 20});
}

TEST_CASE("image folder: JPEGs (.jpg, .jpeg, any case) are training images too") {
  ScratchDir dir;
  std::vector<uint8_t> gray(16 * 24, 128), rgb(16 * 24 * 3, 200);
  podm::io::test::spit(dir.file("a.jpg"), podm::io::test::jpegRaw(24, 16, 1, gray, 90));
  podm::io::test::spit(dir.file("b.JPEG"), podm::io::test::jpegRaw(24, 16, 3, rgb, 90));
  std::vector<std::string> skipped;
  auto images = tr::loadImageFolder(dir.path().string(), &skipped);
  REQUIRE(images.size() == 2);
  CHECK(skipped.empty());
  CHECK(images[0].image.shape() == Shape{1, 1, 16, 24});
  CHECK(images[1].image.shape() == Shape{1, 1, 16, 24}); // RGB reduced to Y
  CHECK(std::abs(images[0].image.data()[0] - 128 / 255.0f) < 2 / 255.0f);
}

TEST_CASE("image folder: empty, missing and unreadable data are named") {
  ScratchDir empty;
  CHECK_THROWS_WITH_AS(tr::loadImageFolder(empty.path().string()),
                       doctest::Contains("no training images"), tr::DataError);
  CHECK_THROWS_WITH_AS(tr::loadImageFolder(empty.file("nope")), doctest::Contains("not a folder"),
                       tr::DataError);
  ScratchDir bad;
  podm::io::writePng(bad.file("good.png"), testImage(1, 8, 8));
  podm::io::test::spit(bad.file("broken.png"), "\x89PNG\r\n\x1a\n garbage");
  CHECK_THROWS_WITH_AS(tr::loadImageFolder(bad.path().string()), doctest::Contains("broken.png"),
                       tr::DataError);
}

TEST_CASE("validation split: fixed by position in the sorted list, disjoint, complete") {
  tr::Split s = tr::splitByName(11, 2);
  CHECK(s.val == std::vector<size_t>{2, 8});
  CHECK(s.train.size() == 9);
  std::vector<bool> seen(11, false);
  for (size_t i : s.train)
    seen[i] = true;
  for (size_t i : s.val) {
    CHECK_FALSE(seen[i]);
    seen[i] = true;
  }
  for (bool b : seen)
    CHECK(b);
  // The same answer every time (no seed involved).
  CHECK(tr::splitByName(11, 2).val == s.val);
  CHECK(tr::splitByName(5, 0).train.size() == 5);
  CHECK_THROWS_AS(tr::splitByName(2, 2), tr::DataError);
}

TEST_CASE("sampler: crops are windows of the images, augmented by the square's symmetries") {
  Folder f;
  for (bool augment : {false, true}) {
    tr::BatchSampler s(f.all(), {.crop = 6, .flips = augment, .rotations = augment}, {}, 3);
    tr::Batch b = s.next(12);
    REQUIRE(b.clean.shape() == Shape{12, 1, 6, 6});
    CHECK(equal(b.clean, b.degraded)); // no degradation asked for
    for (int64_t i = 0; i < 12; ++i) {
      const float* crop = b.clean.data() + i * 36;
      bool found = false;
      for (const auto& im : f.images)
        found = found || isWindowOf(crop, im.image, 6, augment);
      CHECK(found);
    }
  }
}

TEST_CASE("sampler: deterministic under a seed, resumable from its state") {
  Folder f;
  tr::Degradation levels = noise(10, 30);
  tr::BatchSampler a(f.all(), {.crop = 8}, levels, 42), b(f.all(), {.crop = 8}, levels, 42),
      c(f.all(), {.crop = 8}, levels, 43);
  tr::Batch a1 = a.next(4), b1 = b.next(4), c1 = c.next(4);
  CHECK(equal(a1.clean, b1.clean));
  CHECK(equal(a1.degraded, b1.degraded));
  CHECK_FALSE(equal(a1.degraded, c1.degraded));

  std::string saved = a.state();
  tr::Batch a2 = a.next(4);
  tr::BatchSampler d(f.all(), {.crop = 8}, levels, 7); // another seed, then the saved state
  d.setState(saved);
  tr::Batch d2 = d.next(4);
  CHECK(equal(a2.clean, d2.clean));
  CHECK(equal(a2.degraded, d2.degraded));
  CHECK_THROWS_AS(d.setState("not a state"), tr::DataError);
}

TEST_CASE("sampler: noise level, decimation and blur") {
  Folder f;
  tr::BatchSampler s(f.all(), {.crop = 16}, noise(25, 25), 1);
  tr::Batch b = s.next(64);
  double sum = 0, sq = 0;
  const int64_t n = b.clean.numel();
  for (int64_t i = 0; i < n; ++i) {
    double d = b.degraded.data()[i] - b.clean.data()[i];
    sum += d;
    sq += d * d;
  }
  double sd = std::sqrt(sq / n - (sum / n) * (sum / n));
  CHECK(sd == doctest::Approx(25.0 / 255).epsilon(0.03));

  tr::BatchSampler dec(f.all(), {.crop = 8, .flips = false, .rotations = false}, decimation(2), 5);
  tr::Batch db = dec.next(3);
  REQUIRE(db.degraded.shape() == Shape{3, 1, 4, 4});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t y = 0; y < 4; ++y)
      for (int64_t x = 0; x < 4; ++x)
        CHECK(db.degraded.data()[i * 16 + y * 4 + x] ==
              db.clean.data()[i * 64 + (2 * y) * 8 + 2 * x]);

  Tensor k = tr::kernelFromSpec("gaussian:5:1.5");
  double ks = 0;
  for (int64_t i = 0; i < k.numel(); ++i)
    ks += k.data()[i];
  CHECK(ks == doctest::Approx(1.0).epsilon(1e-5));
  CHECK_THROWS_AS(tr::kernelFromSpec("gaussian:five:1"), tr::DataError);
  CHECK_THROWS_AS(tr::kernelFromSpec("box:3:1"), tr::DataError);
  tr::BatchSampler blur(f.all(), {.crop = 8}, blurBy(k), 5);
  tr::Batch bb = blur.next(2);
  CHECK_FALSE(equal(bb.clean, bb.degraded));
  // Blurring is smoothing: total variation goes down.
  auto tv = [](const Tensor& t) {
    double v = 0;
    for (int64_t i = 1; i < t.numel(); ++i)
      v += std::fabs(t.data()[i] - t.data()[i - 1]);
    return v;
  };
  CHECK(tv(bb.degraded) < tv(bb.clean));
}

TEST_CASE("kernel folder and bad crops") {
  ScratchDir kd;
  podm::io::test::spit(kd.file("k2.txt"), "0 1 0\n1 2 1\n0 1 0\n");
  podm::io::test::spit(kd.file("k1.txt"), "1 1\n1 1\n");
  auto ks = tr::loadKernelFolder(kd.path().string());
  REQUIRE(ks.size() == 2);
  CHECK(ks[0].shape() == Shape{1, 1, 2, 2}); // sorted by name: k1 first
  CHECK(ks[1].data()[4] == doctest::Approx(2.0 / 6));
  podm::io::test::spit(kd.file("k3.txt"), "1 -1\n");
  CHECK_THROWS_WITH_AS(tr::loadKernelFolder(kd.path().string()), doctest::Contains("k3.txt"),
                       tr::DataError);

  // --kernels shake:COUNT:SIZE: COUNT distinct kernels within SIZE, the same for the same seed.
  auto shake = tr::trainingKernels("shake:5:21", 3), again = tr::trainingKernels("shake:5:21", 3);
  REQUIRE(shake.size() == 5);
  for (size_t i = 0; i < 5; ++i) {
    CHECK(equal(shake[i], again[i]));
    CHECK(shake[i].shape().h <= 21);
  }
  CHECK_FALSE(equal(shake[0], tr::trainingKernels("shake:1:21", 4)[0]));
  CHECK_THROWS_WITH_AS(tr::trainingKernels(kd.path().string(), 1), doctest::Contains("k3.txt"),
                       tr::DataError); // anything else is a folder
  for (const char* bad : {"shake:0:21", "shake:5:20", "shake:5", "shake:x:21", "shake:5:21:1"})
    CHECK_THROWS_WITH_AS(tr::trainingKernels(bad, 1), doctest::Contains("shake:COUNT:SIZE"),
                         tr::DataError);

  Folder f;
  CHECK_THROWS_WITH_AS(tr::BatchSampler(f.all(), {.crop = 21}, {}, 1),
                       doctest::Contains("smaller than the crop 21x21"), tr::DataError);
  CHECK_THROWS_AS(tr::BatchSampler(f.all(), {.crop = 9}, decimation(2), 1), tr::DataError);
}

TEST_CASE("validation set: centre crops, the same noise on every call") {
  Folder f;
  tr::Degradation level = noise(25, 25);
  auto v1 = tr::validationSet(f.all(), 10, level), v2 = tr::validationSet(f.all(), 10, level);
  REQUIRE(v1.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(equal(v1[i].degraded, v2[i].degraded));
    CHECK_FALSE(equal(v1[i].degraded, v1[i].clean));
  }
  // b.png is 24x20: the centre 10x10 window starts at (7, 5).
  CHECK(v1[1].clean.data()[0] == f.images[1].image.at(7, 5));
  auto whole = tr::validationSet(f.all(), 0, level);
  CHECK(whole[1].clean.shape() == Shape{1, 1, 24, 20});
}
