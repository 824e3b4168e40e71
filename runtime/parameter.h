// A learnable tensor and its gradient, the unit that training works on: network weights (through
// a trainable NetworkOperator), `param` nodes of a graph (mu from an MLP, learnable DCT filters)
// and the optimizer state keyed by the same names. Backward passes add into `grad`; optimizers
// read it and update `value` in place.
#pragma once

#include "runtime/tensor.h"

#include <string>
#include <vector>

namespace podm {

struct Parameter {
  std::string name; // the safetensors name it is saved under ("stage3.conv0.weight")
  Tensor value;
  Tensor grad; // value's shape; zeroed by the trainer before each backward pass
};

using ParameterList = std::vector<Parameter*>;

} // namespace podm
