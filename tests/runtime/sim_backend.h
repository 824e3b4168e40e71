// A simulated device backend for runtime tests: its memory is host memory behind scrambled
// addresses (a dereference by the executor would fault at once, and ASan would name it), its
// kernels are the CPU ones run on unscrambled pointers, and it supports only the ops it is told
// to. It lets every machine test fallback, transfers and the no-host-pointer rule without a GPU.
#pragma once

#include "runtime/cpu/cpu_backend.h"

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

namespace podm::testing {

class SimBackend final : public Backend {
public:
  explicit SimBackend(std::set<ir::Op> ops) : ops_(std::move(ops)) {}

  std::string name() const override { return "sim"; }
  bool supports(const ir::Graph& g, ir::ValueId v, const PrepareContext&) const override {
    return ops_.count(g.node(v).op) > 0;
  }
  std::string unsupportedReason(const ir::Graph& g, ir::ValueId v,
                                const PrepareContext& context) const override {
    return supports(g, v, context) ? ""
                                   : "has no kernel for " + std::string(ir::opName(g.node(v).op));
  }
  std::unique_ptr<BackendProgram> prepare(const ir::Graph& g, std::span<const ir::ValueId> nodes,
                                          const PrepareContext& context) override {
    auto program = std::make_unique<SimProgram>();
    for (ir::ValueId v : nodes) {
      if (!supports(g, v, context))
        throw std::logic_error("sim: asked to prepare an unsupported node");
      program->arity.push_back(g.node(v).operands.size());
    }
    program->cpu = cpu_.prepare(g, nodes, context);
    return program;
  }
  void execute(BackendProgram& program, size_t index, const KernelIO& io) override {
    auto& p = static_cast<SimProgram&>(program);
    DevicePtr in[8];
    for (size_t i = 0; i < p.arity[index]; ++i)
      in[i] = host(io.inputs[i]);
    KernelIO plain{in, host(io.output), io.stage};
    cpu_.execute(*p.cpu, index, plain);
    ++executed;
  }

  bool hostAddressable() const override { return false; }
  DevicePtr allocate(size_t bytes) override {
    DevicePtr p = cpu_.allocate(bytes);
    ++allocations;
    return scramble(p);
  }
  void deallocate(DevicePtr p) override { cpu_.deallocate(host(p)); }
  void upload(DevicePtr dst, const void* src, size_t bytes) override {
    std::memcpy(host(dst).raw, src, bytes);
    ++uploads;
  }
  void download(void* dst, DevicePtr src, size_t bytes) override {
    std::memcpy(dst, host(src).raw, bytes);
    ++downloads;
  }
  void copy(DevicePtr dst, DevicePtr src, size_t bytes) override {
    std::memmove(host(dst).raw, host(src).raw, bytes);
  }

  int64_t executed = 0, allocations = 0, uploads = 0, downloads = 0;

private:
  // High bits only: offsets added by the executor carry through unchanged, and the scrambled
  // address is non-canonical on x86-64 / AArch64, so dereferencing it faults.
  static constexpr uintptr_t kMask = uintptr_t{0x5a} << 56;
  static DevicePtr scramble(DevicePtr p) {
    return DevicePtr{reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(p.raw) ^ kMask)};
  }
  static DevicePtr host(DevicePtr p) { return p.raw ? scramble(p) : p; }

  struct SimProgram : BackendProgram {
    std::unique_ptr<BackendProgram> cpu;
    std::vector<size_t> arity;
  };

  std::set<ir::Op> ops_;
  cpu::CpuBackend cpu_;
};

} // namespace podm::testing
