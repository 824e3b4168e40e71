// Same command, same answer: every example model run three times on the same inputs writes
// identical bytes (result and trace but its time column). Runs use the FFT plan cache as a user's
// do (in a scratch folder): the first run measures its plans, the next two recreate them, so all
// three take the same transforms. Sizes of 128x128 and up get measured plans, so the inputs are.
// sr_lp and naive_sr need the authors' networks from ../shared/data and are skipped without it.
// Also what a researcher reads off a run: the best stage by PSNR/SSIM, --save-stages, --quiet.
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"
#include "runtime/io/plot.h"
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;
using namespace podm;
using podm::test::ScratchDir;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The trace without its last two columns (time, best): wall times differ from run to run.
std::string traceWithoutTimes(const std::string& path) {
  std::istringstream in(slurp(path));
  std::string out;
  for (std::string line; std::getline(in, line);) {
    for (int k = 0; k < 2; ++k)
      line = line.substr(0, line.rfind(','));
    out += line + "\n";
  }
  return out;
}

} // namespace

TEST_CASE("three identical runs of every example write identical bytes") {
  ScratchDir tmp("podm-repeat");
  const std::string examples = std::string(PODM_SOURCE_DIR) + "/examples/";
  io::writeImage(tmp.file("gt.png"), io::syntheticImage("scene", 128, 128, 11));
  REQUIRE(runPodm("degrade " + tmp.file("gt.png") +
                  " --blur gaussian:7:1.6 --noise 2 --seed 3 -o " + tmp.file("blurred.png") +
                  " --kernel-out " + tmp.file("k.txt"))
              .status == 0);
  REQUIRE(
      runPodm("degrade " + tmp.file("gt.png") + " --bicubic 4 -o " + tmp.file("lr.png")).status ==
      0);
  REQUIRE(
      runPodm("degrade " + tmp.file("gt.png") + " --noise 15 --seed 4 -o " + tmp.file("noisy.png"))
          .status == 0);
  REQUIRE(runPodm("degrade " + tmp.file("gt.png") + " --mask random:0.5 --seed 5 -o " +
                  tmp.file("masked.png") + " --mask-out " + tmp.file("m.png"))
              .status == 0);
  const std::string blurred = " --input o=" + tmp.file("blurred.png") +
                              " --input k=" + tmp.file("k.txt") +
                              " --input ref=" + tmp.file("gt.png");
  const std::string lr = " --input o=" + tmp.file("lr.png") + " --input ref=" + tmp.file("gt.png");
  const std::string shared = std::string(PODM_SOURCE_DIR) + "/../shared/data/podm-official/model";
  std::vector<std::pair<std::string, std::string>> runs = {
      {"deblur_podm", blurred},
      {"deblur_rpodm", blurred},
      {"deblur_rpodm_crop", blurred},
      {"deblur_rpodm_pad", blurred},
      {"proxgrad_deblur", blurred},
      {"fista_sr", lr},
      {"inpaint_mask", " --input o=" + tmp.file("masked.png") + " --input m=" + tmp.file("m.png") +
                           " --input ref=" + tmp.file("gt.png")},
      {"denoise_ircnn",
       " --input o=" + tmp.file("noisy.png") + " --input ref=" + tmp.file("gt.png")},
      {"admm_tv_deblur", blurred},
      {"pdhg_inpaint", " --input o=" + tmp.file("masked.png") + " --input m=" + tmp.file("m.png") +
                           " --input ref=" + tmp.file("gt.png")},
  };
#ifdef PODM_SANITIZED
  const bool withNets = false; // 30 network stages each, three times: minutes under ASan
#else
  const bool withNets = fs::exists(shared);
#endif
  if (withNets) {
    fs::create_directories(tmp.path() / "w");
    fs::create_symlink(shared, tmp.path() / "w" / "nets");
    for (const char* m : {"sr_lp", "naive_sr"})
      runs.emplace_back(m, lr + " --weights-dir " + tmp.file("w"));
    const std::string data = std::string(PODM_SOURCE_DIR) + "/../shared/data";
    if (fs::exists(data + "/ircnn"))
      runs.emplace_back("pnp_hqs_deblur", blurred + " --weights-dir " + data);
    if (fs::exists(data + "/ircnn"))
      runs.emplace_back("pnp_hqs_deblur_crop", blurred + " --weights-dir " + data);
  } else {
    MESSAGE("sr_lp and naive_sr skipped: ../shared/data is absent (or a sanitizer build)");
  }
  const std::string env = "XDG_CACHE_HOME=" + tmp.file("cache") + " PODM_FFTW_WISDOM= ";
  for (const auto& [model, inputs] : runs) {
    CAPTURE(model);
    std::string first, firstTrace;
    for (int i = 0; i < 3; ++i) {
      const std::string out = tmp.file(model + std::to_string(i) + ".npy");
      const std::string trace = tmp.file(model + std::to_string(i) + ".csv");
      PodmResult r = runPodmWithEnv(env, "run " + examples + model + ".podm" + inputs + " -o " +
                                             out + " --trace " + trace);
      REQUIRE_MESSAGE(r.status == 0, r.out);
      if (i == 0) {
        first = slurp(out);
        firstTrace = traceWithoutTimes(trace);
        continue;
      }
      CHECK(slurp(out) == first);
      CHECK(traceWithoutTimes(trace) == firstTrace);
    }
  }
}

TEST_CASE("podm run marks the best stage, saves every stage on request and can be quiet") {
  ScratchDir tmp("podm-best");
  io::writeImage(tmp.file("gt.png"), io::syntheticImage("scene", 48, 48, 5));
  REQUIRE(runPodm("degrade " + tmp.file("gt.png") + " --blur gaussian:5:1.2 --noise 3 -o " +
                  tmp.file("o.png") + " --kernel-out " + tmp.file("k.txt"))
              .status == 0);
  const std::string run = "run " + std::string(PODM_SOURCE_DIR) +
                          "/examples/deblur_podm.podm --input o=" + tmp.file("o.png") +
                          " --input k=" + tmp.file("k.txt") + " --ref " + tmp.file("gt.png") +
                          " -o " + tmp.file("x.png");
  PodmResult r =
      runPodm(run + " --trace " + tmp.file("t.csv") + " --save-stages " + tmp.file("stages"));
  REQUIRE_MESSAGE(r.status == 0, r.out);
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex("best stage by PSNR: ([0-9]+) of ([0-9]+)")));
  const int best = std::stoi(m[1]), stages = std::stoi(m[2]);
  io::TraceRun t = io::readTraceCsv(tmp.file("t.csv"));
  const std::vector<double>& psnr = t.columns.at("psnr");
  REQUIRE(int(psnr.size()) == stages);
  CHECK(*std::max_element(psnr.begin(), psnr.end()) == psnr[size_t(best - 1)]);
  // The trace's `best` column marks that row (numbered from 1, as the message).
  std::istringstream lines(slurp(tmp.file("t.csv")));
  std::string line, marked;
  while (std::getline(lines, line))
    if (line.size() > 5 && line.substr(line.size() - 4) == "psnr")
      marked = line.substr(0, line.find(','));
  CHECK(marked == std::to_string(best));
  // One image per stage, the last equal to the result.
  for (int l = 1; l <= stages; ++l) {
    char name[32];
    std::snprintf(name, sizeof name, "stages/stage_%03d.png", l);
    CHECK(fs::exists(tmp.file(name)));
  }
  char last[32];
  std::snprintf(last, sizeof last, "stages/stage_%03d.png", stages);
  CHECK(slurp(tmp.file(last)) == slurp(tmp.file("x.png")));

  PodmResult quiet = runPodm(run + " --quiet");
  REQUIRE(quiet.status == 0);
  CHECK(quiet.out.find("note:") == std::string::npos);
  CHECK(quiet.out.find("stages;") == std::string::npos);
  CHECK(quiet.out.find("PSNR") != std::string::npos); // the --ref line is the result
}
