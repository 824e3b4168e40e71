// A NetworkSpec as text, one line per layer, exactly round-tripping every field: how the lowering
// stores a model's network on a `network` graph node (attribute `spec`, so saved .pgraph files
// carry it) and how the CLI's network provider reads it back.
//
//   in 1
//   residual
//   conv in=1 out=64 kernel=3 dilation=1 stride=1 padding=same bias=1
//   relu
//   elu alpha=1
//
// A layer line is the kind (conv, batchnorm, relu, elu, leaky_relu, upsample, concat_input,
// dense) followed by key=value fields; fields left out keep the Layer defaults. `name=` sets the
// weight-name prefix of a layer.
#pragma once

#include "stdlib/nn/network.h"

#include <string>

namespace podm::nn {

std::string encodeSpec(const NetworkSpec& spec);
// Throws WeightsError naming the line on an unknown kind, field or malformed value.
NetworkSpec decodeSpec(const std::string& text);

} // namespace podm::nn
