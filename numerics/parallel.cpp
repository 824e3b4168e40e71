// numerics/parallel.h's bands on OpenMP's thread pool.
#include "numerics/parallel.h"

#include <omp.h>

namespace podm::numerics {

void runBands(int64_t rows, int64_t threads, const std::function<void(int64_t, int64_t)>& body) {
#pragma omp parallel num_threads(static_cast <int>(threads))
  {
    // A team smaller than asked (a nested region, a thread limit) takes the bands in turn.
    const int64_t team = omp_get_num_threads();
    for (int64_t t = omp_get_thread_num(); t < threads; t += team)
      body(rows * t / threads, rows * (t + 1) / threads);
  }
}

} // namespace podm::numerics
