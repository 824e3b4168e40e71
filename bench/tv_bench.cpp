// podm_bench_tv: the TV prox (FGP, stdlib/prox/tv.cpp) in row bands on every core against the same
// solver in one band -- what it ran before bands existed -- in the same run, on a noisy synthetic
// scene at the step of examples/proxgrad_deblur.podm (gamma * lambda = 2e-3 / L(f), L(f) = 1)
// and at a heavier one, both with the box [0, 1] and the default 100 iterations / tol 1e-5.
// Also checks that both give the same result.
//
//   build/bench/podm_bench_tv [--sizes 128,256,512,1024]
#include "bench/harness.h"
#include "runtime/io/degrade.h"
#include "stdlib/prox/tv.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace podm;

int main(int argc, char** argv) {
  std::vector<int64_t> sizes{128, 256, 512, 1024};
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--sizes")
      sizes = bench::parseSizes(argv[i + 1]);
  std::printf(
      "TV prox (tv_iso + box [0,1], 100 iterations max, tol 1e-5), %u cores: bands on every "
      "core (candidate) vs one band (baseline)\n",
      std::thread::hardware_concurrency());
  bench::printHeader();
  for (int64_t n : sizes)
    for (float gamma : {2e-3f, 2e-2f}) {
      Tensor v = io::addGaussianNoise(io::syntheticImage("scene", n, n, 3), 0.02, 7);
      Tensor banded(v.shape()), single(v.shape());
      stdlib::TvScratch a, b;
      stdlib::TvBox box{0.f, 1.f};
      stdlib::TvSolveStats sa, sb;
      bench::PairTiming t = bench::timePair(
          [&] {
            sa = stdlib::tvProxPlane(v.data(), banded.data(), n, n, gamma,
                                     stdlib::TvNorm::Isotropic, 100, 1e-5, a, box);
          },
          [&] {
            sb = stdlib::tvProxPlane(v.data(), single.data(), n, n, gamma,
                                     stdlib::TvNorm::Isotropic, 100, 1e-5, b, box, 1);
          },
          1500.0);
      double diff = 0;
      for (int64_t i = 0; i < v.numel(); ++i)
        diff = std::max(diff, double(std::fabs(banded.data()[i] - single.data()[i])));
      char name[96];
      std::snprintf(name, sizeof name, "tv_iso gamma %g (%d/%d iters, max diff %.1e)",
                    double(gamma), sa.iterations, sb.iterations, diff);
      bench::printRow(name, n, t);
      if (sa.iterations != sb.iterations || diff > 1e-5) {
        std::fprintf(stderr, "podm_bench_tv: the banded solver disagrees with one band\n");
        return 1;
      }
    }
  return 0;
}
