// The network node: x_A = A_l(x) for the network the node describes, bound at prepare time
// through the runtime's NetworkProvider hook (the runtime never includes stdlib) and run with the
// stage index of the execution (stage 0 outside the loop). Like the prox kernel it keeps tensor
// views of the few arena addresses it sees.
#include "ir/attr.h"
#include "runtime/cpu/cpu_kernel.h"
#include "runtime/cpu/view_cache.h"
#include "runtime/ir_types.h"
#include "runtime/network_provider.h"

#include <stdexcept>

namespace podm::cpu {
namespace {

struct NetworkState : KernelState {
  std::unique_ptr<NetworkOperator> op;
  std::string where;
  ViewCache views;
};

void networkKernel(const CpuKernel& k, const KernelIO& io) {
  auto& s = static_cast<NetworkState&>(*k.state);
  Tensor& in = s.views.view(io.inputs[0].raw);
  Tensor& out = s.views.view(io.output.raw);
  try {
    s.op->apply(in, io.stage < 0 ? 0 : io.stage, out);
  } catch (const std::exception& e) {
    throw std::runtime_error(s.where + ": " + e.what());
  }
}

} // namespace

CpuKernel buildNetwork(const CpuBuildContext& c) {
  const ir::Attrs& a = c.node().attrs;
  NetworkDesc desc{a.getString("net"), a.getString("spec"),
                   ir::splitWeightPaths(a.getString("weights")),
                   a.has("prefix") ? a.getString("prefix") : std::string()};
  const NetworkProvider* provider =
      c.prepare.network ? c.prepare.network : defaultNetworkProvider();
  if (!provider)
    throw std::runtime_error(c.where() + ": network '" + desc.name +
                             "' needs a network provider; the podm command installs the "
                             "network library's, programs embedding the runtime call "
                             "setDefaultNetworkProvider or pass ExecutorOptions::network");
  auto s = std::make_unique<NetworkState>();
  try {
    s->op = provider->make(desc);
  } catch (const std::exception& e) {
    throw std::runtime_error(c.where() + ": network '" + desc.name + "': " + e.what());
  }
  if (!s->op)
    throw std::runtime_error(c.where() + ": the network provider has no network '" + desc.name +
                             "'");
  try {
    s->op->prepare(toShape(c.operand(0)));
  } catch (const std::exception& e) {
    throw std::runtime_error(c.where() + ": network '" + desc.name + "': " + e.what());
  }
  s->views.setShape(toShape(c.result()));
  s->where = c.where() + " network '" + desc.name + "'";
  CpuKernel k;
  k.run = networkKernel;
  k.n = c.result().numel();
  k.state = std::move(s);
  return k;
}

} // namespace podm::cpu
