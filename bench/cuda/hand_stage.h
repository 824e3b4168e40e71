// The hand-written GPU baseline of podm_bench_gpu_stage: the PODM stage of
// examples/deblur_podm.podm as a researcher would write it with cuFFT and a few plain kernels
// (hand_stage.cu). Plain C++ without CUDA types, so the benchmark's host side compiles like the
// rest of podm and only hand_stage.cu sees cuFFT.
#pragma once

#include "bench/stage_log.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace podm::bench::gpu {

// The model's constants (deblur_podm.podm's stages block and g).
struct StageSettings {
  float mu = 0, c = 0, lambda = 0, gammaFactor = 0, stopBelow = 0;
};

class HandStageGpu {
public:
  // o: the n x n observation; k: the kernelSize x kernelSize blur kernel (host memory, copied).
  // Plans the transforms, computes the kernel spectrum, |K^|^2, the F-step denominator, K'o and
  // gamma = gammaFactor / max |K^|^2 once.
  HandStageGpu(const float* o, const float* k, int64_t kernelSize, int64_t n,
               const StageSettings& settings);
  ~HandStageGpu();
  HandStageGpu(const HandStageGpu&) = delete;
  HandStageGpu& operator=(const HandStageGpu&) = delete;

  // Runs up to `stages` stages from x^0 = o, stopping early like the model (rel_change below
  // stopBelow); returns the number run. Synchronous: every stage reads its check and monitors.
  int run(int stages, std::vector<StageLog>* log);
  // The current x (after the last run) into n*n host floats.
  void downloadX(float* host) const;
  size_t deviceBytes() const; // buffers allocated (cuFFT's plan workspaces not included)

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "NVIDIA H100 80GB HBM3, 132 SMs, 79.1 GiB; CUDA runtime 13000, cuFFT 12000" for the report.
std::string deviceSummary();

} // namespace podm::bench::gpu
