// Import of Keras 2 HDF5 model files (what the PODM authors released): the architecture from the
// `model_config` attribute, the weights from `model_weights/<layer>/…`, converted to podm's names
// and layouts (Conv2D kernels HWIO → OIHW, Dense kernels in×out → out×in). Layer names differ
// between files (conv2d_8…), so only the order of layers in model_config is trusted.
// Files are treated as hostile: HDF5's error printing is off, its errors become WeightsError,
// and every dataset's size is checked before anything is allocated for it. Because libhdf5 1.10
// itself is not memory-safe on every corrupt file (fuzzing found a use-after-free in H5Aopen),
// libhdf5 runs only in the reader program podm-hdf5-reader, whose result podm decodes
// defensively (hdf5_isolation.cpp); a crash there is reported as a WeightsError.
#pragma once

#include "stdlib/nn/network.h"
#include "stdlib/nn/weights.h"

#include <optional>
#include <string>
#include <vector>

namespace podm::nn {

struct KerasModel {
  NetworkSpec spec;  // the layers of model_config (residual = false: Keras does not say)
  TensorMap weights; // conv{k}.weight/bias, bn{k}.*, fc{k}.* as documented in network.h
};

bool isHdf5File(const std::string& path);
KerasModel readKerasHdf5(const std::string& path);

// One file's result in a batch: the model, or the error message naming the file.
struct KerasRead {
  std::optional<KerasModel> model;
  std::string error;
};
// Reads all `paths` in one reader process (a process per file cost tens of milliseconds
// each on a run with 25 denoisers). Errors are reported per file, not thrown.
std::vector<KerasRead> readKerasHdf5All(const std::vector<std::string>& paths);
// `spec` bound to the weights of a Keras file already read from `path`, after checking that the
// file's model_config describes the same layers (errors name `path`).
Network networkFromKeras(NetworkSpec spec, const KerasModel& m, const std::string& path,
                         const std::string& prefix = "");
// Every dataset in the file with its HDF5 path, element type and shape (no data read).
std::vector<TensorInfo> inspectHdf5(const std::string& path);

} // namespace podm::nn
