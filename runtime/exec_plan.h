// The execution plan of one graph on one or two backends: which backend runs each node (the
// primary one, or the fallback where the primary has no kernel -- with a note saying so), the
// steps in order (kernels and explicit transfers between backends), the storage slot of every
// value on every backend that touches it, and the live range of every slot over the schedule.
//
// Positions: 0 = run start (inputs uploaded), then the Pre steps, the loop entry (initial states
// copied in), the Body steps, the loop end (carries, monitors, stop test), the Post steps, and the
// run end (outputs downloaded). A slot defined before the body and read inside it stays live to
// the loop end, because the body runs again.
//
// Loop state lives in two slots per carry on the primary backend, swapped at every loop end: the
// node that computes the next value writes straight into the spare slot ("claimed"), so a carry
// costs no copy; other next values (a loop state, a Pre value, a value claimed twice, a value
// computed on the fallback backend) are copied in at the loop end before any swap.
//
// A node with several results (a fused program ending in `return`) writes results 1, 2, ... into
// the slots of its fused_output nodes, which have no kernel: those slots are defined at its step,
// and a carried one may be claimed like any value.
//
// Lazy arms: the nodes that only one arm of a `select` on a scalar condition needs (the PODM
// feedback of Eq. 6, needed only when the check of Eq. 5 fails) are scheduled right before the
// select, after its condition, and guarded: the executor skips them when the select takes the
// other arm. A skipped node's slot is simply not written; the select reads only the arm it takes.
#pragma once

#include "ir/graph.h"
#include "runtime/backend.h"
#include "runtime/memory_plan.h"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace podm {

inline constexpr size_t kMaxBackends = 2; // primary and fallback

enum class SlotRole : uint8_t { Value, Mirror, Input, Constant, CarryA, CarryB };

struct Slot {
  ir::ValueId value; // the value held (for carry slots: the loop_state)
  uint8_t backend = 0;
  SlotRole role = SlotRole::Value;
  size_t bytes = 0;
  LiveInterval live;
  size_t offset = 0; // in the backend's arena, filled from the arena plan
};

enum class StepKind : uint8_t { Kernel, Transfer };

struct Step {
  StepKind kind = StepKind::Kernel;
  uint8_t backend = 0;    // Kernel: runs it; Transfer: destination
  uint8_t srcBackend = 0; // Transfer: source
  ir::ValueId value;      // Kernel: the node; Transfer: the value moved
  uint32_t programIndex = 0;
  std::vector<int32_t> operands; // Kernel: operand slots in operand order
  int32_t out = -1;              // slot written
  std::vector<int32_t> moreOuts; // Kernel: slots of results 1, 2, ... (fused_output); -1: unread
  int32_t src = -1;              // Transfer: slot read
  int32_t position = 0;
  bool fallback = false; // Kernel on the fallback backend
  int32_t guard = -1;    // index in ExecPlan::guards: run only when that guard holds
};

// Steps of one arm of a select: they run when the condition's truth equals `whenTrue`.
struct Guard {
  ir::ValueId select;
  int32_t condSlot = -1; // the condition's slot on `backend`
  uint8_t backend = 0;
  bool whenTrue = true;
  size_t nodes = 0; // kernel steps it guards
};

struct CarryPlan {
  ir::ValueId state, next;
  int32_t cur = -1, spare = -1; // CarryA / CarryB slots; swapped at every loop end
  int32_t init = -1;            // slot of the initial value on the primary backend
  int32_t copyFrom = -1;        // slot copied into `spare` at the loop end; -1 when claimed
};

struct MonitorPlan {
  ir::ValueId node;
  std::string name;
  uint8_t backend = 0;
  int32_t slot = -1;
  size_t logIndex = 0; // position among the monitors of its backend
};

struct InputBinding {
  std::string name;
  ir::ValueId value;
  std::vector<int32_t> slots; // one per backend that reads it
};

struct ValueBinding {
  std::string name;
  ir::ValueId value;
  int32_t slot = -1;
};

struct ExecPlan {
  std::vector<Slot> slots;
  std::vector<Step> pre, body, post;
  std::vector<CarryPlan> carries;
  std::vector<MonitorPlan> monitors;
  std::vector<InputBinding> inputs;
  std::vector<ValueBinding> outputs;
  std::vector<int32_t> constants; // slots uploaded once at prepare
  int32_t stopSlot = -1;
  std::array<std::vector<ir::ValueId>, kMaxBackends> backendNodes; // prepare order
  std::vector<std::string> notes; // fallback notes, one per node moved
  std::vector<Guard> guards;      // lazy select arms
  int32_t loopEntry = -1, loopEnd = -1, end = 0;
};

// Plans `g` on backends[0] (primary) and optionally backends[1] (fallback), asking each whether it
// supports a node with the providers its kernels will be prepared with. Throws
// std::runtime_error naming the node when no backend supports a node.
ExecPlan buildExecPlan(const ir::Graph& g, std::span<Backend* const> backends,
                       const PrepareContext& context);

} // namespace podm
