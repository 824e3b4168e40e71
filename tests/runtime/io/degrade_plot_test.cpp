// Test-data generation (kernels, degradations, synthetic images, the `podm degrade` verb) and the
// trace plotter (`podm plot`): determinism, kernel properties, the panels chosen by data, and a
// readable PNG.
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"
#include "runtime/io/metrics.h"
#include "runtime/io/plot.h"
#include "tests/runtime/io/io_test_util.h"

#include <cmath>
#include <doctest/doctest.h>
#include <sys/wait.h>

using namespace podm;
using namespace podm::io;
using namespace podm::io::test;

namespace {

// Runs the real podm executable (as a user would) and returns its exit status.
int runPodm(const std::vector<std::string>& args) {
  std::string cmd = PODM_EXE;
  for (const std::string& a : args)
    cmd += " '" + a + "'";
  cmd += " >/dev/null 2>&1";
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

double sum(const Tensor& t) {
  double s = 0;
  for (int64_t i = 0; i < t.numel(); ++i)
    s += t.data()[i];
  return s;
}

} // namespace

TEST_CASE("Gaussian kernel: normalised, symmetric, MATLAB fspecial values") {
  Tensor k = gaussianKernel(5, 1.0);
  CHECK(k.shape() == Shape{1, 1, 5, 5});
  CHECK(sum(k) == doctest::Approx(1.0));
  CHECK(k.at(0, 1) == doctest::Approx(k.at(3, 4)));
  CHECK(k.at(2, 2) / k.at(2, 3) == doctest::Approx(std::exp(0.5)));
  CHECK(k.at(2, 2) == doctest::Approx(0.1621).epsilon(1e-3)); // fspecial('gaussian',5,1)(3,3)
}

TEST_CASE("motion kernel: horizontal line at angle 0, vertical at 90, normalised") {
  Tensor h = motionKernel(7, 0);
  CHECK(sum(h) == doctest::Approx(1.0));
  CHECK(h.shape().h == 1);
  CHECK(h.shape().w == 7);
  Tensor v = motionKernel(7, 90);
  CHECK(v.shape().w == 1);
  CHECK(v.shape().h == 7);
  Tensor d = motionKernel(10, 45);
  CHECK(d.shape().h == d.shape().w);
  CHECK(d.at(0, d.shape().w - 1) > d.at(0, 0)); // 45 degrees goes up to the right
}

TEST_CASE("shake kernel: deterministic, inside its support, centred, a path not a blob") {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    CAPTURE(seed);
    Tensor k = shakeKernel(27, seed);
    Tensor again = kernelFromSpec("shake:27:" + std::to_string(seed));
    REQUIRE(k.shape() == again.shape());
    CHECK(std::equal(k.data(), k.data() + k.numel(), again.data()));
    CHECK(sum(k) == doctest::Approx(1.0));
    CHECK(k.shape().h <= 27);
    CHECK(k.shape().w <= 27);
    CHECK(k.shape().h % 2 == 1);
    CHECK(k.shape().w % 2 == 1);
    // The mean position of the blur sits at the centre (kh/2, kw/2), to splatting's accuracy.
    double my = 0, mx = 0;
    int64_t covered = 0;
    for (int64_t y = 0; y < k.shape().h; ++y)
      for (int64_t x = 0; x < k.shape().w; ++x) {
        my += k.at(y, x) * double(y);
        mx += k.at(y, x) * double(x);
        covered += k.at(y, x) > 0;
      }
    CHECK(std::abs(my - double(k.shape().h / 2)) < 0.5);
    CHECK(std::abs(mx - double(k.shape().w / 2)) < 0.5);
    // A thin path: it covers a small part of the support.
    CHECK(covered < 27 * 27 / 4);
  }
  Tensor a = shakeKernel(27, 1), b = shakeKernel(27, 2);
  CHECK((a.shape() != b.shape() || !std::equal(a.data(), a.data() + a.numel(), b.data())));
  CHECK_THROWS_AS(shakeKernel(26, 1), std::invalid_argument); // even support
  CHECK_THROWS_AS(kernelFromSpec("shake:27:-1"), std::invalid_argument);
  CHECK_THROWS_AS(kernelFromSpec("shake:27:1.5"), std::invalid_argument);
  CHECK_THROWS_AS(kernelFromSpec("shake:27:1e30"), std::invalid_argument); // no uint64 for it
}

TEST_CASE("kernel files: text rows, shared kernels12, errors") {
  ScratchDir dir;
  spit(dir.file("k.txt"), "0 1 0\n1, 4, 1\n0\t1\t0\n\n");
  Tensor k = readKernel(dir.file("k.txt"));
  CHECK(k.shape() == Shape{1, 1, 3, 3});
  CHECK(k.at(1, 1) == doctest::Approx(0.5));
  writeKernelText(dir.file("out.txt"), k);
  CHECK(maxAbsDiff(readKernel(dir.file("out.txt")), k) < 1e-8);
  spit(dir.file("ragged.txt"), "1 2\n3\n");
  CHECK_THROWS_WITH_AS(readKernel(dir.file("ragged.txt")), doctest::Contains("ragged.txt:2"),
                       IoError);
  spit(dir.file("neg.txt"), "1 -2\n");
  CHECK_THROWS_AS(readKernel(dir.file("neg.txt")), IoError);
  spit(dir.file("word.txt"), "1 x\n");
  CHECK_THROWS_AS(readKernel(dir.file("word.txt")), IoError);
  spit(dir.file("nan.txt"), "1 2\n3 nan\n");
  CHECK_THROWS_WITH_AS(readKernel(dir.file("nan.txt")),
                       doctest::Contains("nan.txt: 1 of 4 values are not finite (1 NaN, 0 Inf); "
                                         "the first is at row 1, column 1"),
                       IoError);
  spit(dir.file("inf.txt"), "1 1e99\n");
  CHECK_THROWS_WITH_AS(readKernel(dir.file("inf.txt")), doctest::Contains("(0 NaN, 1 Inf)"),
                       IoError);
  std::string shared = std::string(PODM_SOURCE_DIR) + "/../shared/data/kernels12/kernel01.txt";
  if (std::filesystem::exists(shared)) {
    Tensor s = readKernel(shared);
    CHECK(s.shape().h == s.shape().w);
    CHECK(sum(s) == doctest::Approx(1.0).epsilon(1e-5));
  }
}

TEST_CASE("degradations: blur keeps the mean (periodic), decimate/bicubic sizes, noise stats") {
  Tensor img = syntheticImage("scene", 64, 48, 5);
  Tensor b = blur(img, gaussianKernel(9, 2.0), numerics::Boundary::Periodic);
  CHECK(sum(b) == doctest::Approx(sum(img)).epsilon(1e-4));
  CHECK(psnr(b, img) < 40); // it did blur
  CHECK(decimate(img, 3).shape() == Shape{1, 1, 22, 16});
  CHECK(decimate(img, 3).at(1, 2) == img.at(3, 6));
  CHECK(bicubicDownscale(img, 4).shape() == Shape{1, 1, 16, 12});
  CHECK(modcrop(Tensor(Shape{1, 3, 10, 11}), 4).shape() == Shape{1, 3, 8, 8});
  Tensor flat = Tensor::image(200, 200);
  flat.fill(0.5f);
  Tensor n = addGaussianNoise(flat, 0.1, 7);
  double mean = sum(n) / double(n.numel()), var = 0;
  for (int64_t i = 0; i < n.numel(); ++i)
    var += (n.data()[i] - mean) * (n.data()[i] - mean);
  var /= double(n.numel());
  CHECK(mean == doctest::Approx(0.5).epsilon(0.01));
  CHECK(std::sqrt(var) == doctest::Approx(0.1).epsilon(0.02));
  CHECK(maxAbsDiff(addGaussianNoise(flat, 0.1, 7), n) == 0);
  CHECK(maxAbsDiff(addGaussianNoise(flat, 0.1, 8), n) > 0);
}

TEST_CASE("synthetic images: deterministic, in [0,1], with edges and texture") {
  Tensor a = syntheticImage("scene", 96, 128, 1);
  CHECK(maxAbsDiff(a, syntheticImage("scene", 96, 128, 1)) == 0);
  CHECK(maxAbsDiff(a, syntheticImage("scene", 96, 128, 2)) > 0.05);
  double lo = 1, hi = 0, grad = 0;
  for (int64_t y = 0; y < 96; ++y)
    for (int64_t x = 0; x < 128; ++x) {
      lo = std::min(lo, double(a.at(y, x)));
      hi = std::max(hi, double(a.at(y, x)));
      if (x > 0)
        grad = std::max(grad, std::abs(double(a.at(y, x)) - a.at(y, x - 1)));
    }
  CHECK(lo >= 0);
  CHECK(hi <= 1);
  CHECK(hi - lo > 0.3); // contrast
  CHECK(grad > 0.1);    // at least one sharp edge
  Tensor c = syntheticImage("scene-rgb", 32, 32, 1);
  CHECK(c.shape() == Shape{1, 3, 32, 32});
  CHECK_THROWS_AS(syntheticImage("nope", 32, 32), std::invalid_argument);
}

TEST_CASE("podm degrade: deterministic under a seed, exit codes 0/1/2") {
  ScratchDir dir;
  REQUIRE(runPodm({"degrade", "--synthetic", "scene", "--size", "64x80", "-o",
                   dir.file("clean.png")}) == 0);
  Tensor clean = readImage(dir.file("clean.png"));
  CHECK(clean.shape() == Shape{1, 1, 64, 80});
  std::vector<std::string> args = {"degrade",      dir.file("clean.png"),
                                   "-o",           dir.file("a.npy"),
                                   "--blur",       "gaussian:7:1.5",
                                   "--noise",      "5",
                                   "--seed",       "3",
                                   "--kernel-out", dir.file("k.txt")};
  REQUIRE(runPodm(args) == 0);
  args[3] = dir.file("b.npy");
  REQUIRE(runPodm(args) == 0);
  CHECK(slurp(dir.file("a.npy")) == slurp(dir.file("b.npy")));
  CHECK(maxAbsDiff(readKernel(dir.file("k.txt")), gaussianKernel(7, 1.5)) < 1e-7);
  args[3] = dir.file("c.npy");
  args[9] = "4";
  REQUIRE(runPodm(args) == 0);
  CHECK(slurp(dir.file("a.npy")) != slurp(dir.file("c.npy")));
  // The noise is what was asked for: residual of the blurred image has std ~ 5/255.
  Tensor blurred = blur(clean, gaussianKernel(7, 1.5), numerics::Boundary::Periodic);
  Tensor noisy = readImage(dir.file("a.npy"));
  double ss = 0;
  for (int64_t k = 0; k < noisy.numel(); ++k)
    ss += (noisy.data()[k] - blurred.data()[k]) * double(noisy.data()[k] - blurred.data()[k]);
  CHECK(std::sqrt(ss / double(noisy.numel())) * 255 == doctest::Approx(5.0).epsilon(0.05));
  REQUIRE(runPodm({"degrade", dir.file("clean.png"), "-o", dir.file("lr.png"), "--bicubic", "4",
                   "--gt-out", dir.file("gt.png")}) == 0);
  CHECK(readImage(dir.file("lr.png")).shape() == Shape{1, 1, 16, 20});
  CHECK(readImage(dir.file("gt.png")).shape() == Shape{1, 1, 64, 80});
  CHECK(runPodm({"degrade", dir.file("missing.png"), "-o", dir.file("x.png")}) == 1);
  CHECK(runPodm({"degrade", dir.file("clean.png")}) == 2);
  CHECK(runPodm({"degrade", dir.file("clean.png"), "-o", dir.file("x.png"), "--blur", "box:3"}) ==
        2);
  CHECK(runPodm({"degrade", dir.file("clean.png"), "-o", dir.file("x.jpg")}) == 2);
  // Every output's place is checked before the first is written: none of them appears.
  CHECK(runPodm({"degrade", dir.file("clean.png"), "-o", dir.file("x.png"), "--blur",
                 "gaussian:5:1", "--kernel-out", dir.file("none/k.txt")}) == 2);
  CHECK(runPodm({"degrade", dir.file("clean.png"), "-o", dir.file("x.png"), "--bicubic", "2",
                 "--gt-out", dir.file("clean.png/gt.png")}) == 2);
  CHECK(!std::filesystem::exists(dir.file("x.png")));
  // An output onto the input image would replace it.
  const std::string before = slurp(dir.file("clean.png"));
  CHECK(runPodm({"degrade", dir.file("clean.png"), "-o", dir.file("clean.png"), "--noise", "5"}) ==
        2);
  CHECK(slurp(dir.file("clean.png")) == before);
}

TEST_CASE("trace CSV parsing: header columns, empty cells, ragged rows") {
  ScratchDir dir;
  spit(dir.file("t.csv"), "stage,rel_change,ssim,branch\n1,0.5,,accept\n2,0.25,0.9,fallback\n");
  TraceRun r = readTraceCsv(dir.file("t.csv"));
  CHECK(r.label == "t");
  CHECK(r.stage == std::vector<double>{1, 2});
  CHECK(r.columns.at("rel_change")[1] == 0.25);
  CHECK(std::isnan(r.columns.at("ssim")[0]));
  spit(dir.file("bad.csv"), "stage,ssim\n1,0.5,7\n");
  CHECK_THROWS_WITH_AS(readTraceCsv(dir.file("bad.csv")), doctest::Contains("bad.csv:2"), IoError);
  spit(dir.file("empty.csv"), "");
  CHECK_THROWS_AS(readTraceCsv(dir.file("empty.csv")), IoError);
}

TEST_CASE("trace CSV written by writeTraceCsv reads back, empty cells as NaN") {
  ScratchDir dir;
  std::vector<TraceRecord> rows(3);
  for (int i = 0; i < 3; ++i) {
    rows[i].stage = i + 1;
    rows[i].relChange = 0.1 / (i + 1);
    rows[i].ssim = 0.5 + 0.1 * i;
    rows[i].branch = i == 1 ? "feedback" : "accept";
  }
  writeTraceCsv(dir.file("t.csv"), rows);
  CHECK(slurp(dir.file("t.csv")).rfind(std::string(kTraceHeader) + "\n", 0) == 0);
  TraceRun r = readTraceCsv(dir.file("t.csv"));
  CHECK(r.stage == std::vector<double>{1, 2, 3});
  CHECK(r.columns.at("rel_change")[2] == 0.1 / 3);
  CHECK(std::isnan(r.columns.at("opt_error")[0]));
  CHECK(std::isnan(r.columns.at("branch")[0]));
}

TEST_CASE("podm plot writes a PNG with the runs' colours, axes and text") {
  ScratchDir dir;
  std::string csv =
      "stage,phi,rel_change,recon_error,psnr,ssim,opt_error,check_bound,branch,time\n";
  std::string csv2 = "stage,rel_change,recon_error,ssim\n"; // a baseline without optimality error
  for (int l = 1; l <= 30; ++l) {
    double rc = std::pow(10.0, -0.1 * l), re = 0.1 + 0.2 * std::exp(-0.2 * l);
    csv += std::to_string(l) + ",1," + std::to_string(rc) + "," + std::to_string(re) + ",30," +
           std::to_string(0.9 - 0.3 * std::exp(-0.3 * l)) + "," + std::to_string(rc * 0.1) + "," +
           std::to_string(rc * 0.5) + ",accept,0.01\n";
    csv2 += std::to_string(l) + "," + std::to_string(0.1 * (1 + 0.5 * std::sin(l))) + "," +
            std::to_string(re * 1.2) + "," + std::to_string(0.8 - 0.3 * std::exp(-0.1 * l)) + "\n";
  }
  spit(dir.file("podm.csv"), csv);
  spit(dir.file("ircnn.csv"), csv2);
  REQUIRE(runPodm({"plot", dir.file("podm.csv"), dir.file("ircnn.csv"), "-o", dir.file("fig.png"),
                   "--labels", "PODM,IRCNN"}) == 0);
  ImageInfo info;
  Tensor fig = readImage(dir.file("fig.png"), &info);
  REQUIRE(fig.shape() == Shape{1, 3, 1000, 1400});
  // Count pixels of each run colour (0x1f77b4 blue, 0xd62728 red) and black (text, axes).
  int64_t plane = 1000 * 1400, blue = 0, red = 0, black = 0;
  auto is = [&](int64_t i, int r, int g, int b) {
    return std::lround(fig.data()[i] * 255) == r && std::lround(fig.data()[plane + i] * 255) == g &&
           std::lround(fig.data()[2 * plane + i] * 255) == b;
  };
  for (int64_t i = 0; i < plane; ++i) {
    blue += is(i, 0x1f, 0x77, 0xb4);
    red += is(i, 0xd6, 0x27, 0x28);
    black += is(i, 0, 0, 0);
  }
  CHECK(blue > 2000);
  CHECK(red > 1500);
  CHECK(black > 5000);
  CHECK(runPodm({"plot", dir.file("podm.csv"), "-o", dir.file("f.png"), "--labels", "a,b"}) == 2);
  CHECK(runPodm({"plot", dir.file("nope.csv"), "-o", dir.file("f.png")}) == 1);
  CHECK(!std::filesystem::exists(dir.file("f.png")));
}

TEST_CASE("plot panels: only monitors with data, in order; nothing to plot is an error") {
  ScratchDir dir;
  // The quick start's monitors: psnr but no ssim; rel_change at stage 0 is empty.
  spit(dir.file("q.csv"), std::string(kTraceHeader) +
                              "\n0,1,,0.5,20,,,,,,,0.1,\n"
                              "1,0.9,0.1,0.2,24,,0.01,0.02,accept,,,0.1,\n"
                              "2,0.8,0.05,0.1,26,,0.005,0.01,accept,,,0.1,psnr\n");
  std::vector<TraceRun> runs{readTraceCsv(dir.file("q.csv"))};
  std::vector<std::string> columns;
  for (const PanelSpec& p : panelsWithData(runs))
    columns.push_back(p.column);
  CHECK(columns == std::vector<std::string>{"rel_change", "recon_error", "psnr", "opt_error"});

  // A second run contributes its own columns; a log panel ignores zeros.
  spit(dir.file("s.csv"), "stage,ssim,rel_change\n1,0.5,0\n2,0.7,0\n");
  runs = {readTraceCsv(dir.file("s.csv"))};
  REQUIRE(panelsWithData(runs).size() == 1);
  CHECK(std::string(panelsWithData(runs)[0].column) == "ssim");
  runs.push_back(readTraceCsv(dir.file("q.csv")));
  CHECK(panelsWithData(runs).size() == 5);
  REQUIRE(runPodm({"plot", dir.file("s.csv"), "-o", dir.file("one.png")}) == 0);
  CHECK(readImage(dir.file("one.png")).shape() == Shape{1, 3, 1000, 1400});

  // Only phi and time: nothing to plot, an error naming the file and the monitors to add.
  spit(dir.file("phi.csv"), "stage,phi,time\n1,3,0.1\n2,2,0.1\n");
  runs = {readTraceCsv(dir.file("phi.csv"))};
  CHECK(panelsWithData(runs).empty());
  const std::string named = dir.file("phi.csv") + ": nothing to plot";
  CHECK_THROWS_WITH_AS(plotTraces(runs, dir.file("none.png")), doctest::Contains(named.c_str()),
                       IoError);
  CHECK_THROWS_WITH_AS(plotTraces(runs, dir.file("none.png")),
                       doctest::Contains("recon_error(ref)"), IoError);
  CHECK(runPodm({"plot", dir.file("phi.csv"), "-o", dir.file("none.png")}) == 1);
  CHECK(!std::filesystem::exists(dir.file("none.png")));
}

TEST_CASE("canvas text uses the built-in font") {
  Canvas c(60, 20);
  c.text(1, 1, "0aZ", 0x000000, 1);
  int64_t dark = 0;
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 60; ++x)
      dark += c.pixel(x, y) == 0;
  CHECK(dark > 20);
  CHECK(glyph5x7('A') != nullptr);
  CHECK(glyph5x7('\x01') == nullptr);
}
