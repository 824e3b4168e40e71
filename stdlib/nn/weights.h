// Weight tensors as loaded from files: named host arrays of f32 (whatever the file stored), plus
// the loaders' common error type and a format-sniffing `loadWeights`. Nothing here exposes oneDNN
// or HDF5 types, so the compiler and CLI can include it freely.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace podm::nn {

// Every loader error (I/O, malformed or hostile file, binding mismatch) is one of these, with a
// message naming the file and what was wrong.
struct WeightsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct HostTensor {
  std::vector<int64_t> shape;
  std::vector<float> data; // row-major, numel(shape) values
};

// Ordered by name, so listings and error messages are deterministic.
using TensorMap = std::map<std::string, HostTensor>;

// A tensor as listed by `podm weights inspect`: stored dtype and shape, without the data.
struct TensorInfo {
  std::string name;
  std::string dtype; // "F32", "F16", "BF16", ... as the file names it
  std::vector<int64_t> shape;
};

// "[64, 1, 3, 3]".
std::string shapeString(const std::vector<int64_t>& shape);

// The element count of `shape`, or -1 when a dimension is negative or the product overflows
// int64. Loaders use it before allocating anything a file asks for.
int64_t checkedNumel(const std::vector<int64_t>& shape);

// Loads all tensors of a weight file, picking the format from the file's first bytes (HDF5
// signature → Keras HDF5 import, conv kernels converted to OIHW; otherwise safetensors).
TensorMap loadWeights(const std::string& path);

} // namespace podm::nn
