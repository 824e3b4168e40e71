// Greedy training, the way the PODM paper obtains its per-stage networks: each network A of a
// model is trained on its own as a Gaussian denoiser for the noise level of the stages that use
// it (clean crop -> crop + N(0, sigma^2) -> A -> loss against the clean crop), one after the
// other, with Adam (or SGD) on an L2 or L1 loss.
//
// The loop is resumable bit for bit: a checkpoint (train/checkpoint.h) holds every network's
// weights, the optimizer state of the network in training, the sampler's generator state and the
// position (network index, step); a run resumed from it draws the same batches and applies the
// same updates as an uninterrupted run. Checkpoints are written every N steps, at the end, and at
// the first step boundary after a stop request (SIGINT/SIGTERM set the flag); a non-finite loss or
// gradient stops the run before anything is written, so the last checkpoint stays the last good
// state.
#pragma once

#include "stdlib/nn/network.h"
#include "train/data.h"
#include "train/loop_options.h"

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace podm::train {

// One network to train: the stages it serves, its noise level, where its weights go.
struct GreedyJob {
  std::string label;                    // "A stages 0-4 (nets/net24.hdf5)", for progress lines
  double sigmaLow = 25, sigmaHigh = 25; // 0-255 scale; a range trains a blind denoiser
  std::vector<std::string> outputs;     // weight files written with this network's weights
};

// Per-network bounds: `steps` counts per network, `seconds` is the total split evenly.
struct GreedyOptions : LoopOptions {
  nn::NetworkSpec spec;
  std::string prefix; // tensor-name prefix of the weight files (the model's `prefix`)
  std::vector<GreedyJob> jobs;
  // Start values of every network (names as `podm run` binds them: prefix + conv{k}.*); empty:
  // He initialisation. A denoiser for a nearby noise level trains from it in a fraction of the
  // steps a fresh network needs.
  nn::TensorMap initialWeights;
  std::string initialWeightsName; // where they came from, for the checkpoint's settings
};

struct JobReport {
  std::string label;
  int64_t steps = 0;
  double seconds = 0;
  double valNoisyPsnr = 0, valPsnr = 0; // mean over the validation images
  nn::TensorMap weights;                // names as `podm run` binds them (prefix + conv{k}.*)
};

struct GreedyResult {
  enum class Status { Done, Stopped, NonFinite } status = Status::Done;
  std::string message; // for Stopped / NonFinite
  int64_t steps = 0;   // total steps completed
  std::vector<JobReport> jobs;
};

// Throws DataError / CheckpointError / nn::WeightsError / std::invalid_argument on bad input
// (the caller maps them to exit 1).
GreedyResult trainGreedy(const GreedyOptions& options);

} // namespace podm::train
