// `podm run` reporting as a user sees it: the trace CSV with every column of Fig. 2 (time and SSIM
// filled), --ref with the final PSNR/SSIM on the Y channel and the monitors' border shave, no
// progress line when stderr is not a terminal (and one when it is), a bad --ref or a NaN input
// named; and a graph saved by `podm compile -o` running as the model does.
#include "runtime/io/color.h"
#include "runtime/io/image.h"
#include "runtime/io/metrics.h"
#include "runtime/io/plot.h"
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <cmath>
#include <cstdio>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

namespace fs = std::filesystem;
using namespace podm;

namespace {

// x2 super-resolution: the monitors shave 2 by default; `ref` is bound from --ref.
const char* kModel = R"(model sr2
input o : image
input ref : image optional
op K = bicubic_down(2)
var x : image(o.h * 2, o.w * 2) = bicubic_up(2) o
f(x) = 0.5 * || K x - o ||^2
g(x) = 1e-3 * l1(x) + box(x, lo = 0, hi = 1)
d(x, a) = mu / 2 * || x - a ||^2
stages 6 podm { gamma = 0.9 / L(f); mu = 0.5; c = 0.2; A = identity }
monitor phi, rel_change, recon_error(ref), psnr(ref), ssim(ref), opt_error, check_bound, branch, time
)";

struct Fixture {
  podm::test::ScratchDir scratch;
  const fs::path& dir = scratch.path();
  std::string model, o, ref;
  Fixture() {
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(0, 1);
    // A smooth RGB ground truth and its bicubic x1/2 luma as the observation.
    Tensor rgb(Shape{1, 3, 32, 32});
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 32; ++x)
          rgb.data()[(c * 32 + y) * 32 + x] =
              0.5f + 0.4f * std::sin(0.2f * float(x + 2 * c) + 0.15f * float(y)) * u(rng);
    ref = (dir / "gt.png").string();
    io::writeImage(ref, rgb);
    Tensor lo = Tensor::image(16, 16);
    Tensor y = io::luma(io::readImage(ref));
    for (int64_t i = 0; i < 16; ++i)
      for (int64_t j = 0; j < 16; ++j)
        lo.at(i, j) = 0.25f * (y.at(2 * i, 2 * j) + y.at(2 * i + 1, 2 * j) +
                               y.at(2 * i, 2 * j + 1) + y.at(2 * i + 1, 2 * j + 1));
    o = (dir / "o.npy").string();
    io::writeNpy(o, lo);
    model = (dir / "sr2.podm").string();
    std::ofstream(model) << kModel;
  }
};

} // namespace

TEST_CASE("podm run: trace columns, --ref figures on Y with the SR shave, no progress on a pipe") {
  Fixture f;
  const std::string x = (f.dir / "x.npy").string(), trace = (f.dir / "t.csv").string();
  PodmResult r = runPodm("run " + f.model + " --input o=" + f.o + " --ref " + f.ref + " -o " + x +
                         " --trace " + trace);
  REQUIRE_MESSAGE(r.status == 0, r.out);
  // Not a terminal: no progress line.
  CHECK(r.out.find('\r') == std::string::npos);
  CHECK(r.out.find("stage 1/6") == std::string::npos);

  std::ifstream csv(trace);
  std::string header;
  std::getline(csv, header);
  CHECK(header == io::kTraceHeader);
  io::TraceRun t = io::readTraceCsv(trace);
  REQUIRE(t.stage.size() == 6);
  for (const char* col :
       {"phi", "rel_change", "recon_error", "psnr", "ssim", "opt_error", "check_bound", "time"}) {
    CAPTURE(col);
    REQUIRE(t.columns.count(col));
    for (double v : t.columns.at(col))
      CHECK(std::isfinite(v));
  }
  for (double s : t.columns.at("time"))
    CHECK(s > 0);
  for (double s : t.columns.at("ssim")) {
    CHECK(s > 0);
    CHECK(s <= 1);
  }

  // The printed figures are io::measure's on the result and the ground truth's Y, shave 2.
  Tensor result = io::readImage(x), gt = io::luma(io::readImage(f.ref));
  io::Quality q = io::measure(result, gt, 2);
  char want[128];
  std::snprintf(want, sizeof want, "(shave 2): PSNR %.2f dB, SSIM %.4f", q.psnr, q.ssim);
  CHECK_MESSAGE(r.out.find(want) != std::string::npos, r.out);
  // ... and those of the last stage's monitors (the result is the last stage's x).
  CHECK(std::fabs(t.columns.at("psnr").back() - q.psnr) < 1e-3);
  CHECK(std::fabs(t.columns.at("ssim").back() - q.ssim) < 1e-5);
  CHECK(std::fabs(q.psnr - io::measure(result, gt, 0).psnr) > 1e-3); // the shave mattered

  // --shave overrides the convention for the printed figures.
  PodmResult r0 =
      runPodm("run " + f.model + " --input o=" + f.o + " --ref " + f.ref + " --shave 0 -o " + x);
  REQUIRE_MESSAGE(r0.status == 0, r0.out);
  CHECK(r0.out.find("(shave 0): PSNR") != std::string::npos);
}

TEST_CASE("podm compile -o alone saves the optimized graph, and podm run runs it") {
  Fixture f;
  const std::string saved = (f.dir / "sr2.pgraph").string(),
                    emitted = (f.dir / "emitted.pgraph").string();
  PodmResult c = runPodm("compile " + f.model + " --input o=" + f.o + " -o " + saved);
  REQUIRE_MESSAGE(c.status == 0, c.out);
  CHECK(c.out.find("wrote " + saved) != std::string::npos);
  // No stage printed: the graph goes to the file only, the same one --emit=graph-opt -o writes.
  PodmResult e =
      runPodm("compile " + f.model + " --input o=" + f.o + " --emit=graph-opt -o " + emitted);
  REQUIRE_MESSAGE(e.status == 0, e.out);
  CHECK(c.out.size() * 4 < e.out.size());
  CHECK(io::readFileBytes(saved) == io::readFileBytes(emitted));

  const std::string fromGraph = (f.dir / "g.npy").string(), fromModel = (f.dir / "m.npy").string();
  PodmResult rg = runPodm("run " + saved + " --input o=" + f.o + " -o " + fromGraph);
  REQUIRE_MESSAGE(rg.status == 0, rg.out);
  PodmResult rm = runPodm("run " + f.model + " --input o=" + f.o + " -o " + fromModel);
  REQUIRE_MESSAGE(rm.status == 0, rm.out);
  CHECK(io::readFileBytes(fromGraph) == io::readFileBytes(fromModel));

  // Still a usage error: neither a stage nor an output.
  PodmResult none = runPodm("compile " + f.model + " --input o=" + f.o);
  CHECK(none.status == 2);
  CHECK(none.out.find("-o F.pgraph") != std::string::npos);
}

TEST_CASE("podm run: a progress line per stage on a terminal") {
  if (!fs::exists("/usr/bin/script")) {
    MESSAGE("skipped: /usr/bin/script (util-linux) is absent");
    return;
  }
  Fixture f;
  const std::string x = (f.dir / "x.npy").string();
  // script(1) gives the command a pseudo-terminal as stdout and stderr.
  PodmResult r =
      runPodm("--version >/dev/null; /usr/bin/script -qec '" + std::string(PODM_EXE) + " run " +
              f.model + " --input o=" + f.o + " --ref " + f.ref + " -o " + x + "' /dev/null");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  for (int l = 1; l <= 6; ++l)
    CHECK(r.out.find("\rstage " + std::to_string(l) + "/6  phi ") != std::string::npos);
  CHECK(r.out.find("s/stage") != std::string::npos);
  CHECK(r.out.find("  psnr ") != std::string::npos);
}

TEST_CASE("podm run: a bad --ref is exit 1 with a message naming the file") {
  Fixture f;
  const std::string x = (f.dir / "x.npy").string();
  const std::string missing = (f.dir / "nope.png").string();
  PodmResult r = runPodm("run " + f.model + " --input o=" + f.o + " --ref " + missing + " -o " + x);
  CHECK(r.status == 1);
  CHECK(r.out.find("--ref: " + missing + ": ") != std::string::npos); // named once
  CHECK_FALSE(fs::exists(x));

  const std::string garbage = (f.dir / "garbage.png").string();
  std::ofstream(garbage) << "not a png";
  PodmResult g = runPodm("run " + f.model + " --input o=" + f.o + " --ref " + garbage + " -o " + x);
  CHECK(g.status == 1);
  CHECK(g.out.find(garbage) != std::string::npos);

  // A ground truth of the wrong size: named, exit 1 (the model's `ref` input is checked first).
  const std::string small = (f.dir / "small.npy").string();
  io::writeNpy(small, Tensor::image(20, 20));
  PodmResult s = runPodm("run " + f.model + " --input o=" + f.o + " --ref " + small + " -o " + x);
  CHECK(s.status == 1);
  CHECK(s.out.find("small.npy") != std::string::npos);
  CHECK(runPodm("run " + f.model + " --input o=" + f.o + " --ref -o " + x).status == 2);
}

TEST_CASE("podm run: an input with NaN values is exit 1, named, and nothing is written") {
  Fixture f;
  Tensor o = io::readImage(f.o);
  o.data()[17] = std::numeric_limits<float>::quiet_NaN(); // row 1, column 1 of 16x16
  const std::string bad = (f.dir / "nan.npy").string();
  io::writeNpy(bad, o);
  const std::string x = (f.dir / "x.npy").string(), trace = (f.dir / "t.csv").string();
  PodmResult r = runPodm("run " + f.model + " --input o=" + bad + " -o " + x + " --trace " + trace);
  CHECK(r.status == 1);
  CHECK_MESSAGE(r.out.find(bad + ": 1 of 256 values are not finite (1 NaN, 0 Inf); the first is "
                                 "at row 1, column 1, channel 0") != std::string::npos,
                r.out);
  CHECK_FALSE(fs::exists(x));
  CHECK_FALSE(fs::exists(trace));
}

TEST_CASE("podm run: --ref on a deblurring model shaves nothing, whatever the kernel's size") {
  // An 8x8 kernel of a 32x32 image is no x4 observation: the convention gives shave 0.
  podm::test::ScratchDir scratch;
  const fs::path& dir = scratch.path();
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0, 1);
  Tensor o = Tensor::image(32, 32), k = Tensor::image(8, 8);
  for (int64_t i = 0; i < o.numel(); ++i)
    o.data()[i] = u(rng);
  for (int64_t i = 0; i < k.numel(); ++i)
    k.data()[i] = 1.f / 64;
  const std::string on = (dir / "o.npy").string(), kn = (dir / "k.npy").string();
  io::writeNpy(on, o);
  io::writeNpy(kn, k);
  std::ofstream(dir / "m.podm") << "model deblur\ninput o : image\ninput k : kernel\n"
                                   "op K = conv(k, boundary = \"periodic\")\nvar x : image = o\n"
                                   "f(x) = 0.5 * || K x - o ||^2\ng(x) = 1e-3 * l1(x)\n"
                                   "stages 3 proxgrad { gamma = 0.9 / L(f) }\nmonitor phi\n";
  PodmResult r = runPodm("run " + (dir / "m.podm").string() + " --input o=" + on +
                         " --input k=" + kn + " --ref " + on + " -o " + (dir / "x.npy").string());
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK_MESSAGE(r.out.find("(shave 0): PSNR") != std::string::npos, r.out);
}
