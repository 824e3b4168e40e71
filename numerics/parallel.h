// Band parallelism with the FFTs' thread policy: body(r0, r1) over [0, rows) in contiguous bands,
// one per thread (fftThreadsFor(pixels): one thread below kThreadedPixels, every core from
// there), so a large plane's direct convolution, finite differences, fused elementwise program
// or group prox uses the cores an FFT of it would. The caller's thread takes the first band.
// Bands are disjoint and fixed by (rows, threads), so results do not depend on scheduling.
//
// The bands run on OpenMP's threads (parallel.cpp), the pool that oneDNN's convolutions and
// FFTW's transforms (its OpenMP build) use too: a band starts without a thread being created, and
// the pool's workers, which spin for a while after each network call, pick it up instead of
// competing with threads of our own for the cores.
#pragma once

#include "numerics/fft.h"

#include <algorithm>
#include <cstdint>
#include <functional>

namespace podm::numerics {

// Band t of `threads` is [rows * t / threads, rows * (t + 1) / threads); every band runs once.
void runBands(int64_t rows, int64_t threads, const std::function<void(int64_t, int64_t)>& body);

template <class Body>
void parallelRows(int64_t rows, int64_t pixels, const Body& body) {
  const int64_t threads = std::min<int64_t>(fftThreadsFor(pixels), rows);
  if (threads <= 1) {
    body(int64_t{0}, rows);
    return;
  }
  runBands(rows, threads, body);
}

// Memory-bound passes (elementwise programs, finite differences, the group prox) take a second
// thread only from a million elements: below that the spawn and join cost about what the second
// core saves (podm_bench_fista at 512²), and each join is a wait when other processes hold the
// cores.
inline constexpr int64_t kThreadedElements = 1024 * 1024;

template <class Body>
void parallelPasses(int64_t rows, int64_t elements, const Body& body) {
  if (elements < kThreadedElements) {
    body(int64_t{0}, rows);
    return;
  }
  parallelRows(rows, elements, body);
}

} // namespace podm::numerics
