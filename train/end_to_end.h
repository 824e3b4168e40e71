// End-to-end training of a relaxed PODM model (paper Sec. 4.2 / 5.2): the whole unrolled stage
// loop is differentiated by the autodiff Tape, and the model's learnable params (`param.*` nodes:
// the mu mlp, learnable filters) and, unless frozen, its network weights are updated from the
// loss between the variable's final value and the clean image.
//
// A training sample is a clean crop, blurred with a kernel drawn from a list (periodic
// boundary, the model's circulant K) and corrupted with Gaussian noise of one level; the model
// runs with inputs observation = the degraded crop, kernel = the kernel and, when the model
// declares it, the noise-level scalar (on the [0,1] scale the model works in). The batch is a
// sum of per-sample backward passes (the graph is lowered for one 1 x 1 x crop x crop image).
//
// Like the greedy loop it is resumable bit for bit (checkpoints hold the params, the network
// weights, both optimizers' state, the sampler's and the degradation generator's states), stops
// on a non-finite loss or gradient before writing anything, and checkpoints on a stop request.
#pragma once

#include "ir/graph.h"
#include "runtime/parameter.h"
#include "runtime/tensor.h"
#include "stdlib/nn/network.h"
#include "train/data.h"
#include "train/loop_options.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace podm {
class ProxProvider;
class NetworkProvider;
} // namespace podm

namespace podm::train {

struct EndToEndOptions : LoopOptions {
  // The model lowered, unoptimised, for an h x w observation (the Tape differentiates the graph
  // as lowered). Called for the crop size and for each validation size.
  std::function<ir::Graph(int64_t h, int64_t w)> lowerFor;
  const ProxProvider* prox = nullptr;
  const NetworkProvider* network = nullptr;
  // The network weights the Tape's network operators train (valid once a Tape was built).
  std::function<ParameterList()> networkParameters;
  bool freezeNet = false;
  double netLr = 1e-4;

  std::string observation = "o", kernel = "k", sigmaInput; // sigmaInput empty: none
  std::string variable = "u";                              // the output trained
  std::map<std::string, Tensor> initialParams; // start values by param name (others: init)

  std::vector<Tensor> kernels; // blur kernels, one drawn per sample
  double sigma255 = 2.55;      // noise level, 0-255 scale

  EndToEndOptions() { batch = 4; }
};

struct EndToEndResult {
  enum class Status { Done, Stopped, NonFinite } status = Status::Done;
  std::string message;
  int64_t steps = 0;
  double seconds = 0;
  // Mean over the validation images: the observation, the model at the start values, at the end.
  double valObsPsnr = 0, valInitPsnr = 0, valInitSsim = 0, valPsnr = 0, valSsim = 0;
  std::map<std::string, Tensor> params; // the trained param values by name
  // The param.* tensors as `podm run` reads them; the caller adds the networks' weights, which
  // only the network provider lays out.
  nn::TensorMap weights;
};

// Throws DataError / CheckpointError / std::invalid_argument on bad input.
EndToEndResult trainEndToEnd(const EndToEndOptions& options);

} // namespace podm::train
