// The prox node: prox_{gamma g}(v) for a stdlib prox bound through the runtime's ProxProvider hook
// (the runtime never includes stdlib). Constant arguments are bound once at prepare time. A node
// with run-time arguments (operands 2..., named by `operand_args`: box bounds computed from an
// input, say) is bound at its first call and re-bound only when one of those values changes, so a
// per-stage call costs a few float compares; the provider's rejection of a value becomes a run-time
// error naming the argument and where its value came from. The stdlib interface takes Tensors, so
// the kernel keeps views of the few arena addresses it sees (see view_cache.h).
#include "ir/builder.h"
#include "runtime/cpu/cpu_kernel.h"
#include "runtime/cpu/view_cache.h"
#include "runtime/ir_types.h"
#include "runtime/prox_provider.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace podm::cpu {
namespace {

struct ProxState : KernelState {
  const ProxProvider* provider = nullptr;
  std::string fn;
  std::string where;                // "%12 prox \"x_G\"", for messages
  ProxArgList constantArgs;         // from the `args` attribute
  std::vector<std::string> runtime; // names of operands 2...
  std::vector<std::string> sources; // what computes each of them, for messages
  std::vector<float> bound;         // the run-time values `op` was bound with
  std::unique_ptr<ProxOperator> op;
  ViewCache views;
};

std::unique_ptr<ProxOperator> bind(const ProxState& s, const ProxArgList& args) {
  std::unique_ptr<ProxOperator> op = s.provider->make(s.fn, args);
  if (!op)
    throw std::runtime_error(s.where + ": the prox provider has no prox '" + s.fn + "'");
  return op;
}

void rebind(ProxState& s, const std::vector<float>& values) {
  ProxArgList args = s.constantArgs;
  std::string given;
  for (size_t i = 0; i < values.size(); ++i) {
    args.emplace_back(s.runtime[i], values[i]);
    given += (given.empty() ? "" : ", ") + s.runtime[i] + " = " + std::to_string(values[i]) +
             " (from " + s.sources[i] + ")";
  }
  std::sort(args.begin(), args.end());
  try {
    s.op = bind(s, args);
  } catch (const std::exception& e) {
    s.op.reset();
    throw std::runtime_error(s.where + ": prox '" + s.fn + "' rejects the value of its run-time " +
                             (values.size() == 1 ? "argument " : "arguments ") + given + ": " +
                             e.what());
  }
  s.bound = values;
}

void proxKernel(const CpuKernel& k, const KernelIO& io) {
  auto& s = static_cast<ProxState&>(*k.state);
  if (!s.runtime.empty()) {
    // Bit comparison: a NaN value is "unchanged" when it repeats, and the provider rejects it once.
    bool changed = !s.op;
    std::vector<float>& current = s.bound;
    for (size_t i = 0; i < s.runtime.size() && !changed; ++i)
      changed = std::memcmp(io.inputs[2 + i].raw, &current[i], sizeof(float)) != 0;
    if (changed) {
      std::vector<float> values(s.runtime.size());
      for (size_t i = 0; i < values.size(); ++i)
        values[i] = *static_cast<const float*>(io.inputs[2 + i].raw);
      rebind(s, values);
    }
  }
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
  s->provider = provider;
  s->fn = fn;
  s->where = c.where();
  const ir::NamedFloats& args = c.node().attrs.getNamed("args");
  s->constantArgs.assign(args.begin(), args.end());
  s->runtime = ir::splitNames(c.node().attrs.getString("operand_args"));
  for (size_t i = 0; i < s->runtime.size(); ++i) {
    ir::ValueId src = c.node().operands[2 + i];
    const ir::Node& n = c.graph.node(src);
    s->sources.push_back(ir::describeNode(src.index, n.op, n.label));
  }
  s->bound.assign(s->runtime.size(), 0.0f);
  if (s->runtime.empty()) {
    try {
      s->op = bind(*s, s->constantArgs);
    } catch (const std::exception& e) {
      throw std::runtime_error(c.where() + ": prox '" + fn + "': " + e.what());
    }
  }
  s->views.setShape(toShape(c.result()));
  CpuKernel k;
  k.run = proxKernel;
  k.n = c.result().numel();
  k.state = std::move(s);
  return k;
}

} // namespace podm::cpu
