// The tape: reverse-mode differentiation of a whole graph. forward() evaluates the graph node by
// node on a backend with the stage loop unrolled -- Pre once, Body for every stage with the same
// loop_state / carry / schedule / monitor / stop semantics as the Executor, Post once -- keeping
// every value of every stage (training runs on small crops); backward() sweeps the recorded
// evaluation in reverse, applying the rule of each node (rule.h) and accumulating cotangents per
// (node, stage), and returns the gradient of every graph input and param by name. Network weights
// receive theirs through NetworkOperator::backward, most recent stage first.
//
//   cpu::CpuBackend cpu;
//   autodiff::Tape tape(graph, cpu, {&proxProvider, &networkProvider});
//   RunResult r = tape.forward({{"y", y}});
//   auto grads = tape.backward({{"x", dLoss_dx}});   // grads.at("y")
//
// The backend must be host-addressable: values live in host tensors handed to the kernels as
// addresses. A device backend would need the tape to keep its values in device allocations
// (Backend::allocate), pass those to execute, and download only what a host-side step reads (the
// stop flag, prox and network operands, which the hooks take as host tensors).
#pragma once

#include "ir/graph.h"
#include "runtime/autodiff/rule.h"
#include "runtime/backend.h"
#include "runtime/executor.h"
#include "runtime/tensor.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace podm {
class ProxProvider;
class NetworkProvider;
} // namespace podm

namespace podm::autodiff {

struct TapeOptions {
  const ProxProvider* prox = nullptr;       // nullptr: defaultProxProvider()
  const NetworkProvider* network = nullptr; // nullptr: defaultNetworkProvider()
  // Inputs and params treated as data: no gradient is computed or returned for them (observed
  // images, blur kernels), which also skips the work of the paths only they reach.
  std::set<std::string> noGradient;
};

class Tape {
public:
  // Verifies (a copy of) the graph and prepares every kernel once. The backend must outlive the
  // tape.
  Tape(ir::Graph graph, Backend& backend, TapeOptions options = {});
  ~Tape();
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // Runs the graph like Executor::run and records every value. `paramValues` overrides `param`
  // nodes by name (the others keep their initial value); unknown names are an error.
  RunResult forward(const std::map<std::string, Tensor>& inputs,
                    const std::map<std::string, Tensor>& paramValues = {});

  // Gradients of sum_o <outputCotangents[o], output o> with respect to every graph input and
  // every param node, by name (zero tensors for those the outputs do not depend on). Outputs
  // without a cotangent contribute nothing. Requires a forward() first; may be called again with
  // other cotangents. Throws naming the op and the node when a node on the path has no rule.
  std::map<std::string, Tensor> backward(const std::map<std::string, Tensor>& outputCotangents);

  // The recorded value of node v at `stage` (-1 for Pre and Post nodes); for tests and tools.
  const Value& value(ir::ValueId v, int64_t stage = -1) const;
  int64_t stagesRun() const { return stagesRun_; }
  const ir::Graph& graph() const { return graph_; }

private:
  struct Impl;
  ir::Graph graph_;
  std::unique_ptr<Impl> impl_;
  int64_t stagesRun_ = 0;
};

} // namespace podm::autodiff
