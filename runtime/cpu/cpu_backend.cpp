// The CPU backend.
#include "runtime/cpu/cpu_backend.h"

#include "ir/builder.h"
#include "numerics/scratch.h"
#include "runtime/backend_factory.h"
#include "runtime/memory_plan.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <vector>

namespace podm::cpu {
namespace {

struct CpuProgram : BackendProgram {
  std::vector<CpuKernel> kernels;
};

} // namespace

const ir::Node* CpuBuildContext::constantOperand(size_t i) const {
  const ir::Node& n = graph.node(node().operands[i]);
  return n.op == ir::Op::Constant ? &n : nullptr;
}

std::string CpuBuildContext::where() const {
  return ir::describeNode(id.index, node().op, node().label);
}

CpuBackend::CpuBackend() {
  registerCpuKernels(table_);
}

// Every CPU kernel runs whatever the providers bind (plugins and networks are host code).
bool CpuBackend::supports(const ir::Graph& g, ir::ValueId v, const PrepareContext&) const {
  return table_.find(g.node(v).op) != nullptr;
}

std::string CpuBackend::unsupportedReason(const ir::Graph& g, ir::ValueId v,
                                          const PrepareContext&) const {
  const ir::Op op = g.node(v).op;
  if (table_.find(op))
    return "";
  const std::string& pending = table_.pendingReason(op);
  return "has no kernel for " + std::string(ir::opName(op)) +
         (pending.empty() ? "" : " yet (" + pending + ")");
}

std::unique_ptr<BackendProgram> CpuBackend::prepare(const ir::Graph& g,
                                                    std::span<const ir::ValueId> nodes,
                                                    const PrepareContext& context) {
  auto program = std::make_unique<CpuProgram>();
  program->kernels.reserve(nodes.size());
  for (ir::ValueId v : nodes) {
    const CpuKernelBuilder* build = table_.find(g.node(v).op);
    if (!build)
      throw std::runtime_error(ir::describeNode(v.index, g.node(v).op, g.node(v).label) + ": cpu " +
                               unsupportedReason(g, v, context));
    program->kernels.push_back((*build)(CpuBuildContext{g, v, context}));
  }
  return program;
}

void CpuBackend::execute(BackendProgram& program, size_t index, const KernelIO& io) {
  const CpuKernel& k = static_cast<CpuProgram&>(program).kernels[index];
  k.run(k, io);
}

DevicePtr CpuBackend::allocate(size_t bytes) {
  const size_t size = alignArena(bytes == 0 ? 1 : bytes);
  void* p = numerics::allocateBuffer(size, kArenaAlignment);
  // Touched now, in the set-up, rather than page by page inside the first stage: the trace's
  // stage 1 then times the stage, not the kernel mapping the arena (2048² FISTA: stage 1 took 2.8x
  // the others). Zeros also make a value read before it is written reproducible.
  std::memset(p, 0, size);
  return DevicePtr{p};
}

void CpuBackend::deallocate(DevicePtr p) {
  std::free(p.raw);
}

void CpuBackend::upload(DevicePtr dst, const void* src, size_t bytes) {
  std::memcpy(dst.raw, src, bytes);
}

void CpuBackend::download(void* dst, DevicePtr src, size_t bytes) {
  std::memcpy(dst, src.raw, bytes);
}

void CpuBackend::copy(DevicePtr dst, DevicePtr src, size_t bytes) {
  std::memmove(dst.raw, src.raw, bytes);
}

} // namespace podm::cpu

namespace podm {

std::unique_ptr<Backend> makeCpuBackend() {
  return std::make_unique<cpu::CpuBackend>();
}

} // namespace podm
