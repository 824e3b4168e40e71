// The prox node: prox_{gamma g}(v) for a stdlib prox bound at prepare time through the runtime's
// ProxProvider hook (the runtime never includes stdlib). The stdlib interface takes Tensors, so
// the kernel keeps views of the few arena addresses it sees (operands move only between the two
// slots of a carry; see view_cache.h).
#include "runtime/cpu/cpu_kernel.h"
#include "runtime/cpu/view_cache.h"
#include "runtime/ir_types.h"
#include "runtime/prox_provider.h"

#include <stdexcept>

namespace podm::cpu {
namespace {

struct ProxState : KernelState {
  std::unique_ptr<ProxOperator> op;
  ViewCache views;
};

void proxKernel(const CpuKernel& k, const KernelIO& io) {
  auto& s = static_cast<ProxState&>(*k.state);
  const float gamma = *static_cast<const float*>(io.inputs[1].raw);
  Tensor& v = s.views.view(io.inputs[0].raw);
  Tensor& out = s.views.view(io.output.raw);
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
  s->views.setShape(toShape(c.result()));
  CpuKernel k;
  k.run = proxKernel;
  k.n = c.result().numel();
  k.state = std::move(s);
  return k;
}

} // namespace podm::cpu
