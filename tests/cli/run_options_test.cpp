// `podm run` options that change what a model file says without editing it, and what a run says
// about Proposition 1: `stages 0` scores the initial value, `--set NAME=VALUE` overrides a const
// with sema's checks (a bad value is located at the const's uses), and a run whose phi rises
// names the trace's stage numbers and the assumption of Proposition 1 that fails.
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <regex>

using namespace podm;
using podm::test::ScratchDir;

namespace {

std::string slurpFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// x2 super-resolution by proximal steps; the count, scale and step come from consts and settings
// the tests replace.
std::string srModel(const std::string& stages, const std::string& settings) {
  return "model sr\n"
         "input o : image\n"
         "input ref : image optional\n"
         "const s = 2\n"
         "op K = bicubic_down(s)\n"
         "var x : image(o.h * s, o.w * s) = bicubic_up(s) o\n"
         "f(x) = 0.5 * || K x - o ||^2\n"
         "g(x) = 1e-3 * l1(x)\n"
         "d(x, a) = mu / 2 * || x - a ||^2\n"
         "stages " +
         stages + " podm { " + settings +
         "; A = identity }\n"
         "monitor phi, branch, psnr(ref)\n";
}

struct SrFixture {
  ScratchDir tmp{"podm-run-options"};
  SrFixture() {
    io::writeImage(tmp.file("gt.png"), io::syntheticImage("scene", 48, 48, 6));
    REQUIRE(
        runPodm("degrade " + tmp.file("gt.png") + " --bicubic 2 -o " + tmp.file("o.png")).status ==
        0);
  }
  std::string write(const std::string& text) const {
    std::ofstream(tmp.file("m.podm")) << text;
    return tmp.file("m.podm");
  }
  // With --ref unless `extra` says otherwise.
  PodmResult run(const std::string& model, const std::string& extra = "", bool ref = true) const {
    return runPodm("run " + model + " --input o=" + tmp.file("o.png") +
                   (ref ? " --ref " + tmp.file("gt.png") : "") + " -o " + tmp.file("x.png") + " " +
                   extra);
  }
};

} // namespace

TEST_CASE("stages 0 runs the initial value: the bicubic upscaling, scored by --ref") {
  SrFixture f;
  PodmResult r = f.run(f.write(srModel("0", "gamma = 0.9 / L(f); mu = 0.5; c = 0.2")));
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("0 stages") != std::string::npos);
  Tensor x = io::readImage(f.tmp.file("x.png"));
  CHECK(x.shape().h == 48);
  CHECK(r.out.find("PSNR") != std::string::npos);
}

TEST_CASE("stages 0 with a network per stage needs none of its weight files") {
  SrFixture f;
  std::string model = srModel("0", "gamma = 0.9 / L(f); mu = 0.5; c = 0.2");
  model.replace(model.find("; A = identity"), 14, "");
  model.replace(model.find("stages"), 0,
                "schedule idx = [3, 2, 1]\n"
                "net A[l] = residual(dilated_cnn(depth = 3, channels = 4, dilations = [1, 2, 1]))\n"
                "  weights \"missing/net{idx[l]}.safetensors\"\n");
  PodmResult r = f.run(f.write(model));
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("0 stages") != std::string::npos);
  // With stages, the missing files are an error again.
  PodmResult three = f.run(f.write(std::regex_replace(model, std::regex("stages 0"), "stages 3")));
  CHECK(three.status == 1);
  CHECK(three.out.find("missing/net3.safetensors") != std::string::npos);
}

TEST_CASE("--set overrides a const with sema's checks") {
  SrFixture f;
  const std::string model = f.write(srModel("3", "gamma = 0.9 / L(f); mu = 0.5; c = 0.2"));
  // s = 4: the observation is 24x24, so the result is 96x96.
  PodmResult r = f.run(model, "--set s=4", false);
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(io::readImage(f.tmp.file("x.png")).shape().h == 96);

  PodmResult bad = f.run(model, "--set s=2.5");
  CHECK(bad.status == 1);
  // Located at the const's use, with a note saying where the value came from.
  CHECK(bad.out.find("m.podm:5:") != std::string::npos);
  CHECK(bad.out.find("must be a whole number") != std::string::npos);
  CHECK(bad.out.find("const 's' is 2.5 from --set s=2.5") != std::string::npos);

  PodmResult unknown = f.run(model, "--set q=1");
  CHECK(unknown.status == 2);
  CHECK(unknown.out.find("has no const 'q' (its consts: s)") != std::string::npos);
  CHECK(f.run(model, "--set s=two").status == 2);
  CHECK(runPodm("compile " + model + " --set s=3 --emit=graph --shape o=24x24").status == 0);
}

TEST_CASE("a rise of phi names the trace's stages and the assumption of Proposition 1 that fails") {
  SrFixture f;
  // gamma = 2.5 / L_f: the gradient steps overshoot, and c = 100 accepts every x_G.
  PodmResult r = f.run(f.write(srModel("8", "gamma = 2.5 / L(f); mu = 0.5; c = 100")));
  REQUIRE_MESSAGE(r.status == 0, r.out);
  std::smatch m;
  REQUIRE_MESSAGE(
      std::regex_search(r.out, m,
                        std::regex("phi increased ([0-9]+) times? in 7 stage "
                                   "transitions; first from stage ([0-9]+) to ([0-9]+)")),
      r.out);
  CHECK(std::stoi(m[3]) == std::stoi(m[2]) + 1);
  CHECK(std::stoi(m[2]) >= 1);
  CHECK(r.out.find("gamma >= 1/L_f from stage 1") != std::string::npos);
  CHECK(r.out.find("c > mu/2 from stage 1") != std::string::npos);
  // bicubic_down is not circulant: the F-step is 10 CG steps, which the report names too.
  CHECK(r.out.find("the F-step is inexact") != std::string::npos);

  // Admissible settings: no rise, and the run says so.
  PodmResult ok = f.run(f.write(srModel("8", "gamma = 0.9 / L(f); mu = 0.5; c = 0.2")));
  REQUIRE(ok.status == 0);
  CHECK(ok.out.find("Proposition 1 holds on this run") != std::string::npos);
}

TEST_CASE("kernel orientation: correlation kernels are read as such by degrade and conv(k, as)") {
  ScratchDir tmp("podm-orientation");
  io::writeImage(tmp.file("gt.png"), io::syntheticImage("scene", 64, 64, 8));
  // An asymmetric kernel (mass in one corner) and the same kernel rotated by 180 degrees.
  const char* kernel = "0 0 0 0 0\n0 0 0 0 0\n0 0 1 1 0\n0 0 2 4 1\n0 0 1 3 3\n";
  const char* rotated = "3 3 1 0 0\n1 4 2 0 0\n0 1 1 0 0\n0 0 0 0 0\n0 0 0 0 0\n";
  std::ofstream(tmp.file("k.txt")) << kernel;
  std::ofstream(tmp.file("r.txt")) << rotated;
  REQUIRE(runPodm("degrade " + tmp.file("gt.png") + " --kernel " + tmp.file("k.txt") +
                  " --kernel-as correlation -o " + tmp.file("corr.npy"))
              .status == 0);
  REQUIRE(runPodm("degrade " + tmp.file("gt.png") + " --kernel " + tmp.file("r.txt") + " -o " +
                  tmp.file("conv.npy"))
              .status == 0);
  // Correlation with k is convolution with k rotated: the same floats.
  Tensor a = io::readImage(tmp.file("corr.npy")), b = io::readImage(tmp.file("conv.npy"));
  REQUIRE(a.numel() == b.numel());
  CHECK(std::equal(a.data(), a.data() + a.numel(), b.data()));

  auto model = [&](const std::string& as, const std::string& extra = "") {
    std::ofstream(tmp.file("m.podm"))
        << "model deblur\ninput o : image\ninput k : kernel\n"
        << "op K = conv(k, boundary = \"periodic\"" << as << ")\n"
        << "var x : image = o\nf(x) = 0.5 * || K x - o ||^2\ng(x) = 1e-5 * l1(x)\n"
        << "stages 150 fista { gamma = 1 / L(f) }\n";
    return runPodm("run " + tmp.file("m.podm") + " --input o=" + tmp.file("corr.npy") +
                   " --input k=" + tmp.file("k.txt") + " --ref " + tmp.file("gt.png") + " -o " +
                   tmp.file("x.png") + extra);
  };
  auto psnr = [](const PodmResult& r) {
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_search(r.out, m, std::regex("PSNR ([0-9.]+) dB")), r.out);
    return std::stod(m[1]);
  };
  const double right = psnr(model(", as = \"correlation\""));
  const double wrong = psnr(model(""));
  CHECK(right > wrong + 3);
  // The same, said on the command line about the kernel file instead of in the model.
  CHECK(psnr(model("", " --kernel-as correlation")) == right);
  PodmResult bad = model(", as = \"corr\"");
  CHECK(bad.status == 1);
  CHECK(bad.out.find("m.podm:4:") != std::string::npos);
  CHECK(bad.out.find("'as' of conv must be one of \"convolution\", \"correlation\", not "
                     "\"corr\"") != std::string::npos);
}

TEST_CASE("inputs that do not fit what the model declares are refused before anything runs") {
  ScratchDir tmp("podm-input-kinds");
  io::writeImage(tmp.file("o.png"), io::syntheticImage("scene", 32, 32, 2));
  io::writeKernelText(tmp.file("k.txt"), io::gaussianKernel(5, 1.0));
  const std::string model = std::string(PODM_SOURCE_DIR) + "/examples/deblur_podm.podm";
  auto run = [&](const std::string& inputs) {
    return runPodm("run " + model + " " + inputs + " -o " + tmp.file("x.png"));
  };
  PodmResult swapped = run("--input o=" + tmp.file("k.txt") + " --input k=" + tmp.file("o.png"));
  CHECK(swapped.status == 2);
  CHECK(swapped.out.find("the kernel 'k' (32x32) is larger than the image 'o' (5x5)") !=
        std::string::npos);
  CHECK(swapped.out.find("swapped?") != std::string::npos);
  PodmResult number = run("--input o=0.5 --input k=" + tmp.file("k.txt"));
  CHECK(number.status == 2);
  CHECK(number.out.find("--input o=0.5: 'o' is an image input of the model; give a file") !=
        std::string::npos);
  CHECK(!std::filesystem::exists(tmp.file("x.png")));
}

TEST_CASE("the output paths are checked before the run, not after it") {
  SrFixture f;
  const std::string model = f.write(srModel("40", "mu = 1"));
  std::ofstream(f.tmp.file("plain")) << "x";
  auto refused = [&](const std::string& outputs, const std::string& message) {
    PodmResult r = runPodm("run " + model + " --input o=" + f.tmp.file("o.png") + " " + outputs);
    CHECK_MESSAGE(r.status == 2, r.out);
    CHECK_MESSAGE(r.out.find(message) != std::string::npos, r.out);
    CHECK(r.out.find("L(f)") == std::string::npos); // nothing was lowered, let alone run
  };
  refused("-o " + f.tmp.file("x.jpg"), "-o " + f.tmp.file("x.jpg") + ": JPEG output is not");
  refused("-o " + f.tmp.file("x.bmp"), "cannot choose an output format from the extension");
  refused("-o " + f.tmp.file("no/x.png"), "-o " + f.tmp.file("no/x.png") + ": the folder '" +
                                              f.tmp.file("no") + "' does not exist");
  refused("-o " + f.tmp.file("plain/x.png"), "'" + f.tmp.file("plain") + "' is not a folder");
  refused("-o " + f.tmp.file("x.png") + " --trace " + f.tmp.file("no/t.csv"),
          "--trace " + f.tmp.file("no/t.csv") + ": the folder");
  refused("-o " + f.tmp.file("x.png") + " --save-stages " + f.tmp.file("plain/stages"),
          "--save-stages " + f.tmp.file("plain/stages") + ": '" + f.tmp.file("plain") +
              "' is not a folder");
  CHECK(!std::filesystem::exists(f.tmp.file("x.png")));
  CHECK(std::filesystem::file_size(f.tmp.file("plain")) == 1);
  // An output that is an input file (by identity, not spelling) would replace what the user had.
  const std::string input = f.tmp.file("o.png"), before = slurpFile(input);
  const std::string dotted = (f.tmp.path() / "." / "o.png").string();
  refused("-o " + dotted,
          "-o " + dotted + " is the file of --input o: writing there would replace");
  refused("-o " + f.tmp.file("x.png") + " --ref " + f.tmp.file("gt.png") + " --trace " +
              f.tmp.file("gt.png"),
          "--trace " + f.tmp.file("gt.png") + " is the --ref image");
  CHECK(slurpFile(input) == before);
}

TEST_CASE("a missing weight file is located at the net declaration and suggests --weights-dir") {
  ScratchDir tmp("podm-weights-missing");
  io::writeImage(tmp.file("o.png"), io::syntheticImage("scene", 32, 32, 2));
  std::ofstream(tmp.file("m.podm"))
      << "model den\ninput o : image\nvar x : image = o\nf(x) = 0.5 * || x - o ||^2\n"
      << "g(x) = box(x, lo = 0, hi = 1)\nd(x, a) = mu / 2 * || x - a ||^2\n"
      << "net A = residual(dilated_cnn(depth = 3, channels = 8, dilations = [1, 2, 1]))\n"
      << "  weights \"nets/missing.safetensors\"\n"
      << "stages 2 naive { gamma = 1; mu = 1 }\n";
  PodmResult r = runPodm("run " + tmp.file("m.podm") + " --input o=" + tmp.file("o.png") + " -o " +
                         tmp.file("x.png"));
  CHECK(r.status == 1);
  CHECK(r.out.find("m.podm:8:11: error: net A: weight file 'nets/missing.safetensors' is not "
                   "found") != std::string::npos);
  CHECK(r.out.find("--weights-dir DIR") != std::string::npos);
  CHECK(r.out.find("%") == std::string::npos); // no IR ids
}

TEST_CASE("an operator that does not fit the input sizes is reported at its use, without IR ids") {
  ScratchDir tmp("podm-fit");
  io::writeImage(tmp.file("o.png"), io::syntheticImage("scene", 255, 255, 2));
  std::ofstream(tmp.file("h.podm"))
      << "model h\ninput o : image\nop W = haar(levels = 3)\nvar x : image = o\n"
      << "f(x) = 0.5 * || x - o ||^2\ng(x) = 1e-3 * l1(W x)\nstages 3 proxgrad { gamma = 1 }\n";
  PodmResult r = runPodm("run " + tmp.file("h.podm") + " --input o=" + tmp.file("o.png") + " -o " +
                         tmp.file("x.png"));
  CHECK(r.status == 1);
  CHECK(r.out.find("h.podm:3:8: error: this does not fit the input sizes given: 3 Haar levels "
                   "need h and w divisible by 8, got 255x255") != std::string::npos);
  CHECK(r.out.find('%') == std::string::npos);
}

TEST_CASE("phi with a plugin prox is an error at the monitor that asks for it") {
  ScratchDir tmp("podm-phi-plugin");
  io::writeImage(tmp.file("o.png"), io::syntheticImage("scene", 32, 32, 2));
  std::ofstream(tmp.file("m.podm"))
      << "model en\ninput o : image\nvar x : image = o\nf(x) = 0.5 * || x - o ||^2\n"
      << "g(x) = 1e-2 * elastic_net(x, ratio = 0.5)\nstages 3 proxgrad { gamma = 1 }\n"
      << "monitor rel_change, phi\n";
  PodmResult r =
      runPodm("run --plugin " + std::string(PODM_EXAMPLE_PLUGIN) + " " + tmp.file("m.podm") +
              " --input o=" + tmp.file("o.png") + " -o " + tmp.file("x.png"));
  CHECK(r.status == 1);
  CHECK(r.out.find("m.podm:7:21: error: phi = f + g needs the value of every term of g, and prox "
                   "'elastic_net'") != std::string::npos);
}

TEST_CASE("--precision takes fp32 or bf16; a model without networks runs the same in both") {
  SrFixture fx;
  const std::string model = fx.write(srModel("4", "gamma = 0.9 / L(f); mu = 0.5; c = 0.2"));
  PodmResult bad = fx.run(model, "--precision fp16");
  CHECK(bad.status == 2);
  CHECK(bad.out.find("--precision needs fp32 or bf16") != std::string::npos);
  PodmResult f32 = fx.run(model, "--precision fp32");
  REQUIRE(f32.status == 0);
  PodmResult bf16 = fx.run(model, "--precision bf16");
  REQUIRE(bf16.status == 0);
  // The same PSNR line: only network convolutions change precision.
  auto psnrLine = [](const std::string& out) {
    std::smatch m;
    return std::regex_search(out, m, std::regex("PSNR [0-9.]+ dB, SSIM [0-9.]+")) ? m.str() : "";
  };
  CHECK(!psnrLine(f32.out).empty());
  CHECK(psnrLine(f32.out) == psnrLine(bf16.out));
}
