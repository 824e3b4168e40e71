// The prox node: prox_{gamma g}(v) for a stdlib prox bound at prepare time through the runtime's
// ProxProvider hook (the runtime never includes stdlib). The stdlib interface takes Tensors, so
// the kernel keeps views of the few arena addresses it sees (operands move only between the two
// slots of a carry) instead of making a view per call.
#include "runtime/cpu/cpu_kernel.h"
#include "runtime/ir_types.h"
#include "runtime/prox_provider.h"

#include <array>
#include <stdexcept>

namespace podm::cpu {
namespace {

struct ProxState : KernelState {
  std::unique_ptr<ProxOperator> op;
  Shape shape;
  std::array<std::pair<void*, Tensor>, 6> views{};
  size_t nextView = 0;

  Tensor& view(void* p) {
    for (auto& [addr, t] : views)
      if (addr == p)
        return t;
    auto& slot = views[nextView++ % views.size()];
    slot = {p, Tensor::view(p, shape)};
    return slot.second;
  }
};

void proxKernel(const CpuKernel& k, const KernelIO& io) {
  auto& s = static_cast<ProxState&>(*k.state);
  const float gamma = *static_cast<const float*>(io.inputs[1].raw);
  Tensor& v = s.view(io.inputs[0].raw);
  Tensor& out = s.view(io.output.raw);
  s.op->apply(v, gamma, out);
}

} // namespace

CpuKernel buildProx(const CpuBuildContext& c) {
  const std::string& fn = c.node().attrs.getString("fn");
  const ProxProvider* provider = c.prepare.prox ? c.prepare.prox : defaultProxProvider();
  if (!provider)
    throw std::runtime_error(c.where() + ": prox '" + fn +
                             "' needs a prox provider; the podm command installs the standard "
                             "library's, programs embedding the runtime call "
                             "setDefaultProxProvider or pass ExecutorOptions::prox");
  auto s = std::make_unique<ProxState>();
  const ir::NamedFloats& args = c.node().attrs.getNamed("args");
  try {
    s->op = provider->make(fn, ProxArgList(args.begin(), args.end()));
  } catch (const std::exception& e) {
    throw std::runtime_error(c.where() + ": prox '" + fn + "': " + e.what());
  }
  if (!s->op)
    throw std::runtime_error(c.where() + ": the prox provider has no prox '" + fn + "'");
  s->shape = toShape(c.result());
  CpuKernel k;
  k.run = proxKernel;
  k.n = c.result().numel();
  k.state = std::move(s);
  return k;
}

} // namespace podm::cpu
