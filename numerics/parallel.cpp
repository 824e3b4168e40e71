// numerics/parallel.h's bands on OpenMP's thread pool.
#include "numerics/parallel.h"

#include <exception>
#include <mutex>
#include <omp.h>

namespace podm::numerics {

void runBands(int64_t rows, int64_t threads, const std::function<void(int64_t, int64_t)>& body) {
  // An exception must not leave an OpenMP region (the runtime would terminate): the first one a
  // band throws is kept and rethrown on the caller's thread once every band is done.
  std::exception_ptr failure;
  std::mutex failureMutex;
  const int asked = static_cast<int>(threads);
#pragma omp parallel num_threads(asked)
  {
    // A team smaller than asked (a nested region, a thread limit) takes the bands in turn.
    const int64_t team = omp_get_num_threads();
    for (int64_t t = omp_get_thread_num(); t < threads; t += team) {
      try {
        body(rows * t / threads, rows * (t + 1) / threads);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failureMutex);
        if (!failure)
          failure = std::current_exception();
      }
    }
  }
  if (failure)
    std::rethrow_exception(failure);
}

} // namespace podm::numerics
