// Internal to stdlib/nn: the state behind Network, shared by network.cpp (layer specs, weight
// binding, batch-norm folding) and onednn_exec.cpp (the oneDNN primitives). Not installed.
#pragma once

#include "stdlib/nn/network.h"

#include <memory>
#include <string>
#include <vector>

namespace podm::nn {

struct DnnlState; // oneDNN engine, stream and the per-shape primitive cache (onednn_exec.cpp)

struct LayerParams {
  std::vector<float> weight; // conv OIHW / dense out×in, after batch-norm folding
  std::vector<float> bias;   // one per output channel (zeros when the layer has no bias)
};

struct Network::Impl {
  NetworkSpec spec;
  std::vector<std::string> prefixes; // weight-name prefix per layer ("" for weightless layers)
  std::vector<LayerParams> params;   // per layer; batch norms folded into the conv before them
  bool bound = false;
  Precision precision = Precision::F32;
  std::unique_ptr<DnnlState> dnnl;

  Impl();
  ~Impl();
  std::string describe(size_t layer) const; // "layer 3 'conv1' (conv 64→64 k3 d2)"
};

std::unique_ptr<DnnlState> makeDnnlState();
void dnnlForward(Network::Impl& net, const Tensor& in, Tensor& out, const Shape& outShape);
void dnnlPrepare(Network::Impl& net, const Shape& in, const Shape& outShape);
void dnnlClear(DnnlState& state);
bool dnnlHasBf16();
size_t dnnlSharedActivationBytes();
size_t dnnlCachedShapes(const DnnlState& state);

} // namespace podm::nn
