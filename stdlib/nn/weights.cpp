// The weight loader's dispatch on the file's signature.
#include "stdlib/nn/weights.h"

#include "stdlib/nn/keras_hdf5.h"
#include "stdlib/nn/safetensors.h"

namespace podm::nn {

TensorMap loadWeights(const std::string& path) {
  if (isHdf5File(path))
    return readKerasHdf5(path).weights;
  return readSafetensors(path).tensors;
}

} // namespace podm::nn
