// The psnr and ssim monitors (compiler/lower/monitors.cpp) report what runtime/io/metrics reports
// for the same image: SSIM to 1e-5, PSNR to 1e-4 dB, with the border shave of docs/io.md -- the
// scale for super-resolution, 0 otherwise, or `shave = N` as written.
#include "lower_helpers.h"
#include "runtime/io/metrics.h"

using namespace podm;
using namespace podm::testing;

namespace {

// A denoising model (x the size of o) or a x2 super-resolution one (x twice o), with monitors.
std::string model(bool sr, const std::string& monitors) {
  std::string m = "model t\ninput o : image\ninput ref : image\n";
  if (sr)
    m += "op K = bicubic_down(2)\nvar x : image(o.h * 2, o.w * 2) = bicubic_up(2) o\n"
         "f(x) = 0.5 * || K x - o ||^2\n";
  else
    m += "var x : image = o\nf(x) = 0.5 * || x - o ||^2\n";
  return m + "g(x) = 0.02 * l1(x)\nstages 3 proxgrad { gamma = 0.5 / L(f) }\nmonitor " + monitors +
         "\n";
}

struct Run {
  Tensor x;
  float psnr = NAN, ssim = NAN;
  int64_t ssimShave = -1; // the attribute of the graph's ssim node
};

Run run(const std::string& text, const Tensor& o, const Tensor& ref) {
  auto lowered =
      lowerText(text, {{"o", {o.shape().h, o.shape().w}}, {"ref", {ref.shape().h, ref.shape().w}}});
  Run r;
  for (const ir::Node& n : lowered.graph.nodes())
    if (n.op == ir::Op::Ssim)
      r.ssimShave = n.attrs.getInt("shave");
  RunResult res = runGraph(lowered.graph, {{"o", o}, {"ref", ref}});
  r.x = res.outputs.at("x");
  if (auto* p = res.monitors.find("psnr"))
    r.psnr = p->back(); // the last stage's value is that of the result
  if (auto* s = res.monitors.find("ssim"))
    r.ssim = s->back();
  return r;
}

} // namespace

TEST_CASE("psnr and ssim monitors equal io::psnr and io::ssim on random problems") {
  std::mt19937 rng(17);
  for (int trial = 0; trial < 3; ++trial) {
    CAPTURE(trial);
    Tensor ref = randomImage(26, 30, rng);
    Tensor o = ref.clone();
    std::normal_distribution<float> noise(0, 0.1f);
    for (int64_t i = 0; i < o.numel(); ++i)
      o.data()[i] += noise(rng);
    for (int64_t y = 0; y < 26; ++y) // a 2-pixel frame far off: what a shave is for
      for (int64_t x = 0; x < 30; ++x)
        if (y < 2 || x < 2 || y >= 24 || x >= 28)
          o.at(y, x) = 1 - ref.at(y, x);
    Run r = run(model(false, "psnr(ref), ssim(ref)"), o, ref);
    CHECK(r.ssimShave == 0); // same size as the observation: no shave
    CHECK(std::fabs(r.ssim - io::ssim(r.x, ref)) <= 1e-5);
    CHECK(std::fabs(r.psnr - io::psnr(r.x, ref)) <= 1e-4);
    CHECK(r.psnr > 10); // a real restoration, not a degenerate value

    const int shave = 2 + trial;
    Run s = run(model(false, "psnr(ref, shave = " + std::to_string(shave) +
                                 "), ssim(ref, shave = " + std::to_string(shave) + ")"),
                o, ref);
    CHECK(s.ssimShave == shave);
    CHECK(std::fabs(s.ssim - io::ssim(s.x, ref, shave)) <= 1e-5);
    CHECK(std::fabs(s.psnr - io::psnr(s.x, ref, shave)) <= 1e-4);
    CHECK(s.psnr > io::psnr(s.x, ref, 0) + 1); // the bad frame is left out
  }
}

TEST_CASE("super-resolution monitors shave the scale by default") {
  std::mt19937 rng(4);
  Tensor ref = randomImage(32, 28, rng), o = randomImage(16, 14, rng);
  Run r = run(model(true, "phi, psnr(ref), ssim(ref)"), o, ref);
  CHECK(r.ssimShave == 2);
  CHECK(std::fabs(r.ssim - io::ssim(r.x, ref, 2)) <= 1e-5);
  CHECK(std::fabs(r.psnr - io::psnr(r.x, ref, 2)) <= 1e-4);
  Run none = run(model(true, "psnr(ref, shave = 0), ssim(ref, shave = 0)"), o, ref);
  CHECK(none.ssimShave == 0);
  CHECK(std::fabs(none.psnr - io::psnr(none.x, ref, 0)) <= 1e-4);
}

TEST_CASE("a shave that leaves too little of the image is a located lowering error") {
  std::mt19937 rng(2);
  Tensor ref = randomImage(16, 16, rng);
  auto message = [&](const std::string& monitors) -> std::string {
    try {
      run(model(false, monitors), ref, ref);
    } catch (const lower::LowerError& e) {
      CHECK(e.loc().known());
      return e.what();
    }
    return "(no error)";
  };
  CHECK(message("psnr(ref, shave = 8)").find("shave 8 leaves nothing") != std::string::npos);
  CHECK(
      message("ssim(ref, shave = 3)").find("ssim needs at least 11x11 pixels after a shave of 3") !=
      std::string::npos);
}
