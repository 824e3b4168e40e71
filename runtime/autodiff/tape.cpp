// The tape: forward evaluation with the stage loop unrolled and every value kept, then the
// reverse sweep. Kernels are prepared once per tape with Backend::prepare, exactly as the
// Executor does, and run with Backend::execute on the host tensors the tape keeps.
#include "runtime/autodiff/tape.h"

#include "ir/builder.h"
#include "ir/verifier.h"
#include "runtime/ir_types.h"
#include "runtime/network_provider.h"
#include "runtime/prox_provider.h"
#include "runtime/run_scope.h"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace podm::autodiff {
namespace {

using ir::Op;
using ir::Region;
using ir::ValueId;

bool isSource(const ir::Node& n) {
  return n.info().has(ir::trait::Source);
}

Tensor emptyOf(const ir::Type& t) {
  return Tensor(toShape(t), t.isScalar() ? DType::F32 : toDType(t.elem));
}

void checkTensor(const Tensor& t, const ir::Type& type, const std::string& what) {
  const DType want = type.isScalar() ? DType::F32 : toDType(type.elem);
  if (t.empty() || !(t.shape() == toShape(type)) || t.dtype() != want)
    throw std::invalid_argument(
        what + " must be " + type.str() + ", got " +
        (t.empty() ? std::string("nothing")
                   : dtypeName(t.dtype()) + std::string("[") + t.shape().str() + "]"));
}

// Prox arguments of a node: the constant `args`, plus the run-time ones (operands 2...) named by
// `operand_args`, read from their recorded values.
ProxArgList proxArgs(const ir::Node& n, std::span<const Value> operands) {
  const ir::NamedFloats& fixed = n.attrs.getNamed("args");
  ProxArgList args(fixed.begin(), fixed.end());
  if (const auto* names = n.attrs.find("operand_args")) {
    std::stringstream s(std::get<std::string>(*names));
    std::string name;
    for (size_t i = 2; std::getline(s, name, ',');)
      if (!name.empty())
        args.emplace_back(name, operands[i++].tensor.data()[0]);
  }
  std::sort(args.begin(), args.end());
  return args;
}

} // namespace

struct Tape::Impl {
  Backend& backend;
  TapeOptions options;
  PrepareContext context;
  std::unique_ptr<BackendProgram> program;
  std::vector<int64_t> programIndex; // per node; -1 for nodes without a kernel
  OpRunner ops;
  std::vector<uint8_t> wants;             // per node
  std::vector<std::vector<Value>> values; // per node: [0] outside the loop, [stage] in the Body
  std::map<uint32_t, std::unique_ptr<NetworkOperator>> networks;
  bool recorded = false;

  Impl(Backend& b, TapeOptions o, PrepareContext c)
      : backend(b), options(std::move(o)), context(c), ops(b, c) {}
};

Tape::Tape(ir::Graph graph, Backend& backend, TapeOptions options) : graph_(std::move(graph)) {
  ir::verify(graph_);
  PrepareContext context;
  context.prox = options.prox ? options.prox : defaultProxProvider();
  context.network = options.network ? options.network : defaultNetworkProvider();
  impl_ = std::make_unique<Impl>(backend, std::move(options), context);

  std::vector<ValueId> kernels;
  impl_->programIndex.assign(graph_.size(), -1);
  for (uint32_t i = 0; i < graph_.size(); ++i) {
    const ir::Node& n = graph_.node(ValueId{i});
    if (n.op == Op::FusedOutput)
      throw std::runtime_error("autodiff: " + ir::describeNode(i, n.op, n.label) +
                               " belongs to an optimized graph; the tape differentiates the "
                               "lowered graph (primitive ops only)");
    if (n.info().has(ir::trait::NoKernel))
      continue;
    if (!backend.supports(graph_, ValueId{i}, context))
      throw std::runtime_error("autodiff: backend '" + backend.name() + "' cannot run " +
                               ir::describeNode(i, n.op, n.label) + ": " +
                               backend.unsupportedReason(graph_, ValueId{i}, context));
    impl_->programIndex[i] = static_cast<int64_t>(kernels.size());
    kernels.push_back(ValueId{i});
  }
  if (!kernels.empty())
    impl_->program = backend.prepare(graph_, kernels, context);

  for (const std::string& name : impl_->options.noGradient) {
    bool known = false;
    for (const ir::Node& n : graph_.nodes())
      known =
          known || ((n.op == Op::Input || n.op == Op::Param) && n.attrs.getString("name") == name);
    if (!known)
      throw std::invalid_argument("tape: noGradient names '" + name +
                                  "', which is neither an input nor a param of the graph");
  }

  // Which nodes lie on a path from a differentiated input or param (or hold network weights).
  // Loop states depend on their carried next value, defined later: iterate to a fixed point.
  std::vector<uint8_t>& w = impl_->wants;
  w.assign(graph_.size(), 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (uint32_t i = 0; i < graph_.size(); ++i) {
      const ir::Node& n = graph_.node(ValueId{i});
      bool want = w[i] != 0;
      if (n.op == Op::Input || n.op == Op::Param)
        want = !impl_->options.noGradient.count(n.attrs.getString("name"));
      else if (n.op == Op::Network)
        want = true;
      for (ValueId u : n.operands)
        want = want || w[u.index];
      if (n.op == Op::LoopState)
        if (const ir::Carry* c = graph_.carryOf(ValueId{i}))
          want = want || w[c->next.index];
      if (want && !w[i]) {
        w[i] = 1;
        changed = true;
      }
    }
  }
}

Tape::~Tape() = default;

const Value& Tape::value(ValueId v, int64_t stage) const {
  const auto& vs = impl_->values.at(v.index);
  const size_t k = graph_.node(v).region == Region::Body ? static_cast<size_t>(stage) : 0;
  if (graph_.node(v).region == Region::Body && (stage < 0 || k >= vs.size()))
    throw std::out_of_range("autodiff: no value of a Body node at stage " + std::to_string(stage));
  if (vs.empty())
    throw std::logic_error("autodiff: value read before it was computed");
  return vs[k];
}

RunResult Tape::forward(const std::map<std::string, Tensor>& inputs,
                        const std::map<std::string, Tensor>& paramValues) {
  const RunScope scope; // kernels' state from an earlier run does not carry over
  Impl& m = *impl_;
  for (const auto& [name, t] : inputs)
    if (!graph_.findInput(name))
      throw std::invalid_argument("tape: the graph has no input named '" + name + "'");
  for (const auto& [name, t] : paramValues) {
    bool known = false;
    for (const ir::Node& n : graph_.nodes())
      known = known || (n.op == Op::Param && n.attrs.getString("name") == name);
    if (!known)
      throw std::invalid_argument("tape: the graph has no param named '" + name + "'");
  }
  m.values.assign(graph_.size(), {});
  m.recorded = false;
  const auto& loop = graph_.loop();
  const int64_t stages = loop ? loop->stages : 0;
  std::vector<DevicePtr> ptrs;

  auto evaluate = [&](uint32_t i, int64_t stage) {
    const ir::Node& n = graph_.node(ValueId{i});
    const ir::Type& type = n.type;
    Value out{Tensor(), type};
    if (n.op == Op::Input) {
      const std::string& name = n.attrs.getString("name");
      auto it = inputs.find(name);
      if (it == inputs.end())
        throw std::invalid_argument("tape: missing input '" + name + "' (" + type.str() + ")");
      checkTensor(it->second, type, "tape: input '" + name + "'");
      out.tensor = it->second;
    } else if (n.op == Op::Constant || n.op == Op::Param) {
      auto it = n.op == Op::Param ? paramValues.find(n.attrs.getString("name")) : paramValues.end();
      if (it != paramValues.end()) {
        checkTensor(it->second, type, "tape: param '" + it->first + "'");
        out.tensor = it->second;
      } else {
        out.tensor = emptyOf(type);
        const auto data = n.attrs.getData("value").values();
        std::memcpy(out.tensor.data(), data.data(), out.tensor.bytes());
      }
    } else if (n.op == Op::LoopState) {
      const ir::Carry* c = graph_.carryOf(ValueId{i});
      if (stage == 0 || !c)
        out = value(n.operands[0], -1);
      else
        out = value(c->next, graph_.node(c->next).region == Region::Body ? stage - 1 : -1);
    } else if (n.op == Op::LoopResult) {
      const ir::Carry* c = graph_.carryOf(n.operands[0]);
      const int64_t last = stagesRun_ - 1;
      if (!c || last < 0)
        out = value(n.operands[0], last < 0 ? 0 : last);
      else
        out = value(c->next, graph_.node(c->next).region == Region::Body ? last : -1);
    } else {
      if (m.programIndex[i] < 0)
        throw std::logic_error("tape: no kernel for " + ir::describeNode(i, n.op, n.label));
      out.tensor = emptyOf(type);
      ptrs.resize(n.operands.size());
      for (size_t k = 0; k < n.operands.size(); ++k)
        ptrs[k] = DevicePtr{const_cast<float*>(value(n.operands[k], stage).tensor.data())};
      m.backend.execute(*m.program, static_cast<size_t>(m.programIndex[i]),
                        KernelIO{ptrs.data(), DevicePtr{out.tensor.data()}, stage});
    }
    m.values[i].push_back(std::move(out));
  };

  auto [preBegin, preEnd] = graph_.regionRange(Region::Pre);
  auto [bodyBegin, bodyEnd] = graph_.regionRange(Region::Body);
  auto [postBegin, postEnd] = graph_.regionRange(Region::Post);
  for (uint32_t i = preBegin; i < preEnd; ++i)
    evaluate(i, -1);
  stagesRun_ = 0;
  RunResult result;
  for (int64_t stage = 0; stage < stages; ++stage) {
    for (uint32_t i = bodyBegin; i < bodyEnd; ++i)
      evaluate(i, stage);
    stagesRun_ = stage + 1;
    if (loop->stop && value(loop->stop, stage).tensor.data()[0] != 0.f)
      break;
  }
  result.stages = stagesRun_;
  for (uint32_t i = postBegin; i < postEnd; ++i)
    evaluate(i, -1);

  for (const ir::Output& o : graph_.outputs()) {
    const bool body = graph_.node(o.value).region == Region::Body;
    result.outputs.emplace(o.name, value(o.value, body ? stagesRun_ - 1 : -1).tensor.clone());
  }
  for (uint32_t i = bodyBegin; i < bodyEnd; ++i) {
    const ir::Node& n = graph_.node(ValueId{i});
    if (n.op != Op::Monitor)
      continue;
    std::vector<float> per;
    for (const Value& v : m.values[i])
      per.push_back(v.tensor.data()[0]);
    result.monitors.names.push_back(n.attrs.getString("name"));
    result.monitors.values.push_back(std::move(per));
  }
  m.recorded = true;
  return result;
}

std::map<std::string, Tensor>
Tape::backward(const std::map<std::string, Tensor>& outputCotangents) {
  Impl& m = *impl_;
  if (!m.recorded)
    throw std::logic_error("tape: backward() needs a forward() first");
  const RuleTable& rules = ruleTable();
  std::vector<std::vector<Value>> cot(graph_.size());
  for (uint32_t i = 0; i < graph_.size(); ++i)
    cot[i].resize(m.values[i].size());
  auto slot = [&](ValueId v, int64_t stage) -> Value& {
    const size_t k = graph_.node(v).region == Region::Body ? static_cast<size_t>(stage) : 0;
    return cot[v.index].at(k);
  };
  auto accumulate = [&](ValueId v, int64_t stage, Value contribution) {
    if (!m.wants[v.index])
      return;
    Value& c = slot(v, stage);
    c = c.tensor.empty() ? std::move(contribution) : m.ops.add(c, contribution);
  };

  const int64_t last = stagesRun_ - 1;
  for (const auto& [name, t] : outputCotangents) {
    auto v = graph_.findOutput(name);
    if (!v)
      throw std::invalid_argument("tape: the graph has no output named '" + name + "'");
    checkTensor(t, graph_.type(*v), "tape: the cotangent of output '" + name + "'");
    accumulate(*v, last, Value{t, graph_.type(*v)});
  }

  std::vector<Value> operands, dOperands;
  std::vector<uint8_t> wants;
  auto process = [&](uint32_t i, int64_t stage) {
    const ir::Node& n = graph_.node(ValueId{i});
    Value& dOut = slot(ValueId{i}, stage);
    if (dOut.tensor.empty() || !m.wants[i] || isSource(n))
      return;
    Value d = std::move(dOut);
    dOut = Value{Tensor(), n.type}; // cotangents are released as soon as they are used
    if (n.op == Op::LoopState) {
      const ir::Carry* c = graph_.carryOf(ValueId{i});
      if (stage == 0 || !c)
        accumulate(n.operands[0], -1, std::move(d));
      else
        accumulate(c->next, stage - 1, std::move(d));
      return;
    }
    if (n.op == Op::LoopResult) {
      const ir::Carry* c = graph_.carryOf(n.operands[0]);
      accumulate(c ? c->next : n.operands[0], last, std::move(d));
      return;
    }
    BackwardRule rule = rules.find(n.op);
    if (!rule)
      throw std::runtime_error("autodiff: no backward rule for op '" + std::string(n.info().name) +
                               "' at " + ir::describeNode(i, n.op, n.label));
    operands.clear();
    wants.clear();
    for (ValueId u : n.operands) {
      operands.push_back(value(u, stage));
      wants.push_back(m.wants[u.index]);
    }
    std::unique_ptr<ProxOperator> prox;
    NetworkOperator* network = nullptr;
    if (n.op == Op::Prox) {
      prox = m.context.prox->make(n.attrs.getString("fn"), proxArgs(n, operands));
    } else if (n.op == Op::Network) {
      auto& op = m.networks[i];
      if (!op) {
        const ir::Attrs& a = n.attrs;
        op = m.context.network->make(NetworkDesc{a.getString("net"), a.getString("spec"),
                                                 ir::splitWeightPaths(a.getString("weights")),
                                                 a.has("prefix") ? a.getString("prefix") : ""});
      }
      network = op.get();
    }
    dOperands.assign(n.operands.size(), Value{});
    RuleContext context{graph_, ValueId{i}, operands, value(ValueId{i}, stage), d, stage, m.ops,
                        wants,  prox.get(), network};
    rule(context, dOperands);
    for (size_t k = 0; k < dOperands.size(); ++k) {
      if (dOperands[k].tensor.empty())
        continue;
      const ir::Type& t = graph_.type(n.operands[k]);
      checkTensor(dOperands[k].tensor, t,
                  "autodiff: the rule of " + ir::describeNode(i, n.op, n.label) + " gave operand " +
                      std::to_string(k) + " a cotangent that");
      dOperands[k].type = t;
      accumulate(n.operands[k], stage, std::move(dOperands[k]));
    }
  };

  auto [preBegin, preEnd] = graph_.regionRange(Region::Pre);
  auto [bodyBegin, bodyEnd] = graph_.regionRange(Region::Body);
  auto [postBegin, postEnd] = graph_.regionRange(Region::Post);
  for (uint32_t i = postEnd; i-- > postBegin;)
    process(i, -1);
  for (int64_t stage = last; stage >= 0; --stage)
    for (uint32_t i = bodyEnd; i-- > bodyBegin;)
      process(i, stage);
  for (uint32_t i = preEnd; i-- > preBegin;)
    process(i, -1);

  std::map<std::string, Tensor> grads;
  for (uint32_t i = preBegin; i < preEnd; ++i) {
    const ir::Node& n = graph_.node(ValueId{i});
    if (n.op != Op::Input && n.op != Op::Param)
      continue;
    const std::string& name = n.attrs.getString("name");
    if (m.options.noGradient.count(name))
      continue;
    const Value& g = cot[i][0];
    grads[name] = g.tensor.empty() ? emptyOf(n.type) : g.tensor.clone();
  }
  return grads;
}

} // namespace podm::autodiff
