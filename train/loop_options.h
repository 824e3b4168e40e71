// What every training loop (greedy, end to end) is told besides its model: the data and its
// sampling, the optimisation, validation, checkpoints and how to report. Both option structs
// derive from it, so the CLI fills it once for either mode.
#pragma once

#include "train/data.h"

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace podm {
class Backend;
}

namespace podm::train {

struct LoopOptions {
  std::vector<const NamedImage*> trainImages, valImages;
  SamplerOptions sampler;
  int64_t batch = 16;
  int64_t valCrop = 128; // centre crop of the validation images; 0 = whole images

  int64_t steps = 0;  // 0 = bounded by seconds only
  double seconds = 0; // 0 = bounded by steps only
  std::string optimizer = "adam";
  double lr = 1e-3;
  std::string lrSchedule = "constant"; // constant | cosine (over `steps`) | step
  double clipNorm = 0;
  std::string loss = "l2";
  uint64_t seed = 0;
  // Where the networks' forward and backward passes run (a GPU through cuDNN,
  // nn::TrainableNetwork::trainOn); null: the CPU's oneDNN. Data, losses and the optimizer stay
  // on the CPU either way.
  Backend* networkDevice = nullptr;

  int64_t valEvery = 0; // 0 = only at the end
  std::string checkpoint;
  int64_t checkpointEvery = 0; // 0 = only at the end and on a stop request
  bool resume = false;

  std::string modelName; // recorded in and checked against the checkpoint
  std::string argsText;  // the command line, for the record

  std::ostream* progress = nullptr; // progress lines (stderr)
  bool tty = false;                 // rewrite one line with \r instead of printing lines
  int64_t logEvery = 0;             // non-TTY: a line every logEvery steps (0 = valEvery or 50)
  const std::atomic<bool>* stop = nullptr; // set by a signal handler
  int64_t debugNanAtStep = 0;              // test hook: poison the loss at this (1-based) step
};

// What a loop says when a stop request (Ctrl-C) ends it at `step`.
inline std::string interruptedMessage(int64_t step, const std::string& checkpoint) {
  return "interrupted at step " + std::to_string(step) +
         (checkpoint.empty() ? " (no --checkpoint: progress is not saved)"
                             : "; checkpoint " + checkpoint + " saved, continue with --resume");
}

} // namespace podm::train
