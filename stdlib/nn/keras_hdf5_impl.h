// Internal to stdlib/nn: the HDF5 readers proper, which run only in podm-hdf5-reader
// (hdf5_reader_main.cpp) because libhdf5 1.10 is not memory-safe on corrupt files.
#pragma once

#include "stdlib/nn/keras_hdf5.h"

#include <string>
#include <vector>

namespace podm::nn {

KerasModel readKerasHdf5InProcess(const std::string& path);
std::vector<TensorInfo> inspectHdf5InProcess(const std::string& path);

} // namespace podm::nn
