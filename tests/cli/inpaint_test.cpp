// examples/inpaint_mask.podm end to end, as a user runs it: `podm degrade --mask random:0.5
// --mask-out` makes the observation and its mask, `podm run` restores it well above the
// observation's PSNR, and `podm eval --mask` scores the same restoration from the ground truth.
#include "runtime/io/image.h"
#include "runtime/io/metrics.h"
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <regex>

using namespace podm;
using podm::test::ScratchDir;

namespace {

const std::string kInpaint = std::string(PODM_SOURCE_DIR) + "/examples/inpaint_mask.podm";

double printedPsnr(const std::string& out, const std::string& prefix) {
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(out, m, std::regex(prefix + ".*PSNR ([0-9.]+) dB")), out);
  return std::stod(m[1]);
}

} // namespace

TEST_CASE("examples/inpaint_mask.podm fills in half the pixels of a scene") {
  ScratchDir tmp("podm-inpaint");
  std::filesystem::create_directories(tmp.path() / "gt");
  const std::string gt = tmp.file("gt/scene.png");
  REQUIRE(runPodm("degrade --synthetic scene --size 64x64 --seed 2 -o " + gt).status == 0);
  PodmResult d = runPodm("degrade " + gt + " --mask random:0.5 --noise 1 --seed 3 -o " +
                         tmp.file("o.png") + " --mask-out " + tmp.file("m.png"));
  REQUIRE_MESSAGE(d.status == 0, d.out);
  PodmResult r = runPodm("run " + kInpaint + " --input o=" + tmp.file("o.png") + " --input m=" +
                         tmp.file("m.png") + " --ref " + gt + " -o " + tmp.file("x.png"));
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const double observed = io::psnr(io::readImage(tmp.file("o.png")), io::readImage(gt));
  const double restored = printedPsnr(r.out, "against");
  MESSAGE("observation " << observed << " dB, restored " << restored << " dB");
  CHECK(restored > observed + 15);
  CHECK(restored > 25);

  // podm eval degrades the same way (same seed) and binds the mask to the model's input m.
  PodmResult e = runPodm("eval " + kInpaint + " --gt " + tmp.file("gt") +
                         " --mask random:0.5 --noise 1 --seed 3");
  REQUIRE_MESSAGE(e.status == 0, e.out);
  CHECK(printedPsnr(e.out, "scene.png: ") == restored);
  // The mask given as a file, and a model input that is not there.
  e = runPodm("eval " + kInpaint + " --gt " + tmp.file("gt") + " --mask " + tmp.file("m.png") +
              " --noise 1 --seed 3");
  REQUIRE_MESSAGE(e.status == 0, e.out);
  CHECK(printedPsnr(e.out, "scene.png: ") == restored);
  e = runPodm("eval " + kInpaint + " --gt " + tmp.file("gt") + " --mask random:0.5 --mask-input w");
  CHECK(e.status == 1);
  CHECK(e.out.find("no image input 'w' left to take the mask") != std::string::npos);
  CHECK(runPodm("eval " + kInpaint + " --gt " + tmp.file("gt") + " --mask-input w").status == 2);
}
