// The executor: runs a graph -- Pre region, the stage loop with its schedules, carries, monitors
// and stop test, Post region -- on a primary backend, falling back to a second backend (normally
// the CPU) for nodes the primary has no kernel for, and saying so (notes()). All storage comes
// from one planned arena per backend, allocated once at construction: running a node allocates
// nothing. Optional tracing records per-node calls and time (trace(), `podm run --profile`).
//
//   CpuBackend cpu;
//   Executor ex(graph, cpu);                        // or Executor(graph, *cuda, &cpu)
//   RunResult r = ex.run({{"y", observation}});
//   r.outputs.at("x"); r.monitors.find("opt_error"); ex.trace().print(std::cout);
#pragma once

#include "ir/graph.h"
#include "runtime/backend.h"
#include "runtime/exec_plan.h"
#include "runtime/tensor.h"
#include "runtime/trace.h"

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace podm {

class ProxProvider;
class NetworkProvider;

// What ExecutorOptions::onStage sees at the end of each stage (a live progress line).
struct StageReport {
  int64_t stage = 0, stages = 0;      // this stage (from 0) and the planned count
  double seconds = 0;                 // wall time of this stage
  std::span<const std::string> names; // the monitors, in node order
  std::span<const float> values;      // their values at this stage
  // With ExecutorOptions::stageOutputs: the graph outputs that are loop results (the variable),
  // as they stand after this stage. Empty otherwise.
  std::span<const std::pair<std::string, Tensor>> outputs;
};

struct ExecutorOptions {
  bool trace = false;     // time every node (synchronizing asynchronous backends after each)
  bool planMemory = true; // false: every slot gets its own bytes (debugging, tests)
  const ProxProvider* prox = nullptr;       // nullptr: defaultProxProvider()
  const NetworkProvider* network = nullptr; // nullptr: defaultNetworkProvider()
  std::ostream* log = nullptr;              // fallback notes are written here when planning
  // Called at the end of every stage; reading the monitors costs one small download per monitor.
  std::function<void(const StageReport&)> onStage = nullptr;
  // Also download the loop-result outputs for onStage at every stage (`--save-stages`): one
  // download of the variable per stage, so off unless asked for.
  bool stageOutputs = false;
};

// Named scalars recorded once per stage by monitor nodes, in node order.
struct MonitorLog {
  std::vector<std::string> names;
  std::vector<std::vector<float>> values; // [monitor][stage]

  // nullptr when no monitor has that name.
  const std::vector<float>* find(std::string_view name) const;
};

struct RunResult {
  std::map<std::string, Tensor> outputs;
  int64_t stages = 0; // stages run (fewer than planned when the stop predicate fired)
  MonitorLog monitors;
  std::vector<double> stageSeconds; // wall time of each stage run (the `time` monitor)
  double preSeconds = 0;            // the Pre region: what runs once before stage 1
  double postSeconds = 0;           // the Post region and the downloads of the results
};

struct MemoryReport {
  struct PerBackend {
    std::string backend;
    size_t slots = 0;
    size_t plannedBytes = 0;  // the arena
    size_t naiveBytes = 0;    // one buffer per slot
    size_t peakLiveBytes = 0; // largest total live at one position
  };
  std::vector<PerBackend> backends;
  std::vector<Slot> slots; // with live ranges and offsets
  std::string str() const;
};

class Executor {
public:
  // `fallback` may be nullptr or the primary itself (then no fallback). The backends must outlive
  // the executor. Throws when a node has no kernel on either backend, or when preparing a kernel
  // fails (e.g. an unknown prox).
  Executor(ir::Graph graph, Backend& primary, Backend* fallback = nullptr,
           ExecutorOptions options = {});
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs the graph once. Every graph input must be given with its declared shape and dtype
  // (scalars as 1x1x1x1 tensors); unknown names are an error. `params` binds `param` nodes by
  // name for this run (the others take their initial value); an unknown name or a wrong shape is
  // an error naming the param.
  RunResult run(const std::map<std::string, Tensor>& inputs,
                const std::map<std::string, Tensor>& params = {});

  const ir::Graph& graph() const { return graph_; }
  const ExecPlan& plan() const { return plan_; }
  // One line per node that runs on the fallback backend.
  const std::vector<std::string>& notes() const { return plan_.notes; }
  const MemoryReport& memory() const { return memory_; }
  const Trace& trace() const { return trace_; }
  Trace& trace() { return trace_; }
  // The name of the backend that runs node `v` ("" for nodes without a kernel).
  std::string backendOf(ir::ValueId v) const;

private:
  void prepareMemory();
  void releaseMemory();
  void addTraceRows();
  void runSteps(const std::vector<Step>& steps, const std::vector<size_t>& rows, int64_t stage);
  void stageEnd(int64_t stage);
  void transfer(uint8_t dstBackend, DevicePtr dst, uint8_t srcBackend, DevicePtr src, size_t bytes);
  void bindInputs(const std::map<std::string, Tensor>& inputs);
  void bindParams(const std::map<std::string, Tensor>& params);

  ir::Graph graph_;
  ExecutorOptions options_;
  std::vector<Backend*> backends_;
  ExecPlan plan_;
  std::vector<std::unique_ptr<BackendProgram>> programs_;
  std::vector<DevicePtr> arenas_, logs_;
  std::vector<DevicePtr> plannedAddr_; // per slot, as planned
  std::vector<DevicePtr> slotAddr_;    // per slot, now (carry slots swap every stage)
  std::vector<DevicePtr> operandScratch_, resultScratch_;
  std::vector<std::byte> staging_;
  std::vector<size_t> preRows_, bodyRows_, postRows_;
  size_t stageEndRow_ = 0;
  MemoryReport memory_;
  Trace trace_;
};

} // namespace podm
