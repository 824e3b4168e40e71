// Kernels of the stage-loop structure (schedules, monitors) and of PODM's optimality check
// (comparisons, select). They touch a few scalars, or copy one whole value for select.
#include "runtime/cpu/cpu_kernel.h"

#include <cstring>
#include <stdexcept>
#include <vector>

namespace podm::cpu {
namespace {

struct ScheduleTable : KernelState {
  std::vector<float> values;
};

const float* scalarIn(const KernelIO& io, int i) {
  return static_cast<const float*>(io.inputs[i].raw);
}
float* scalarOut(const KernelIO& io) {
  return static_cast<float*>(io.output.raw);
}

void scheduleKernel(const CpuKernel& k, const KernelIO& io) {
  const auto& table = static_cast<const ScheduleTable&>(*k.state).values;
  if (io.stage < 0 || io.stage >= static_cast<int64_t>(table.size()))
    throw std::out_of_range("schedule read outside the stage loop");
  *scalarOut(io) = table[static_cast<size_t>(io.stage)];
}

void monitorKernel(const CpuKernel&, const KernelIO& io) {
  *scalarOut(io) = *scalarIn(io, 0);
}

void leKernel(const CpuKernel&, const KernelIO& io) {
  *scalarOut(io) = *scalarIn(io, 0) <= *scalarIn(io, 1) ? 1.f : 0.f;
}

void ltKernel(const CpuKernel&, const KernelIO& io) {
  *scalarOut(io) = *scalarIn(io, 0) < *scalarIn(io, 1) ? 1.f : 0.f;
}

// k.n is the value's size in bytes.
void selectKernel(const CpuKernel& k, const KernelIO& io) {
  const void* chosen = *scalarIn(io, 0) != 0.f ? io.inputs[1].raw : io.inputs[2].raw;
  std::memcpy(io.output.raw, chosen, static_cast<size_t>(k.n));
}

CpuKernel scalarKernel(CpuKernelFn fn) {
  CpuKernel k;
  k.run = fn;
  k.n = 1;
  return k;
}

} // namespace

CpuKernel buildSchedule(const CpuBuildContext& c) {
  auto table = std::make_unique<ScheduleTable>();
  for (double v : c.node().attrs.getFloats("values"))
    table->values.push_back(static_cast<float>(v));
  CpuKernel k = scalarKernel(scheduleKernel);
  k.state = std::move(table);
  return k;
}

CpuKernel buildMonitor(const CpuBuildContext&) {
  return scalarKernel(monitorKernel);
}
CpuKernel buildLe(const CpuBuildContext&) {
  return scalarKernel(leKernel);
}
CpuKernel buildLt(const CpuBuildContext&) {
  return scalarKernel(ltKernel);
}

CpuKernel buildSelect(const CpuBuildContext& c) {
  CpuKernel k;
  k.run = selectKernel;
  k.n = static_cast<int64_t>(c.result().bytes());
  return k;
}

} // namespace podm::cpu
