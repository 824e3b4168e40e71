// Per-thread scratch buffers for kernels that need temporary planes (padding, spectra, transposes).
// Kernels are called once per graph node per stage with the same sizes, so a buffer that only grows
// turns every call after the first into zero allocations and zero page faults.
#pragma once

#include <complex>
#include <cstddef>

namespace podm::numerics {

// Distinct slots let one kernel hold several buffers at once; a kernel must not call another kernel
// that uses the same slot while it holds a pointer (the callee could grow and move the buffer).
enum class ScratchSlot : int {
  ConvPadded = 0,
  ConvSpectrum,
  ConvResult,
  FilterBankSpectrum,
  FilterBankAccumulator,
  Resample,
  ResampleTransposed,
  ResampleTransposedResult,
  Haar,
  Count
};

// `bytes` of memory aligned to `alignment` (a power of two), freed with std::free. Buffers of
// 2 MiB and more are backed by transparent huge pages where the kernel offers them (madvise mode):
// a fresh 4 KiB page costs a fault of several microseconds on first touch, which at 512² made the
// first pass over a run's arena and scratch planes cost tens of milliseconds.
void* allocateBuffer(size_t bytes, size_t alignment = 64);

// At least `count` floats (64-byte aligned, contents unspecified) owned by the calling thread.
float* scratchFloats(ScratchSlot slot, size_t count);
// The same slot viewed as complex numbers; `count` complex values.
std::complex<float>* scratchComplex(ScratchSlot slot, size_t count);

} // namespace podm::numerics
