// The CUDA backend: device memory through cudaMalloc, elementwise / reduction / loop-structure
// kernels of its own (elementwise.cu, reduce.cu), everything else left to the CPU fallback. Work
// goes to the default stream in order; copies to and from the host are synchronous.
#pragma once

#include "runtime/backend.h"
#include "runtime/cuda/cuda_kernels.h"
#include "runtime/kernel_table.h"

namespace podm::cuda {

class CudaBackend;

// A prepared node: the launch chosen for its operand classes and what it needs on the device.
struct CudaKernel {
  Launch launch = nullptr;
  int arity = 0; // operands passed to the launch (at most 4)
  int64_t n = 0;
  float p0 = 0, p1 = 0;
  DevicePtr table;     // schedule values
  DevicePtr workspace; // reduction partials
};

struct CudaBuildContext {
  const ir::Graph& graph;
  ir::ValueId id;
  // nullptr when only probing support: builders then allocate nothing.
  CudaBackend* allocator;

  const ir::Node& node() const { return graph.node(id); }
  const ir::Type& operand(size_t i) const { return graph.type(node().operands[i]); }
  const ir::Type& result() const { return node().type; }
};

// Returns a kernel with launch == nullptr when the operand types have no kernel.
using CudaKernelBuilder = CudaKernel (*)(const CudaBuildContext& context);
using CudaKernelTable = KernelTable<CudaKernelBuilder>;

// One line per op (kernel_table.cpp).
void registerCudaKernels(CudaKernelTable& table);

class CudaBackend final : public Backend {
public:
  CudaBackend();

  // Whether a CUDA device is visible; never throws. *why gets the reason when not.
  static bool available(std::string* why = nullptr);

  std::string name() const override { return "cuda"; }
  bool supports(const ir::Graph& g, ir::ValueId v) const override;
  std::string unsupportedReason(const ir::Graph& g, ir::ValueId v) const override;
  std::unique_ptr<BackendProgram> prepare(const ir::Graph& g, std::span<const ir::ValueId> nodes,
                                          const PrepareContext& context) override;
  void execute(BackendProgram& program, size_t index, const KernelIO& io) override;

  bool hostAddressable() const override { return false; }
  DevicePtr allocate(size_t bytes) override;
  void deallocate(DevicePtr p) override;
  void upload(DevicePtr dst, const void* src, size_t bytes) override;
  void download(void* dst, DevicePtr src, size_t bytes) override;
  void copy(DevicePtr dst, DevicePtr src, size_t bytes) override;
  void synchronize() override;

  const CudaKernelTable& table() const { return table_; }

private:
  CudaKernelTable table_;
};

} // namespace podm::cuda
