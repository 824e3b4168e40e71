// `podm eval` as a user runs it: per-image figures equal to `podm degrade` + `podm run --ref` on
// the same image, every image paired with every kernel, pre-degraded inputs matched by name, the
// CSV and Markdown outputs, a bad image reported by name and skipped (exit 1), an empty folder
// refused. And the FFT plan cache: a second run recreates the first run's plans from the cache and
// writes the same bytes; a corrupt cache is a note, not an error; PODM_FFTW_WISDOM=off writes none.
// The misregistration search (--align, --align-step) scores as `podm run --ref` does.
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"
#include "tests/runtime/io/fixtures.h"
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;
using namespace podm;
using podm::test::ScratchDir;

namespace {

const std::string kDeblur = std::string(PODM_SOURCE_DIR) + "/examples/deblur_podm.podm";

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The PSNR that `podm run ... --ref` prints.
double runPsnr(const std::string& out) {
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex("PSNR ([0-9.]+) dB")));
  return std::stod(m[1]);
}

// "[i/n] NAME: PSNR X dB" of `podm eval`, for the image named `name`.
double evalPsnr(const std::string& out, const std::string& name) {
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(out, m, std::regex(name + ": PSNR ([0-9.]+) dB")), out);
  return std::stod(m[1]);
}

// Two ground truths: a gray and an RGB synthetic scene.
void writeGroundTruths(const fs::path& dir) {
  fs::create_directories(dir);
  io::writeImage((dir / "a.png").string(), io::syntheticImage("scene", 40, 48, 3));
  io::writeImage((dir / "b.png").string(), io::syntheticImage("scene-rgb", 36, 36, 4));
}

} // namespace

TEST_CASE("podm eval scores every image as podm degrade + podm run --ref do, in one process") {
  ScratchDir tmp("podm-eval");
  writeGroundTruths(tmp.path() / "gt");
  PodmResult e = runPodm("eval " + kDeblur + " --gt " + tmp.file("gt") +
                         " --blur gaussian:5:1.2 --noise 2 --seed 7 --csv " + tmp.file("r.csv") +
                         " --markdown " + tmp.file("r.md") + " --save " + tmp.file("saved"));
  REQUIRE_MESSAGE(e.status == 0, e.out);
  for (const char* name : {"a", "b"}) {
    const std::string gt = tmp.file(std::string("gt/") + name + ".png");
    const std::string o = tmp.file(std::string(name) + "_o.png"), k = tmp.file("k.txt");
    PodmResult d = runPodm("degrade " + gt + " --blur gaussian:5:1.2 --noise 2 --seed 7 -o " + o +
                           " --kernel-out " + k);
    REQUIRE_MESSAGE(d.status == 0, d.out);
    PodmResult r = runPodm("run " + kDeblur + " --input o=" + o + " --input k=" + k + " --ref " +
                           gt + " -o " + tmp.file("x.png"));
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(evalPsnr(e.out, std::string(name) + ".png") == runPsnr(r.out));
    CHECK(fs::exists(tmp.file(std::string("saved/") + name + ".png")));
  }
  // The RGB restoration keeps its colour; the table has the mean of both.
  CHECK(io::readImage(tmp.file("saved/b.png")).shape().c == 3);
  const std::string csv = readText(tmp.file("r.csv"));
  CHECK(csv.rfind("image,kernel,psnr,ssim,stages,accepted,seconds\n", 0) == 0);
  CHECK(csv.find("\na.png,,") != std::string::npos);
  CHECK(csv.find("\nb.png,,") != std::string::npos);
  const std::string md = readText(tmp.file("r.md"));
  CHECK(md.find("| **mean** (2, deblur_podm.podm)") != std::string::npos);
  CHECK(e.out.find(md) != std::string::npos); // the same table on stdout
}

TEST_CASE("podm eval checks where the tables and restorations go before scoring anything") {
  ScratchDir tmp("podm-eval");
  writeGroundTruths(tmp.path() / "gt");
  std::ofstream(tmp.file("plain")) << "x";
  const std::string eval = "eval " + kDeblur + " --gt " + tmp.file("gt") + " --blur gaussian:5:1.2";
  for (const auto& [flags, message] : std::vector<std::pair<std::string, std::string>>{
           {" --csv " + tmp.file("no/r.csv"), "--csv " + tmp.file("no/r.csv") + ": the folder '"},
           {" --markdown " + tmp.file("plain/r.md"), "'" + tmp.file("plain") + "' is not a folder"},
           {" --save " + tmp.file("plain/saved"), "--save " + tmp.file("plain/saved") + ": '"}}) {
    PodmResult e = runPodm(eval + flags);
    CHECK_MESSAGE(e.status == 2, e.out);
    CHECK_MESSAGE(e.out.find(message) != std::string::npos, e.out);
    CHECK(e.out.find("PSNR") == std::string::npos); // nothing was scored
  }
  // --save into the ground truths' folder would replace them (a.png restored is a.png).
  const std::string before = readText(tmp.file("gt/a.png"));
  PodmResult onto = runPodm(eval + " --save " + tmp.file("gt"));
  CHECK(onto.status == 2);
  CHECK_MESSAGE(onto.out.find("--save " + tmp.file("gt") + "/a.png is a ground truth") !=
                    std::string::npos,
                onto.out);
  CHECK(readText(tmp.file("gt/a.png")) == before);
}

TEST_CASE("podm eval stops at the first image when the error is the model's (a weight file)") {
  ScratchDir tmp("podm-eval");
  writeGroundTruths(tmp.path() / "gt");
  fs::create_directories(tmp.path() / "no-weights");
  PodmResult e =
      runPodm("eval " + std::string(PODM_SOURCE_DIR) + "/examples/deblur_rpodm.podm --gt " +
              tmp.file("gt") + " --blur gaussian:5:1 --weights-dir " + tmp.file("no-weights"));
  CHECK(e.status == 1);
  const std::string said = "weight file 'weights/deblur_rpodm.safetensors' is not found";
  REQUIRE_MESSAGE(e.out.find(said) != std::string::npos, e.out);
  CHECK(e.out.find(said, e.out.find(said) + 1) == std::string::npos); // once, not per image
  CHECK(e.out.find("stopped at [1/2] a.png: this is the model's error") != std::string::npos);
  CHECK(e.out.find("none of the 2 images could be scored") != std::string::npos);
}

TEST_CASE("podm eval pairs every image with every kernel, and pre-degraded inputs by name") {
  ScratchDir tmp("podm-eval");
  fs::create_directories(tmp.path() / "gt");
  io::writeImage(tmp.file("gt/a.png"), io::syntheticImage("scene", 32, 32, 5));
  fs::create_directories(tmp.path() / "kernels");
  io::writeKernelText(tmp.file("kernels/k1.txt"), io::gaussianKernel(5, 1.0));
  io::writeKernelText(tmp.file("kernels/k2.txt"), io::motionKernel(5, 30));
  PodmResult e = runPodm("eval " + kDeblur + " --gt " + tmp.file("gt") + " --kernels " +
                         tmp.file("kernels") + " --noise 1 --csv " + tmp.file("r.csv"));
  REQUIRE_MESSAGE(e.status == 0, e.out);
  CHECK(e.out.find("[1/2] a.png / k1") != std::string::npos);
  CHECK(e.out.find("[2/2] a.png / k2") != std::string::npos);
  const std::string csv = readText(tmp.file("r.csv"));
  CHECK(csv.find("\na.png,k1,") != std::string::npos);
  CHECK(csv.find("\na.png,k2,") != std::string::npos);

  // The same observation given as a file: the same figure.
  fs::create_directories(tmp.path() / "inputs");
  PodmResult d = runPodm("degrade " + tmp.file("gt/a.png") + " --kernel " +
                         tmp.file("kernels/k1.txt") + " --noise 1 -o " + tmp.file("inputs/a.png"));
  REQUIRE(d.status == 0);
  PodmResult p = runPodm("eval " + kDeblur + " --gt " + tmp.file("gt") + " --inputs " +
                         tmp.file("inputs") + " --kernel " + tmp.file("kernels/k1.txt"));
  REQUIRE_MESSAGE(p.status == 0, p.out);
  CHECK(evalPsnr(p.out, "a.png / k1") == evalPsnr(e.out, "a.png / k1"));
}

TEST_CASE("podm eval reads JPEG ground truths (.jpg and .jpeg)") {
  ScratchDir tmp("podm-eval");
  fs::create_directories(tmp.path() / "gt");
  const Tensor scene = io::syntheticImage("scene", 32, 32, 6);
  std::vector<uint8_t> samples(32 * 32);
  for (size_t i = 0; i < samples.size(); ++i)
    samples[i] = uint8_t(scene.data()[i] * 255 + 0.5f);
  const std::string jpeg = io::test::jpegRaw(32, 32, 1, samples, 95);
  std::ofstream(tmp.file("gt/c.jpg"), std::ios::binary) << jpeg;
  std::ofstream(tmp.file("gt/d.JPEG"), std::ios::binary) << jpeg;
  PodmResult e = runPodm("eval " + kDeblur + " --gt " + tmp.file("gt") + " --blur gaussian:5:1");
  REQUIRE_MESSAGE(e.status == 0, e.out);
  CHECK(evalPsnr(e.out, "c.jpg") == evalPsnr(e.out, "d.JPEG"));
}

TEST_CASE("podm eval: a bad image is named and skipped, an empty folder is an error") {
  ScratchDir tmp("podm-eval");
  writeGroundTruths(tmp.path() / "gt");
  std::ofstream(tmp.file("gt/broken.png")) << "not a png";
  PodmResult e = runPodm("eval " + kDeblur + " --gt " + tmp.file("gt") + " --blur gaussian:5:1 " +
                         "--csv " + tmp.file("r.csv"));
  CHECK(e.status == 1);
  CHECK(e.out.find("broken.png") != std::string::npos);
  CHECK(e.out.find("skipped") != std::string::npos);
  CHECK(e.out.find("1 of 3 images could not be scored") != std::string::npos);
  CHECK(e.out.find("a.png: PSNR") != std::string::npos); // the others are still scored
  CHECK(readText(tmp.file("r.csv")).find("broken") == std::string::npos);

  // Nothing scored: no table, whose mean of 0 images would read as 0 dB, and no files.
  fs::create_directories(tmp.path() / "bad");
  std::ofstream(tmp.file("bad/broken.png")) << "not a png";
  PodmResult none = runPodm("eval " + kDeblur + " --gt " + tmp.file("bad") +
                            " --blur gaussian:5:1 --csv " + tmp.file("none.csv"));
  CHECK(none.status == 1);
  CHECK(none.out.find("none of the 1 images could be scored (see above); no table and no file") !=
        std::string::npos);
  CHECK(none.out.find("mean") == std::string::npos);
  CHECK(!fs::exists(tmp.file("none.csv")));

  fs::create_directories(tmp.path() / "empty");
  PodmResult empty =
      runPodm("eval " + kDeblur + " --gt " + tmp.file("empty") + " --blur gaussian:5:1");
  CHECK(empty.status == 1);
  CHECK(empty.out.find("holds no image") != std::string::npos);
  PodmResult noKernel = runPodm("eval " + kDeblur + " --gt " + tmp.file("gt"));
  CHECK(noKernel.status == 1);
  CHECK(noKernel.out.find("'k' is a kernel") != std::string::npos);
  CHECK(runPodm("eval " + kDeblur).status == 2);
}

TEST_CASE(
    "podm eval --align N --align-step S: the same figure as podm run --ref, bad steps refused") {
  ScratchDir tmp("podm-eval");
  fs::create_directories(tmp.path() / "gt");
  io::writeImage(tmp.file("gt/a.png"), io::syntheticImage("scene", 40, 48, 3));
  const std::string align = " --shave 4 --align 2 --align-step 0.5";
  PodmResult e = runPodm("eval " + kDeblur + " --gt " + tmp.file("gt") +
                         " --blur gaussian:5:1.2 --noise 2 --csv " + tmp.file("r.csv") + align);
  REQUIRE_MESSAGE(e.status == 0, e.out);
  CHECK(e.out.find("in steps of 1/2 px (bilinear)") != std::string::npos);
  CHECK(readText(tmp.file("r.csv")).find(",shift_y,shift_x\n") != std::string::npos);
  PodmResult d =
      runPodm("degrade " + tmp.file("gt/a.png") + " --blur gaussian:5:1.2 --noise 2 -o " +
              tmp.file("o.png") + " --kernel-out " + tmp.file("k.txt"));
  REQUIRE(d.status == 0);
  PodmResult r = runPodm("run " + kDeblur + " --input o=" + tmp.file("o.png") +
                         " --input k=" + tmp.file("k.txt") + " --ref " + tmp.file("gt/a.png") +
                         " -o " + tmp.file("x.png") + align);
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("within +-2") != std::string::npos);
  CHECK(evalPsnr(e.out, "a.png") == runPsnr(r.out));

  for (const char* bad : {" --align 2 --align-step 0.3", " --align 2 --align-step 0",
                          " --align 2 --align-step x", " --align-step 0.25"}) {
    PodmResult b =
        runPodm("eval " + kDeblur + " --gt " + tmp.file("gt") + " --blur gaussian:5:1" + bad);
    CHECK_MESSAGE(b.status == 2, bad);
    CHECK_MESSAGE(b.out.find("--align") != std::string::npos, b.out);
  }
  CHECK(runPodm("run " + kDeblur + " --input o=" + tmp.file("o.png") + " --input k=" +
                tmp.file("k.txt") + " -o " + tmp.file("y.png") + " --align-step 0.25")
            .status == 2);
  CHECK_FALSE(fs::exists(tmp.file("y.png")));
}

TEST_CASE("the FFT plan cache: reused by the next run, same bytes, a corrupt file is a note") {
  ScratchDir tmp("podm-wisdom");
  // 128² is the smallest size whose plans are measured (fft.h).
  io::writeImage(tmp.file("gt.png"), io::syntheticImage("scene", 128, 128, 2));
  REQUIRE(runPodm("degrade " + tmp.file("gt.png") + " --blur gaussian:7:1.5 --noise 2 -o " +
                  tmp.file("o.png") + " --kernel-out " + tmp.file("k.txt"))
              .status == 0);
  const std::string env = "XDG_CACHE_HOME=" + tmp.file("cache") + " PODM_FFTW_WISDOM= ";
  auto run = [&](const std::string& prefix, const std::string& out) {
    return runPodmWithEnv(prefix, "run " + kDeblur + " --input o=" + tmp.file("o.png") +
                                      " --input k=" + tmp.file("k.txt") + " -o " + tmp.file(out) +
                                      " --profile");
  };

  PodmResult first = run(env, "x1.npy");
  REQUIRE_MESSAGE(first.status == 0, first.out);
  CHECK(first.out.find("0 from the plan cache") != std::string::npos);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(tmp.path() / "cache" / "podm"))
    files.push_back(e.path());
  REQUIRE(files.size() == 1);
  CHECK(files[0].extension() == ".wisdom");

  PodmResult second = run(env, "x2.npy");
  REQUIRE_MESSAGE(second.status == 0, second.out);
  CHECK(second.out.find("FFT plans: 0 measured") != std::string::npos);
  CHECK(readText(tmp.file("x1.npy")) == readText(tmp.file("x2.npy")));

  std::ofstream(files[0], std::ios::trunc) << "(garbage";
  PodmResult corrupt = run(env, "x3.npy");
  CHECK(corrupt.status == 0);
  CHECK(corrupt.out.find("note: ignoring the FFT plan cache") != std::string::npos);
  CHECK(readText(files[0]).rfind("(fftw-", 0) == 0); // rewritten with fresh plans

  PodmResult off = run("XDG_CACHE_HOME=" + tmp.file("cache2") + " PODM_FFTW_WISDOM=off ", "x4.npy");
  CHECK(off.status == 0);
  CHECK(!fs::exists(tmp.path() / "cache2"));
}
