// The Backend interface: what the executor needs from a CPU or a CUDA implementation.
//
// A backend reports which nodes it has kernels for (supports), prepares kernels for the nodes the
// executor gives it -- kernel variants by operand type, FFT plans, workspaces, uploaded tables --
// into a BackendProgram (prepare), and runs one prepared node at a time (execute). Memory is the
// backend's own: the executor allocates one arena per backend and addresses values inside it
// with DevicePtr arithmetic, but never dereferences a DevicePtr of a backend that is not
// hostAddressable(); data crosses backends only through upload/download.
#pragma once

#include "ir/graph.h"
#include "runtime/network_trainer.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace podm {

class ProxProvider;
class NetworkProvider;

// An address in a backend's memory: a host pointer for the CPU backend, a device pointer (or
// anything else) for others.
struct DevicePtr {
  void* raw = nullptr;

  DevicePtr operator+(size_t bytes) const {
    return DevicePtr{static_cast<void*>(static_cast<std::byte*>(raw) + bytes)};
  }
  explicit operator bool() const { return raw != nullptr; }
  bool operator==(const DevicePtr&) const = default;
};

// The storage of one node execution: operand addresses in operand order, the result address and
// the stage index (-1 outside the stage loop). Results never overlap operands.
struct KernelIO {
  const DevicePtr* inputs = nullptr;
  DevicePtr output;
  int64_t stage = -1;
  // Results 1, 2, ... of a node that has several (a fused program ending in `return`, read through
  // fused_output nodes), in order; null where no node reads that result.
  std::span<const DevicePtr> moreOutputs = {};
};

// Per-graph state a backend keeps between prepare and execute (one per executor).
class BackendProgram {
public:
  virtual ~BackendProgram() = default;
};

struct PrepareContext {
  // Resolves `prox` nodes; nullptr means "the process default" (prox_provider.h).
  const ProxProvider* prox = nullptr;
  // Resolves `network` nodes; nullptr means "the process default" (network_provider.h).
  const NetworkProvider* network = nullptr;
};

class Backend {
public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;

  // Whether this backend has a kernel for node `v` (its op with these operand types and
  // attributes). Nodes whose op has trait::NoKernel are never asked. `context` holds the
  // providers prepare() will be given: a node bound through them (a user's prox plugin, a network
  // that cannot describe its layers) may be supported by one backend and not by another.
  virtual bool supports(const ir::Graph& g, ir::ValueId v, const PrepareContext& context) const = 0;
  // Why not, for the executor's fallback note ("no kernel for haar"); empty when supported.
  virtual std::string unsupportedReason(const ir::Graph& g, ir::ValueId v,
                                        const PrepareContext& context) const = 0;

  // Prepares kernels for `nodes` (each supported), in this order. execute() later receives the
  // index into `nodes`.
  virtual std::unique_ptr<BackendProgram> prepare(const ir::Graph& g,
                                                  std::span<const ir::ValueId> nodes,
                                                  const PrepareContext& context) = 0;
  virtual void execute(BackendProgram& program, size_t index, const KernelIO& io) = 0;

  // Memory. allocate returns 64-byte aligned storage or throws; copies are synchronous with
  // respect to the host once synchronize() returns (and download always is).
  virtual bool hostAddressable() const = 0;
  virtual DevicePtr allocate(size_t bytes) = 0;
  virtual void deallocate(DevicePtr p) = 0;
  virtual void upload(DevicePtr dst, const void* src, size_t bytes) = 0;
  virtual void download(void* dst, DevicePtr src, size_t bytes) = 0;
  virtual void copy(DevicePtr dst, DevicePtr src, size_t bytes) = 0;
  // Waits for queued work (for honest per-node timings); a no-op on synchronous backends.
  virtual void synchronize() {}

  // Training: a network of this architecture trained on this backend (runtime/network_trainer.h),
  // or nullptr with *whyNot saying why (the CPU backend trains through stdlib/nn's oneDNN
  // primitives instead; a device may lack a layer's backward pass).
  virtual std::unique_ptr<NetworkTrainer> makeNetworkTrainer(const std::vector<NetLayer>& layers,
                                                             int64_t inChannels, bool residual,
                                                             std::string* whyNot) {
    (void)layers, (void)inChannels, (void)residual;
    if (whyNot)
      *whyNot = "the " + name() + " backend does not train networks itself";
    return nullptr;
  }
};

} // namespace podm
