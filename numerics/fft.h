// 2-D FFTs of real planes with single-precision FFTW: real-to-complex / complex-to-real transforms
// and the real-to-real cosine transforms used by the DCT. Everything FFTW stays inside this file's
// implementation; callers see plain float / complex<float> pointers.
//
// Plans are made once per (kind, h, w, placement, alignment) and kept in a process-wide cache that
// is safe to use from many threads (planning is serialized, execution is not).
//
// Planning policy (chosen so that the first call stays cheap where it matters):
//   - planes with fewer than kMeasurePixels pixels use FFTW_ESTIMATE (planning < 1 ms);
//   FFTW_MEASURE
//     costs 30-90 ms there and gains little in absolute time;
//   - larger planes use FFTW_MEASURE once (measured 0.1-0.35 s on the 2-core reference machine at
//     256²-1024²), which buys 1.5-1.9x faster transforms for every later call;
//   - FFTW threads = hardware cores for planes of at least kThreadedPixels pixels, one thread below
//     (measured: at 256² two threads are slower than one, at 512² and 1024² faster). They come
//     from FFTW's OpenMP build, so transforms share OpenMP's pool with oneDNN and
//     numerics/parallel.h.
// A measured plan is first looked up in FFTW's wisdom (fftImportWisdom), so a process that imports
// the wisdom an earlier one exported gets the same plans without measuring again: the plan choice,
// and so every result bit, is then the earlier process's (the CLI keeps the file,
// engine/fft_wisdom.h).
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <string>

namespace podm::numerics {

inline constexpr int64_t kMeasurePixels = 128 * 128;
inline constexpr int64_t kThreadedPixels = 512 * 512;

// Width of the half spectrum FFTW's r2c produces: a h x (w/2 + 1) row-major complex array.
inline int64_t halfSpectrumWidth(int64_t w) {
  return w / 2 + 1;
}

// Unnormalized forward DFT of one h x w real plane into its h x (w/2+1) half spectrum.
void fftForward(const float* in, std::complex<float>* out, int64_t h, int64_t w);

// Unnormalized inverse DFT (fftForward followed by fftInverse multiplies by h*w).
// FFTW's multi-dimensional c2r overwrites its input, so `in` is destroyed.
void fftInverse(std::complex<float>* in, float* out, int64_t h, int64_t w);

// Unnormalized 2-D DCT-II (FFTW REDFT10 on both axes): out[k,l] = 4 sum x[i,j] cos.. cos..
// `in` and `out` must not overlap.
void dct2Unnormalized(const float* in, float* out, int64_t h, int64_t w);

// Unnormalized 2-D DCT-III (FFTW REDFT01 on both axes), in place on `data`.
void dct3UnnormalizedInPlace(float* data, int64_t h, int64_t w);

// Make the plans of `planes` consecutive h x w planes now (forward and inverse DFT; DCT-II and
// DCT-III), so that planning, FFTW_MEASURE included, happens while a program is prepared rather
// than in its first stage. The calls above then find their plans in the cache.
void fftPrepare(int64_t planes, int64_t h, int64_t w);
void dctPrepare(int64_t planes, int64_t h, int64_t w);

// Number of threads FFTW uses for planes of `pixels` pixels under the policy above.
int fftThreadsFor(int64_t pixels);

// Number of plans in the cache (for tests: repeated calls with one size must not add plans).
size_t fftPlanCacheSize();

// How the plans made so far in this process came about, and what planning cost.
struct FftPlanStats {
  int64_t measured = 0;   // FFTW_MEASURE run now (new wisdom to keep)
  int64_t fromWisdom = 0; // recreated from imported wisdom, without measuring
  int64_t estimated = 0;  // small planes, FFTW_ESTIMATE
  double planSeconds = 0; // wall time spent planning, all kinds
};
FftPlanStats fftPlanStats();

// FFTW's accumulated wisdom as text, and its import (merged with what is there; false when the
// text is not FFTW wisdom). Plans already in the cache are unaffected.
std::string fftExportWisdom();
bool fftImportWisdom(const std::string& text);

// What a wisdom file must match to be reused: the FFTW build (version and SIMD set, as
// fftwf_version spells it) and the thread counts of the policy above, e.g.
// "fftw-3.3.10-sse2-avx-t2".
std::string fftWisdomKey();

} // namespace podm::numerics
