// Inpainting masks and Poisson noise (io::randomMask, io::readMask, io::addPoissonNoise, their
// place in io::degrade) and `podm degrade --mask/--mask-out/--poisson`: the kept fraction is the
// one asked for, a seed gives the same mask and noise, a mask of the wrong size is an error naming
// it with no output left behind, and the Poisson samples have mean x and variance x / peak on
// both sides of the sampler's switch from Knuth's method to PTRS.
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <cmath>
#include <doctest/doctest.h>
#include <filesystem>

using namespace podm;
using podm::test::ScratchDir;
using namespace podm::io;

namespace {

double fractionKept(const Tensor& mask) {
  double kept = 0;
  int64_t notBinary = 0;
  for (int64_t i = 0; i < mask.numel(); ++i) {
    notBinary += mask.data()[i] != 0 && mask.data()[i] != 1;
    kept += mask.data()[i];
  }
  CHECK(notBinary == 0);
  return kept / double(mask.numel());
}

bool same(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (a.data()[i] != b.data()[i])
      return false;
  return true;
}

Tensor flat(int64_t h, int64_t w, float value) {
  Tensor t = Tensor::image(h, w);
  t.fill(value);
  return t;
}

} // namespace

TEST_CASE("random masks keep the fraction asked for, the same one for the same seed") {
  for (double fraction : {0.1, 0.5, 0.8}) {
    CAPTURE(fraction);
    const Tensor mask = randomMask(256, 256, fraction, 7);
    CHECK(mask.shape() == Shape{1, 1, 256, 256});
    CHECK(std::abs(fractionKept(mask) - fraction) < 0.02);
    CHECK(same(mask, randomMask(256, 256, fraction, 7)));
    CHECK_FALSE(same(mask, randomMask(256, 256, fraction, 8)));
  }
  // Kept pixels are spread over the image, not bunched: every 32x32 tile keeps about half.
  const Tensor half = randomMask(256, 256, 0.5, 1);
  for (int64_t ty = 0; ty < 8; ++ty)
    for (int64_t tx = 0; tx < 8; ++tx) {
      double kept = 0;
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 32; ++x)
          kept += half.data()[(ty * 32 + y) * 256 + tx * 32 + x];
      CHECK(std::abs(kept / 1024 - 0.5) < 0.08);
    }
  CHECK(fractionKept(randomMask(16, 16, 1.0, 3)) == 1);
  CHECK_THROWS_AS(randomMask(16, 16, 1.5, 3), std::invalid_argument);
  CHECK(maskFractionFromSpec("random:0.25") == 0.25);
  CHECK(maskFractionFromSpec("mask.png") == 0);
  CHECK_THROWS_AS(maskFractionFromSpec("random:0"), std::invalid_argument);
  CHECK_THROWS_AS(maskFractionFromSpec("random:half"), std::invalid_argument);
}

TEST_CASE("the mask in degrade: after downscaling, before noise, which spares dropped pixels") {
  const Tensor image = syntheticImage("scene-rgb", 64, 64, 2);
  Degradation d;
  d.downscale = Degradation::Downscale::Decimate;
  d.scale = 2;
  d.maskFraction = 0.5;
  d.noise255 = 10;
  d.poissonPeak = 50;
  d.seed = 4;
  Tensor mask;
  const Tensor out = degrade(image, d, &mask);
  REQUIRE(mask.shape() == Shape{1, 1, 32, 32});
  CHECK(same(mask, randomMask(32, 32, 0.5, 4)));
  int64_t noisyDropped = 0;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < 32 * 32; ++i)
      noisyDropped += mask.data()[i] == 0 && out.data()[c * 32 * 32 + i] != 0;
  CHECK(noisyDropped == 0);
  CHECK(same(out, degrade(image, d)));

  // A given mask must have the size of the downscaled image; the error names it.
  d.maskFraction = 0;
  d.mask = Tensor::image(64, 64);
  d.maskName = "holes.png";
  CHECK_THROWS_WITH_AS(degrade(image, d),
                       "holes.png: the mask is 64x64 but the image to mask is 32x32 (after "
                       "downscaling)",
                       IoError);

  // Without a mask the Gaussian noise of a seed is what it always was.
  Degradation g;
  g.noise255 = 3;
  g.seed = 9;
  CHECK(same(degrade(image, g), addGaussianNoise(image, 3 / 255.0, 9)));
}

TEST_CASE("Poisson noise: mean x and variance x / peak, below and above the sampler switch") {
  // peak * x = 3 (Knuth's method) and 300 (PTRS), on 256x256 flat images.
  for (double peak : {10.0, 1000.0}) {
    CAPTURE(peak);
    const float x = 0.3f;
    const Tensor noisy = addPoissonNoise(flat(256, 256, x), peak, 11);
    double sum = 0, sum2 = 0;
    int64_t fractional = 0; // samples that are no whole photon count
    for (int64_t i = 0; i < noisy.numel(); ++i) {
      const double v = noisy.data()[i];
      fractional += std::abs(v * peak - std::round(v * peak)) > 1e-3;
      sum += v;
      sum2 += v * v;
    }
    CHECK(fractional == 0);
    const double n = double(noisy.numel());
    const double mean = sum / n, variance = sum2 / n - mean * mean;
    // Standard errors: sqrt(x / peak / n) for the mean, about sqrt(2 / n) relative for the
    // variance (0.6%); the bounds are over five of them.
    CHECK(std::abs(mean - x) < 5 * std::sqrt(x / peak / n));
    CHECK(variance == doctest::Approx(x / peak).epsilon(0.03));
    CHECK(same(noisy, addPoissonNoise(flat(256, 256, x), peak, 11)));
    CHECK_FALSE(same(noisy, addPoissonNoise(flat(256, 256, x), peak, 12)));
  }
  // No photons where the image is 0 or below.
  const Tensor dark = addPoissonNoise(flat(8, 8, -0.5f), 100, 1);
  CHECK(same(dark, flat(8, 8, 0.0f)));
  CHECK_THROWS_AS(addPoissonNoise(flat(8, 8, 0.5f), 0, 1), std::invalid_argument);
}

TEST_CASE("podm degrade --mask, --mask-out and --poisson") {
  ScratchDir tmp("podm-mask");
  REQUIRE(runPodm("degrade --synthetic scene --size 64x64 -o " + tmp.file("gt.png")).status == 0);
  const std::string gt = tmp.file("gt.png");
  PodmResult r = runPodm("degrade " + gt + " --mask random:0.5 --seed 5 --mask-out " +
                         tmp.file("m.png") + " -o " + tmp.file("o.png"));
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("mask random:0.5 (2048 of 4096 pixels kept)") != std::string::npos);
  const Tensor mask = readImage(tmp.file("m.png"));
  CHECK(same(mask, randomMask(64, 64, 0.5, 5)));
  const Tensor observed = readImage(tmp.file("o.png"));
  const Tensor clean = readImage(gt);
  CHECK(same(observed, applyMask(clean, mask)));

  // The written mask given back as a file: the same observation.
  r = runPodm("degrade " + gt + " --mask " + tmp.file("m.png") + " -o " + tmp.file("o2.png"));
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(same(readImage(tmp.file("o2.png")), observed));

  r = runPodm("degrade " + gt + " --poisson 40 --seed 2 -o " + tmp.file("p.npy"));
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(same(readImage(tmp.file("p.npy")), addPoissonNoise(clean, 40, 2)));

  // Bad input: exit 1 naming the mask, nothing written; bad flags: exit 2.
  r = runPodm("degrade " + gt + " --bicubic 2 --mask " + tmp.file("m.png") + " -o " +
              tmp.file("bad.png") + " --gt-out " + tmp.file("badgt.png") + " --mask-out " +
              tmp.file("badm.png"));
  CHECK(r.status == 1);
  CHECK(r.out.find("m.png: the mask is 64x64 but the image to mask is 32x32") != std::string::npos);
  for (const char* name : {"bad.png", "badgt.png", "badm.png"})
    CHECK_FALSE(std::filesystem::exists(tmp.file(name)));
  r = runPodm("degrade " + gt + " --mask " + tmp.file("nope.png") + " -o " + tmp.file("bad.png"));
  CHECK(r.status == 1);
  CHECK(r.out.find("nope.png: cannot open") != std::string::npos);
  r = runPodm("degrade " + gt + " --mask " + gt + " --mask-out " + tmp.file("m.jpg") + " -o " +
              tmp.file("bad.png"));
  CHECK(r.status == 2);
  CHECK(r.out.find("JPEG output is not supported") != std::string::npos);
  CHECK(runPodm("degrade " + gt + " --mask random:0 -o " + tmp.file("bad.png")).status == 2);
  CHECK(
      runPodm("degrade " + gt + " --mask-out " + tmp.file("m2.png") + " -o " + tmp.file("bad.png"))
          .status == 2);
  CHECK(runPodm("degrade " + gt + " --poisson -3 -o " + tmp.file("bad.png")).status == 2);
  CHECK_FALSE(std::filesystem::exists(tmp.file("bad.png")));
}
