// Training checkpoints: one safetensors file holding everything needed to continue a run bit for
// bit -- the model's parameters, the optimizer's state, the step, the data sampler's random
// generator state and a description of the run (model, mode, arguments).
//
// Layout: parameters are stored as "param/<name>", optimizer state as "optim/<name>"; the
// "__metadata__" map holds "podm.checkpoint" (format version), "podm.step", "podm.rng",
// "podm.model", "podm.mode", "podm.args", "podm.checksum" (FNV-1a over names, shapes and data,
// so a file damaged after its header is rejected too) and any extra entries of the run.
//
// Writes are atomic (temporary file, fsync, rename, directory fsync: runtime/io/atomic_file.h): a
// run killed at any instant, even by SIGKILL in the middle of a save, leaves the previous
// checkpoint intact and loadable.
#pragma once

#include "stdlib/nn/weights.h"

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace podm::train {

// A checkpoint that cannot be used: unreadable, truncated, corrupt, or from another model or
// configuration. The message starts with the file name.
class CheckpointError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct Checkpoint {
  nn::TensorMap params;    // the learnable tensors by parameter name
  nn::TensorMap optimizer; // the optimizer's state() map
  int64_t step = 0;        // steps completed
  std::string rng;         // the sampler's generator state (BatchSampler::state())
  std::string model;       // model name, checked on resume
  std::string mode;        // "greedy", "e2e"
  std::string args;        // the arguments the run was started with, for the record
  std::map<std::string, std::string> extra; // other run state (e.g. elapsed seconds)
};

// Writes atomically; throws CheckpointError naming the file when it cannot be written.
void saveCheckpoint(const std::string& path, const Checkpoint& checkpoint);

// Reads and validates the file (safetensors structure, format version, checksum, every field
// present). Throws CheckpointError with the reason.
Checkpoint loadCheckpoint(const std::string& path);

// Checks that a loaded checkpoint belongs to this run: the same model and mode, and a tensor of
// the same shape for every expected parameter (and no others). Throws CheckpointError naming the
// first mismatch.
void checkCompatible(const std::string& path, const Checkpoint& checkpoint,
                     const std::string& model, const std::string& mode,
                     const nn::TensorMap& expectedParams);

} // namespace podm::train
