// The executor: preparation (plan, kernels, arenas, constants) and the run loop.
#include "runtime/executor.h"

#include "ir/builder.h"
#include "ir/verifier.h"
#include "runtime/ir_types.h"
#include "runtime/network_provider.h"
#include "runtime/prox_provider.h"
#include "runtime/run_scope.h"

#include <chrono>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <stdexcept>

namespace podm {
namespace {

using Clock = std::chrono::steady_clock;

std::string mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

} // namespace

const std::vector<float>* MonitorLog::find(std::string_view name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name)
      return &values[i];
  return nullptr;
}

std::string MemoryReport::str() const {
  std::ostringstream s;
  for (const PerBackend& b : backends)
    s << b.backend << ": " << b.slots << " buffers, planned " << mib(b.plannedBytes) << ", naive "
      << mib(b.naiveBytes) << ", peak live " << mib(b.peakLiveBytes) << "\n";
  return s.str();
}

Executor::Executor(ir::Graph graph, Backend& primary, Backend* fallback, ExecutorOptions options)
    : graph_(std::move(graph)), options_(options) {
  ir::verify(graph_);
  backends_.push_back(&primary);
  if (fallback && fallback != &primary)
    backends_.push_back(fallback);
  PrepareContext context;
  context.prox = options_.prox ? options_.prox : defaultProxProvider();
  context.network = options_.network ? options_.network : defaultNetworkProvider();
  plan_ = buildExecPlan(graph_, backends_, context);
  if (options_.log)
    for (const std::string& note : plan_.notes)
      *options_.log << "note: " << note << "\n";

  programs_.resize(backends_.size());
  for (size_t b = 0; b < backends_.size(); ++b)
    if (!plan_.backendNodes[b].empty())
      programs_[b] = backends_[b]->prepare(graph_, plan_.backendNodes[b], context);

  size_t maxArity = 0;
  for (const ir::Node& n : graph_.nodes())
    maxArity = std::max(maxArity, n.operands.size());
  operandScratch_.resize(maxArity);
  size_t maxResults = 0;
  for (const auto* steps : {&plan_.pre, &plan_.body, &plan_.post})
    for (const Step& st : *steps)
      maxResults = std::max(maxResults, st.moreOuts.size());
  resultScratch_.resize(maxResults);
  try {
    prepareMemory();
  } catch (...) {
    releaseMemory(); // the destructor does not run for a constructor that throws
    throw;
  }
  addTraceRows();
}

Executor::~Executor() {
  releaseMemory();
}

void Executor::releaseMemory() {
  for (size_t b = 0; b < arenas_.size(); ++b) {
    if (arenas_[b])
      backends_[b]->deallocate(arenas_[b]);
    if (logs_[b])
      backends_[b]->deallocate(logs_[b]);
    arenas_[b] = logs_[b] = DevicePtr{};
  }
}

void Executor::prepareMemory() {
  arenas_.assign(backends_.size(), DevicePtr{});
  logs_.assign(backends_.size(), DevicePtr{});
  plannedAddr_.assign(plan_.slots.size(), DevicePtr{});
  for (size_t b = 0; b < backends_.size(); ++b) {
    std::vector<size_t> ids;
    std::vector<LiveInterval> live;
    for (size_t s = 0; s < plan_.slots.size(); ++s)
      if (plan_.slots[s].backend == b) {
        ids.push_back(s);
        live.push_back(plan_.slots[s].live);
      }
    ArenaPlan arena = planArena(live, options_.planMemory);
    memory_.backends.push_back(MemoryReport::PerBackend{
        backends_[b]->name(), ids.size(), arena.arenaBytes, arena.naiveBytes, arena.peakLiveBytes});
    if (arena.arenaBytes > 0)
      arenas_[b] = backends_[b]->allocate(arena.arenaBytes);
    for (size_t i = 0; i < ids.size(); ++i) {
      plan_.slots[ids[i]].offset = arena.offsets[i];
      plannedAddr_[ids[i]] = arenas_[b] + arena.offsets[i];
    }
    size_t monitors = 0;
    for (const MonitorPlan& m : plan_.monitors)
      monitors += m.backend == b;
    if (monitors > 0 && graph_.loop())
      logs_[b] = backends_[b]->allocate(alignArena(monitors * graph_.loop()->stages * 4));
  }
  memory_.slots = plan_.slots;
  slotAddr_ = plannedAddr_;

  // Constants are uploaded once; their slots are never reused.
  for (int32_t s : plan_.constants) {
    const Slot& slot = plan_.slots[s];
    const auto data = graph_.node(slot.value).attrs.getData("value").values();
    backends_[slot.backend]->upload(plannedAddr_[s], data.data(), slot.bytes);
  }
  size_t staging = 0;
  for (const auto* steps : {&plan_.pre, &plan_.body, &plan_.post})
    for (const Step& st : *steps)
      if (st.kind == StepKind::Transfer && !backends_[st.backend]->hostAddressable() &&
          !backends_[st.srcBackend]->hostAddressable())
        staging = std::max(staging, plan_.slots[st.out].bytes);
  staging_.resize(staging);
}

void Executor::addTraceRows() {
  auto rowsFor = [&](const std::vector<Step>& steps, std::vector<size_t>& rows) {
    for (const Step& st : steps) {
      TraceRow row;
      if (st.kind == StepKind::Kernel) {
        const ir::Node& n = graph_.node(st.value);
        row.what = ir::describeNode(st.value.index, n.op, n.label);
        row.op = std::string(n.info().name);
        row.fallback = st.fallback;
      } else {
        row.what = "transfer %" + std::to_string(st.value.index) + " " +
                   backends_[st.srcBackend]->name() + " -> " + backends_[st.backend]->name();
        row.op = "transfer";
        row.bytes = plan_.slots[st.out].bytes;
      }
      row.backend = backends_[st.backend]->name();
      rows.push_back(trace_.addRow(std::move(row)));
    }
  };
  rowsFor(plan_.pre, preRows_);
  rowsFor(plan_.body, bodyRows_);
  rowsFor(plan_.post, postRows_);
  stageEndRow_ = trace_.addRow(TraceRow{"stage end (carries, monitors, stop)", "stage end",
                                        backends_[0]->name(), false, 0, 0, 0});
}

std::string Executor::backendOf(ir::ValueId v) const {
  for (size_t b = 0; b < backends_.size(); ++b)
    for (ir::ValueId n : plan_.backendNodes[b])
      if (n == v)
        return backends_[b]->name();
  return "";
}

void Executor::transfer(uint8_t dstBackend, DevicePtr dst, uint8_t srcBackend, DevicePtr src,
                        size_t bytes) {
  Backend& d = *backends_[dstBackend];
  Backend& s = *backends_[srcBackend];
  if (dstBackend == srcBackend)
    d.copy(dst, src, bytes);
  else if (s.hostAddressable())
    d.upload(dst, src.raw, bytes);
  else if (d.hostAddressable())
    s.download(dst.raw, src, bytes);
  else {
    s.download(staging_.data(), src, bytes);
    d.upload(dst, staging_.data(), bytes);
  }
}

void Executor::runSteps(const std::vector<Step>& steps, const std::vector<size_t>& rows,
                        int64_t stage) {
  int32_t guard = -1; // the lazy-arm guard last evaluated, and whether its steps run
  bool guardHolds = true;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& st = steps[i];
    if (st.guard >= 0) {
      if (st.guard != guard) { // an arm's steps are contiguous: one read of the condition
        guard = st.guard;
        const Guard& gd = plan_.guards[static_cast<size_t>(guard)];
        float cond = 0;
        backends_[gd.backend]->download(&cond, slotAddr_[gd.condSlot], 4);
        guardHolds = (cond != 0) == gd.whenTrue;
      }
      if (!guardHolds) {
        if (options_.trace)
          trace_.skip(rows[i]);
        continue;
      }
    }
    Clock::time_point t0;
    if (options_.trace)
      t0 = Clock::now();
    if (st.kind == StepKind::Kernel) {
      for (size_t k = 0; k < st.operands.size(); ++k)
        operandScratch_[k] = slotAddr_[st.operands[k]];
      for (size_t k = 0; k < st.moreOuts.size(); ++k)
        resultScratch_[k] = st.moreOuts[k] >= 0 ? slotAddr_[st.moreOuts[k]] : DevicePtr{};
      KernelIO io{operandScratch_.data(),
                  slotAddr_[st.out],
                  stage,
                  {resultScratch_.data(), st.moreOuts.size()}};
      backends_[st.backend]->execute(*programs_[st.backend], st.programIndex, io);
    } else {
      transfer(st.backend, slotAddr_[st.out], st.srcBackend, slotAddr_[st.src],
               plan_.slots[st.out].bytes);
    }
    if (options_.trace) {
      backends_[st.backend]->synchronize();
      trace_.record(rows[i], std::chrono::duration<double>(Clock::now() - t0).count());
    }
  }
}

void Executor::stageEnd(int64_t stage) {
  Backend& primary = *backends_[0];
  // All copies read this stage's values before any swap (carries are a parallel assignment).
  for (const CarryPlan& c : plan_.carries)
    if (c.copyFrom >= 0)
      primary.copy(slotAddr_[c.spare], slotAddr_[c.copyFrom], plan_.slots[c.spare].bytes);
  // Monitor values go to a per-backend log ([monitor][stage]) read back once after the run.
  const int64_t stages = graph_.loop()->stages;
  for (const MonitorPlan& m : plan_.monitors) {
    DevicePtr dst = logs_[m.backend] +
                    (m.logIndex * static_cast<size_t>(stages) + static_cast<size_t>(stage)) * 4;
    backends_[m.backend]->copy(dst, slotAddr_[m.slot], 4);
  }
  for (const CarryPlan& c : plan_.carries)
    std::swap(slotAddr_[c.cur], slotAddr_[c.spare]);
}

void Executor::bindInputs(const std::map<std::string, Tensor>& inputs) {
  for (const auto& [name, tensor] : inputs) {
    bool known = false;
    for (const InputBinding& in : plan_.inputs)
      known = known || in.name == name;
    if (!known && !graph_.findInput(name))
      throw std::invalid_argument("run: the graph has no input named '" + name + "'");
  }
  for (const InputBinding& in : plan_.inputs) {
    auto it = inputs.find(in.name);
    const ir::Type& type = graph_.type(in.value);
    if (it == inputs.end())
      throw std::invalid_argument("run: missing input '" + in.name + "' (" + type.str() + ")");
    const Tensor& t = it->second;
    if (t.empty() || !(t.shape() == toShape(type)) || t.dtype() != toDType(type.elem))
      throw std::invalid_argument("run: input '" + in.name + "' must be " + type.str() + ", got " +
                                  dtypeName(t.dtype()) + "[" + t.shape().str() + "]");
    for (int32_t s : in.slots)
      backends_[plan_.slots[s].backend]->upload(plannedAddr_[s], t.data(), plan_.slots[s].bytes);
  }
}

// Param slots are uploaded on every run (they are tiny): the bound value when given, else the
// initial value, so one run's override never leaks into the next.
void Executor::bindParams(const std::map<std::string, Tensor>& params) {
  for (const auto& [name, tensor] : params) {
    bool known = false;
    std::string names;
    for (const ir::Node& n : graph_.nodes())
      if (n.op == ir::Op::Param) {
        known = known || n.attrs.getString("name") == name;
        names += (names.empty() ? "" : ", ") + n.attrs.getString("name");
      }
    if (!known)
      throw std::invalid_argument("run: the graph has no param named '" + name + "' (" +
                                  (names.empty() ? "it has none" : "params: " + names) + ")");
  }
  for (int32_t s : plan_.constants) {
    const Slot& slot = plan_.slots[s];
    const ir::Node& n = graph_.node(slot.value);
    if (n.op != ir::Op::Param)
      continue;
    const auto it = params.find(n.attrs.getString("name"));
    if (it == params.end()) {
      backends_[slot.backend]->upload(plannedAddr_[s], n.attrs.getData("value").values().data(),
                                      slot.bytes);
      continue;
    }
    const Tensor& t = it->second;
    if (t.empty() || !(t.shape() == toShape(n.type)) || t.dtype() != DType::F32)
      throw std::invalid_argument("run: param '" + it->first + "' must be " + n.type.str() +
                                  ", got " + dtypeName(t.dtype()) + "[" + t.shape().str() + "]");
    backends_[slot.backend]->upload(plannedAddr_[s], t.data(), slot.bytes);
  }
}

RunResult Executor::run(const std::map<std::string, Tensor>& inputs,
                        const std::map<std::string, Tensor>& params) {
  const RunScope scope; // kernels' state from an earlier run does not carry over
  bindInputs(inputs);
  bindParams(params);
  slotAddr_ = plannedAddr_;
  RunResult result;
  const Clock::time_point preStart = Clock::now();
  runSteps(plan_.pre, preRows_, -1);
  backends_[0]->synchronize();
  result.preSeconds = std::chrono::duration<double>(Clock::now() - preStart).count();
  if (graph_.loop()) {
    for (const CarryPlan& c : plan_.carries)
      backends_[0]->copy(slotAddr_[c.cur], slotAddr_[c.init], plan_.slots[c.cur].bytes);
    const int64_t stages = graph_.loop()->stages;
    result.stageSeconds.reserve(static_cast<size_t>(stages));
    std::vector<std::string> names;
    std::vector<float> values;
    if (options_.onStage) {
      for (const MonitorPlan& m : plan_.monitors)
        names.push_back(m.name);
      values.resize(names.size());
    }
    for (int64_t stage = 0; stage < stages; ++stage) {
      const Clock::time_point stageStart = Clock::now();
      runSteps(plan_.body, bodyRows_, stage);
      Clock::time_point t0 = Clock::now();
      stageEnd(stage);
      result.stages = stage + 1;
      bool stop = false;
      if (plan_.stopSlot >= 0) {
        float flag = 0;
        const Slot& s = plan_.slots[plan_.stopSlot];
        backends_[s.backend]->download(&flag, slotAddr_[plan_.stopSlot], 4);
        stop = flag != 0;
      }
      backends_[0]->synchronize();
      if (options_.trace)
        trace_.record(stageEndRow_, std::chrono::duration<double>(Clock::now() - t0).count());
      result.stageSeconds.push_back(
          std::chrono::duration<double>(Clock::now() - stageStart).count());
      if (options_.onStage) {
        for (size_t i = 0; i < plan_.monitors.size(); ++i) {
          const MonitorPlan& m = plan_.monitors[i];
          const size_t at = (m.logIndex * static_cast<size_t>(stages) + size_t(stage)) * 4;
          backends_[m.backend]->download(&values[i], logs_[m.backend] + at, 4);
        }
        std::vector<std::pair<std::string, Tensor>> states;
        if (options_.stageOutputs)
          for (const ValueBinding& o : plan_.outputs)
            if (graph_.node(o.value).op == ir::Op::LoopResult) {
              // The result shares the carried state's slot, which holds this stage's value now.
              const ir::Type& type = graph_.type(o.value);
              Tensor t(toShape(type), toDType(type.elem));
              const Slot& s = plan_.slots[o.slot];
              backends_[s.backend]->download(t.data(), slotAddr_[o.slot], s.bytes);
              states.emplace_back(o.name, std::move(t));
            }
        options_.onStage(
            StageReport{stage, stages, result.stageSeconds.back(), names, values, states});
      }
      if (stop)
        break;
    }
  }
  const Clock::time_point postStart = Clock::now();
  runSteps(plan_.post, postRows_, -1);

  for (const ValueBinding& o : plan_.outputs) {
    const ir::Type& type = graph_.type(o.value);
    Tensor t(toShape(type), toDType(type.elem));
    const Slot& s = plan_.slots[o.slot];
    backends_[s.backend]->download(t.data(), slotAddr_[o.slot], s.bytes);
    result.outputs.emplace(o.name, std::move(t));
  }
  if (graph_.loop()) {
    const size_t stages = static_cast<size_t>(graph_.loop()->stages);
    for (const MonitorPlan& m : plan_.monitors) {
      std::vector<float> values(stages);
      if (stages > 0) // `stages 0`: no log to read (and no buffer to read it into)
        backends_[m.backend]->download(values.data(), logs_[m.backend] + m.logIndex * stages * 4,
                                       stages * 4);
      values.resize(static_cast<size_t>(result.stages));
      result.monitors.names.push_back(m.name);
      result.monitors.values.push_back(std::move(values));
    }
  }
  result.postSeconds = std::chrono::duration<double>(Clock::now() - postStart).count();
  return result;
}

} // namespace podm
