// The byte stream from the HDF5 reader process (podm-hdf5-reader) back to podm: Keras models and
// dataset listings. The reader encodes; podm decodes and trusts nothing — every count and length
// is checked against what is left, so a hostile or truncated stream is a WeightsError, never an
// out-of-bounds read. Both sides are built from this one file, so the format cannot drift.
#pragma once

#include "stdlib/nn/keras_hdf5.h"

#include <string>
#include <vector>

namespace podm::nn::wire {

// Per file: 1 and the model, or 0 and the error message naming the file.
std::string encodeKerasReads(const std::vector<KerasRead>& reads);
// `count` reads, as many as files were asked for; `label` names them in errors.
std::vector<KerasRead> decodeKerasReads(const std::string& payload, size_t count,
                                        const std::string& label);

std::string encodeTensorInfos(const std::vector<TensorInfo>& list);
std::vector<TensorInfo> decodeTensorInfos(const std::string& payload, const std::string& path);

} // namespace podm::nn::wire
