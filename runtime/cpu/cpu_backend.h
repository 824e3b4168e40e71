// The CPU backend: host memory, kernels from the CPU kernel table (kernel_table.cpp). It is the
// reference every other backend is checked against and the fallback the executor uses for nodes
// another backend cannot run.
#pragma once

#include "runtime/backend.h"
#include "runtime/cpu/cpu_kernel.h"

namespace podm::cpu {

class CpuBackend final : public Backend {
public:
  CpuBackend();

  std::string name() const override { return "cpu"; }
  bool supports(const ir::Graph& g, ir::ValueId v, const PrepareContext& context) const override;
  std::string unsupportedReason(const ir::Graph& g, ir::ValueId v,
                                const PrepareContext& context) const override;
  std::unique_ptr<BackendProgram> prepare(const ir::Graph& g, std::span<const ir::ValueId> nodes,
                                          const PrepareContext& context) override;
  void execute(BackendProgram& program, size_t index, const KernelIO& io) override;

  bool hostAddressable() const override { return true; }
  DevicePtr allocate(size_t bytes) override;
  void deallocate(DevicePtr p) override;
  void upload(DevicePtr dst, const void* src, size_t bytes) override;
  void download(void* dst, DevicePtr src, size_t bytes) override;
  void copy(DevicePtr dst, DevicePtr src, size_t bytes) override;

  const CpuKernelTable& table() const { return table_; }

private:
  CpuKernelTable table_;
};

} // namespace podm::cpu
