// The named constructors of Layer (network.h). Apart from network.cpp so that the HDF5 reader
// program, which builds layer lists from Keras files, links them without oneDNN.
#include "stdlib/nn/network.h"

namespace podm::nn {

Layer Layer::conv(int64_t in, int64_t out, int64_t k, int64_t dilation, int64_t stride,
                  Padding padding, bool bias) {
  Layer l;
  l.kind = LayerKind::Conv2d;
  l.in = in;
  l.out = out;
  l.kernel = k;
  l.dilation = dilation;
  l.stride = stride;
  l.padding = padding;
  l.bias = bias;
  return l;
}
Layer Layer::relu() {
  return Layer{};
}
Layer Layer::elu(float alpha) {
  Layer l;
  l.kind = LayerKind::ELU;
  l.alpha = alpha;
  return l;
}
Layer Layer::leakyRelu(float slope) {
  Layer l;
  l.kind = LayerKind::LeakyReLU;
  l.alpha = slope;
  return l;
}
Layer Layer::batchNorm(int64_t channels, float eps) {
  Layer l;
  l.kind = LayerKind::BatchNorm;
  l.in = l.out = channels;
  l.eps = eps;
  return l;
}
Layer Layer::upsample(int64_t factor) {
  Layer l;
  l.kind = LayerKind::Upsample;
  l.factor = factor;
  return l;
}
Layer Layer::concatInput(int64_t currentChannels, int64_t inputChannels) {
  Layer l;
  l.kind = LayerKind::ConcatInput;
  l.in = currentChannels;
  l.out = currentChannels + inputChannels;
  return l;
}
Layer Layer::dense(int64_t in, int64_t out, bool bias) {
  Layer l;
  l.kind = LayerKind::Dense;
  l.in = in;
  l.out = out;
  l.bias = bias;
  return l;
}

} // namespace podm::nn
