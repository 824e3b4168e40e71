// safetensors (https://huggingface.co/docs/safetensors) reading and writing: the format PyTorch
// users export today. Reading accepts F32, F16, BF16 and F64 (converted to f32); writing is F32.
// The reader treats the file as hostile: header size bounded by the file size and a 100 MB limit,
// header parsed by our strict JSON reader, offsets checked to lie in the file without overlap,
// shapes multiplied with overflow checks and matched against the byte ranges.
#pragma once

#include "stdlib/nn/weights.h"

#include <map>
#include <string>
#include <vector>

namespace podm::nn {

struct SafetensorsFile {
  TensorMap tensors;
  std::map<std::string, std::string> metadata; // the optional "__metadata__" string map
};

inline constexpr uint64_t kSafetensorsMaxHeader = 100ull << 20;

SafetensorsFile readSafetensors(const std::string& path);
// The header only: names, stored dtypes and shapes (validated exactly as readSafetensors does).
std::vector<TensorInfo> inspectSafetensors(const std::string& path);
// Writes `tensors` as F32 (little-endian), names sorted, with optional metadata. Throws
// WeightsError when a tensor's data size does not match its shape or the file cannot be written.
void writeSafetensors(const std::string& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata = {});

} // namespace podm::nn
