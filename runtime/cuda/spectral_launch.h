// The spectral launches (fft.cu) as seen from their builders (spectral_kernels.cpp): what each
// launch reads through LaunchArgs::state, the cuFFT plan holder, and the launch pickers. Shared by
// nvcc and the host compiler, so plain C++17 without CUDA or IR types (cuda_kernels.h's rule):
// the node states of cuda_backend.h own these structures and point args.state at them.
#pragma once

#include "runtime/cuda/cuda_kernels.h"
#include "runtime/cuda/spectral_math.h"

#include <cstdint>

namespace podm::cuda {

// `planes` consecutive planes of h x w reals, or of h x (w/2+1) complex half spectra.
struct PlaneShape {
  int64_t planes = 0, h = 0, w = 0;
  int64_t realCount() const { return planes * h * w; }
  int64_t spectrumCount() const { return planes * h * (w / 2 + 1); }
};

// One node's batched 2-D cuFFT plan (R2C forward, C2R inverse), made on the node's first launch
// and destroyed with the node. Builders run on hosts without a GPU, so constructing one touches
// no CUDA API; a plan per node (not a process-wide cache) ties its lifetime to the program, which
// the CUDA runtime outlives, and never shares a plan's work area between executors.
class FftPlan {
public:
  enum class Direction { Forward, Inverse };
  FftPlan(PlaneShape shape, Direction direction) : shape_(shape), direction_(direction) {}
  ~FftPlan();
  FftPlan(const FftPlan&) = delete;
  FftPlan& operator=(const FftPlan&) = delete;

  // The cuFFT handle, planned on the first call; throws std::runtime_error naming `op` when
  // cuFFT refuses the plan.
  int handle(const char* op) const;

private:
  PlaneShape shape_;
  Direction direction_;
  mutable int handle_ = 0;
  mutable bool planned_ = false;
};

// What rfft2, irfft2 and irfft2_product read through args.state.
struct FftLaunchState {
  FftLaunchState(PlaneShape s, FftPlan::Direction d) : shape(s), plan(s, d) {}
  PlaneShape shape; // of the real side: w is the real width
  FftPlan plan;
  // Inverse transforms: shape.spectrumCount() c64 on the device, the spectrum C2R consumes (and
  // overwrites) so that the node's operand survives.
  void* scratch = nullptr;
};

// What ssim reads through args.state; args.workspace holds its partial sums.
struct SsimLaunchState {
  int64_t stride = 0; // the full plane width
  int64_t offset = 0; // shave * (stride + 1): the shaved region's first pixel
  int64_t rows = 0;   // valid window positions down the shaved region
  int64_t cols = 0;   // and across it
  spectral::SsimWindow window{};
};

Launch rfft2Launch();
Launch irfft2Launch();
Launch irfft2ProductLaunch(bool divide, bool complexB);
// args.workspace: spectral::kReduceBlocks doubles of partials; args.n: the element count.
Launch spectrumEnergyLaunch(bool offset);
Launch extremeLaunch(bool largest);
Launch ssimLaunch();

} // namespace podm::cuda
