// `podm compile --emit=graph|graph-opt|plan` and `podm run` as a user runs them: the F-step choice
// in the printed graph, a saved .pgraph that runs to the same result as the model, the trace CSV,
// lowering errors as diagnostics with exit code 1, and usage errors with exit code 2.
#include "runtime/io/image.h"
#include "runtime/io/plot.h"
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <array>
#include <cstdio>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <random>

namespace {

using Result = PodmResult;

const char* kModel = R"(model deblur
input o : image
input k : kernel
op K = conv(k, boundary = "periodic")
var x : image = o
f(x) = 0.5 * || K x - o ||^2
g(x) = 1e-3 * l1(x) + box(x, lo = 0, hi = 1)
d(x, a) = mu / 2 * || x - a ||^2
stages 20 podm { gamma = 0.9 / L(f); mu = 0.5; c = 0.2; A = identity }
monitor phi, rel_change, opt_error, branch
)";

} // namespace

TEST_CASE("compile and run a PODM model end to end") {
  namespace fs = std::filesystem;
  podm::test::ScratchDir scratch;
  const fs::path& dir = scratch.path();
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0, 1);
  podm::Tensor o = podm::Tensor::image(32, 32), k = podm::Tensor::image(5, 5);
  for (int64_t i = 0; i < o.numel(); ++i)
    o.data()[i] = u(rng);
  for (int64_t i = 0; i < k.numel(); ++i)
    k.data()[i] = 1.f / 25;
  podm::io::writeNpy((dir / "o.npy").string(), o);
  podm::io::writeNpy((dir / "k.npy").string(), k);
  std::ofstream(dir / "m.podm") << kModel;
  const std::string model = (dir / "m.podm").string();
  const std::string in =
      " --input o=" + (dir / "o.npy").string() + " --input k=" + (dir / "k.npy").string();

  Result g = runPodm("compile " + model + " --emit=graph" + in);
  CHECK(g.status == 0);
  CHECK(g.out.find("x~ [F-step: FFT closed form]") != std::string::npos);
  CHECK(g.out.find("check (Eq. 5)") != std::string::npos);
  Result shape = runPodm("compile " + model + " --emit=graph --shape o=32x32 --shape k=5x5");
  CHECK(shape.status == 0);
  CHECK(shape.out == g.out);

  const std::string pgraph = (dir / "m.pgraph").string();
  Result opt = runPodm("compile " + model + " --emit=graph-opt -v" + in + " -o " + pgraph);
  CHECK(opt.status == 0);
  CHECK(opt.out.find("// after remove-dead-nodes") != std::string::npos);
  CHECK(fs::exists(pgraph));
  CHECK(runPodm("compile " + model + " --emit=plan" + in).out.find("cpu:") != std::string::npos);

  const std::string x1 = (dir / "x1.npy").string(), x2 = (dir / "x2.npy").string();
  const std::string trace = (dir / "t.csv").string();
  Result r1 = runPodm("run " + model + in + " -o " + x1 + " --trace " + trace);
  CHECK(r1.status == 0);
  CHECK(r1.out.find("Proposition 1 holds") != std::string::npos);
  Result r2 = runPodm("run " + pgraph + in + " -o " + x2 + " --profile");
  CHECK(r2.status == 0);
  podm::Tensor a = podm::io::readImage(x1), b = podm::io::readImage(x2);
  REQUIRE(a.numel() == b.numel());
  for (int64_t i = 0; i < a.numel(); ++i)
    REQUIRE(a.data()[i] == b.data()[i]);
  std::ifstream csv(trace);
  std::string header;
  std::getline(csv, header);
  CHECK(header == podm::io::kTraceHeader);
  int rows = 0;
  for (std::string line; std::getline(csv, line);)
    ++rows;
  CHECK(rows == 20);

  // Model errors: exit 1 with a located diagnostic; usage errors: exit 2.
  Result missing = runPodm("run " + model + " --input o=" + (dir / "o.npy").string() + " -o " + x1);
  CHECK(missing.status == 1);
  CHECK(missing.out.find("m.podm:4:13: error: the shape of input 'k'") != std::string::npos);
  Result net = runPodm("compile " + std::string(PODM_SOURCE_DIR) +
                       "/examples/sr_lp.podm --emit=graph --shape o=8x8");
  CHECK(net.status == 0);
  CHECK(net.out.find("network(") != std::string::npos);
  CHECK(net.out.find("x_A [net A]") != std::string::npos);
  CHECK(net.out.find("nets/net24.hdf5\\x0anets/net23.hdf5") != std::string::npos);
  CHECK(runPodm("run " + model + in).status == 2);
  CHECK(runPodm("compile " + model + " --emit=graph --shape o=32").status == 2);
  CHECK(runPodm("compile " + model + " --emit=ast -o " + pgraph).status == 2);
}
