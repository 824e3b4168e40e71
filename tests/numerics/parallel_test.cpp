// Row bands on OpenMP's pool (numerics/parallel.h): every row runs exactly once in the bands the
// thread count fixes, and an exception thrown in a band reaches the caller.
#include "numerics/parallel.h"

#include <atomic>
#include <doctest/doctest.h>
#include <stdexcept>
#include <vector>

using namespace podm::numerics;

TEST_CASE("runBands covers every row once, in fixed bands") {
  for (int64_t threads : {1, 2, 3, 8}) {
    for (int64_t rows : {1, 7, 64, 1000}) {
      if (threads > rows)
        continue;
      CAPTURE(threads);
      CAPTURE(rows);
      std::vector<std::atomic<int>> seen(static_cast<size_t>(rows));
      std::vector<std::atomic<int64_t>> firstOfBand(static_cast<size_t>(threads));
      runBands(rows, threads, [&](int64_t r0, int64_t r1) {
        for (int64_t t = 0; t < threads; ++t)
          if (r0 == rows * t / threads)
            firstOfBand[static_cast<size_t>(t)] = r1;
        for (int64_t r = r0; r < r1; ++r)
          ++seen[static_cast<size_t>(r)];
      });
      for (const auto& s : seen)
        CHECK(s == 1);
      for (int64_t t = 0; t < threads; ++t)
        CHECK(firstOfBand[static_cast<size_t>(t)] == rows * (t + 1) / threads);
    }
  }
}

TEST_CASE("an exception in a band reaches the caller after every band ran") {
  std::atomic<int> ran{0};
  CHECK_THROWS_WITH_AS(runBands(100, 4,
                                [&](int64_t r0, int64_t) {
                                  ++ran;
                                  if (r0 == 50)
                                    throw std::runtime_error("band 2 failed");
                                }),
                       "band 2 failed", std::runtime_error);
  CHECK(ran == 4);
}
