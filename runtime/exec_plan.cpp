// Building the execution plan: backend assignment, slots, steps, transfers and live ranges.
#include "runtime/exec_plan.h"

#include "ir/builder.h"

#include <algorithm>
#include <climits>
#include <stdexcept>

namespace podm {
namespace {

constexpr uint8_t kNoBackend = 255;

struct PlanBuilder {
  const ir::Graph& g;
  std::span<Backend* const> backends;
  const PrepareContext& context;
  ExecPlan plan;
  std::vector<uint8_t> home;
  std::vector<std::array<bool, kMaxBackends>> consumers;
  std::vector<std::array<int32_t, kMaxBackends>> slotOf;
  std::vector<int32_t> claimedBy;
  std::vector<int32_t> guardOf;                    // per node: its lazy arm's guard, or -1
  std::vector<std::vector<uint32_t>> armMembers;   // per guard: nodes in index order
  std::vector<uint32_t> order;                     // emission order of the nodes
  std::vector<std::vector<uint32_t>> fusedOutputs; // per node: its fused_output readers

  int32_t newSlot(ir::ValueId v, uint8_t backend, SlotRole role) {
    Slot s;
    s.value = v;
    s.backend = backend;
    s.role = role;
    s.bytes = g.type(v).bytes();
    plan.slots.push_back(s);
    return static_cast<int32_t>(plan.slots.size() - 1);
  }

  std::vector<Step>& region(ir::Region r) {
    return r == ir::Region::Pre ? plan.pre : r == ir::Region::Body ? plan.body : plan.post;
  }

  void assignBackends() {
    for (uint32_t i = 0; i < g.size(); ++i) {
      const ir::Node& n = g.nodes()[i];
      if (n.info().has(ir::trait::NoKernel)) {
        if (n.op == ir::Op::LoopState || n.op == ir::Op::LoopResult)
          home[i] = 0;
        if (n.op == ir::Op::FusedOutput) { // written by its fused node
          home[i] = home[n.operands[0].index];
          fusedOutputs[n.operands[0].index].push_back(i);
        }
        continue;
      }
      const ir::ValueId v{i};
      if (backends[0]->supports(g, v, context)) {
        home[i] = 0;
        continue;
      }
      if (backends.size() > 1 && backends[1]->supports(g, v, context)) {
        home[i] = 1;
        plan.notes.push_back(ir::describeNode(i, n.op, n.label) + " runs on " +
                             backends[1]->name() + ": " + backends[0]->name() + " " +
                             backends[0]->unsupportedReason(g, v, context));
        continue;
      }
      std::string why;
      for (Backend* b : backends)
        why += (why.empty() ? "" : "; ") + b->name() + ": " + b->unsupportedReason(g, v, context);
      throw std::runtime_error(ir::describeNode(i, n.op, n.label) +
                               ": no backend can run this node (" + why + ")");
    }
  }

  // Lazy arms (see exec_plan.h). Selects on one scalar condition in one region form a group (the
  // graph passes may split one select into several, e.g. x+ and its transform coefficients; see
  // compiler/passes/cancel_inverse_transforms.cpp). A node belongs to arm k of a group when it is
  // computed in the group's region before its first select, has a kernel and no effect, is not
  // read by the executor itself, and every one of its readers is a select of the group through
  // operand k only or another node of that arm. One guard serves the group, scheduled before its
  // first select. Groups are visited by their last select, last to first, so an outer select
  // claims the arms of selects nested in its own arms.
  void findLazyArms() {
    const uint32_t count = static_cast<uint32_t>(g.size());
    guardOf.assign(count, -1);
    std::vector<std::vector<uint32_t>> users(count);
    std::vector<bool> external(count, false);
    for (uint32_t i = 0; i < count; ++i)
      for (ir::ValueId op : g.nodes()[i].operands)
        users[op.index].push_back(i);
    if (g.loop()) {
      for (const ir::Carry& c : g.loop()->carries) {
        external[c.next.index] = true;
        external[g.node(c.state).operands[0].index] = true;
      }
      if (g.loop()->stop)
        external[g.loop()->stop.index] = true;
    }
    for (const ir::Output& o : g.outputs())
      external[o.value.index] = true;
    constexpr uint32_t kFixed =
        ir::trait::Source | ir::trait::Control | ir::trait::Effect | ir::trait::NoKernel;
    std::vector<char> inArm(count, 0), inGroup(count, 0), grouped(count, 0);
    auto lazySelect = [&](uint32_t i) {
      const ir::Node& n = g.nodes()[i];
      return n.op == ir::Op::Select && guardOf[i] < 0 && g.type(n.operands[0]).isScalar();
    };
    for (uint32_t s = count; s-- > 0;) {
      if (!lazySelect(s) || grouped[s])
        continue;
      const ir::Node& sel = g.nodes()[s];
      std::vector<uint32_t> group;
      for (uint32_t t = 0; t <= s; ++t)
        if (lazySelect(t) && !grouped[t] && g.nodes()[t].region == sel.region &&
            g.nodes()[t].operands[0] == sel.operands[0])
          group.push_back(t);
      for (uint32_t t : group)
        grouped[t] = inGroup[t] = 1;
      const uint32_t first = group.front();
      for (size_t arm : {size_t{1}, size_t{2}}) {
        std::vector<uint32_t> members;
        for (uint32_t i = first; i-- > 0;) {
          const ir::Node& n = g.nodes()[i];
          // A fused_output goes with its program: the arm's program writes it or nobody does.
          const bool fixed = (n.info().traits & kFixed) != 0 && n.op != ir::Op::FusedOutput;
          if (n.region != sel.region || fixed || guardOf[i] >= 0 || external[i] || users[i].empty())
            continue;
          bool only = true;
          for (uint32_t u : users[i]) {
            if (inGroup[u]) {
              const ir::Node& reader = g.nodes()[u];
              for (size_t k = 0; k < reader.operands.size(); ++k)
                only = only && (reader.operands[k].index != i || k == arm);
            } else {
              only = only && inArm[u];
            }
          }
          if (only) {
            inArm[i] = 1;
            members.push_back(i);
          }
        }
        for (uint32_t m : members)
          inArm[m] = 0;
        if (members.empty())
          continue;
        std::reverse(members.begin(), members.end());
        Guard gd;
        gd.select = ir::ValueId{first};
        gd.whenTrue = arm == 1; // select: operand 1 if cond != 0 else operand 2
        for (uint32_t m : members)
          guardOf[m] = static_cast<int32_t>(plan.guards.size());
        plan.guards.push_back(gd);
        armMembers.push_back(std::move(members));
      }
      for (uint32_t t : group)
        inGroup[t] = 0;
    }
    // Emission order: index order, with each arm moved to just before its select.
    std::vector<std::vector<int32_t>> guardsBefore(count);
    for (size_t k = 0; k < plan.guards.size(); ++k)
      guardsBefore[plan.guards[k].select.index].push_back(static_cast<int32_t>(k));
    order.clear();
    for (uint32_t i = 0; i < count; ++i) {
      if (guardOf[i] >= 0)
        continue;
      for (int32_t k : guardsBefore[i])
        order.insert(order.end(), armMembers[k].begin(), armMembers[k].end());
      order.push_back(i);
    }
  }

  // The executor reads some values itself (outputs, the stop predicate): from their home, or
  // from a primary-backend slot for sources, which have no home.
  void readByExecutor(ir::ValueId v) {
    if (home[v.index] == kNoBackend)
      consumers[v.index][0] = true;
  }

  void findConsumers() {
    for (uint32_t i = 0; i < g.size(); ++i) {
      if (g.nodes()[i].info().has(ir::trait::NoKernel))
        continue;
      for (ir::ValueId op : g.nodes()[i].operands)
        consumers[op.index][home[i]] = true;
    }
    if (g.loop()) {
      for (const ir::Carry& c : g.loop()->carries) {
        consumers[g.node(c.state).operands[0].index][0] = true; // initial value, at loop entry
        consumers[c.next.index][0] = true;                      // copied or claimed at loop end
      }
      if (g.loop()->stop)
        readByExecutor(g.loop()->stop);
    }
    for (const ir::Output& o : g.outputs())
      readByExecutor(o.value);
    for (const Guard& gd : plan.guards)
      readByExecutor(g.node(gd.select).operands[0]);
  }

  void claimCarries() {
    if (!g.loop())
      return;
    for (size_t k = 0; k < g.loop()->carries.size(); ++k) {
      const ir::Carry& c = g.loop()->carries[k];
      CarryPlan cp;
      cp.state = c.state;
      cp.next = c.next;
      cp.cur = newSlot(c.state, 0, SlotRole::CarryA);
      cp.spare = newSlot(c.state, 0, SlotRole::CarryB);
      slotOf[c.state.index][0] = cp.cur;
      const ir::Node& next = g.node(c.next);
      const bool written = !next.info().has(ir::trait::NoKernel) || next.op == ir::Op::FusedOutput;
      if (home[c.next.index] == 0 && written && next.region == ir::Region::Body &&
          claimedBy[c.next.index] < 0)
        claimedBy[c.next.index] = static_cast<int32_t>(k);
      plan.carries.push_back(cp);
    }
  }

  // Copies of `v` for every backend other than `from` that reads it, right after it is made.
  void addMirrors(ir::ValueId v, uint8_t from, std::vector<Step>& steps) {
    for (uint8_t b = 0; b < backends.size(); ++b) {
      if (b == from || !consumers[v.index][b])
        continue;
      int32_t slot = newSlot(v, b, SlotRole::Mirror);
      slotOf[v.index][b] = slot;
      Step t;
      t.kind = StepKind::Transfer;
      t.backend = b;
      t.srcBackend = from;
      t.value = v;
      t.src = slotOf[v.index][from];
      t.out = slot;
      steps.push_back(std::move(t));
    }
  }

  void emitSteps() {
    for (uint32_t i : order) {
      const ir::Node& n = g.nodes()[i];
      const ir::ValueId v{i};
      std::vector<Step>& steps = region(n.region);
      if (n.info().has(ir::trait::Source)) {
        for (uint8_t b = 0; b < backends.size(); ++b)
          if (consumers[i][b])
            slotOf[i][b] =
                newSlot(v, b, n.op == ir::Op::Input ? SlotRole::Input : SlotRole::Constant);
        continue;
      }
      if (n.op == ir::Op::LoopResult)
        slotOf[i][0] = slotOf[n.operands[0].index][0];
      if (n.info().has(ir::trait::NoKernel)) { // loop_state (slot set by claimCarries), results
        const size_t first = steps.size();
        addMirrors(v, n.op == ir::Op::FusedOutput ? home[i] : 0, steps);
        for (size_t j = first; j < steps.size(); ++j)
          steps[j].guard = guardOf[i];
        continue;
      }
      const uint8_t b = home[i];
      Step k;
      k.kind = StepKind::Kernel;
      k.backend = b;
      k.value = v;
      k.fallback = b != 0;
      k.programIndex = static_cast<uint32_t>(plan.backendNodes[b].size());
      plan.backendNodes[b].push_back(v);
      for (ir::ValueId op : n.operands)
        k.operands.push_back(slotOf[op.index][b]);
      if (b == 0 && claimedBy[i] >= 0)
        slotOf[i][0] = plan.carries[claimedBy[i]].spare;
      else
        slotOf[i][b] = newSlot(v, b, SlotRole::Value);
      k.out = slotOf[i][b];
      for (uint32_t u : fusedOutputs[i]) {
        const size_t index = static_cast<size_t>(g.nodes()[u].attrs.getInt("index"));
        if (k.moreOuts.size() < index)
          k.moreOuts.resize(index, -1);
        if (b == 0 && claimedBy[u] >= 0)
          slotOf[u][0] = plan.carries[claimedBy[u]].spare;
        else
          slotOf[u][b] = newSlot(ir::ValueId{u}, b, SlotRole::Value);
        k.moreOuts[index - 1] = slotOf[u][b];
      }
      k.guard = guardOf[i];
      const size_t first = steps.size();
      steps.push_back(std::move(k));
      addMirrors(v, b, steps);
      for (size_t j = first; j < steps.size(); ++j)
        steps[j].guard = guardOf[i];
      if (guardOf[i] >= 0)
        plan.guards[guardOf[i]].nodes += 1;
    }
  }

  int32_t executorSlot(ir::ValueId v) {
    uint8_t b = home[v.index] == kNoBackend ? 0 : home[v.index];
    return slotOf[v.index][b];
  }

  void bindings() {
    for (CarryPlan& cp : plan.carries) {
      cp.init = slotOf[g.node(cp.state).operands[0].index][0];
      if (claimedBy[cp.next.index] < 0 || plan.carries[claimedBy[cp.next.index]].state != cp.state)
        cp.copyFrom = slotOf[cp.next.index][0];
    }
    std::array<size_t, kMaxBackends> logCount{};
    for (uint32_t i = 0; i < g.size(); ++i) {
      const ir::Node& n = g.nodes()[i];
      if (n.op == ir::Op::Monitor) {
        MonitorPlan m;
        m.node = ir::ValueId{i};
        m.name = n.attrs.getString("name");
        m.backend = home[i];
        m.slot = slotOf[i][home[i]];
        m.logIndex = logCount[home[i]]++;
        plan.monitors.push_back(std::move(m));
      }
      if (n.op == ir::Op::Input) {
        InputBinding in{n.attrs.getString("name"), ir::ValueId{i}, {}};
        for (int32_t s : slotOf[i])
          if (s >= 0)
            in.slots.push_back(s);
        plan.inputs.push_back(std::move(in));
      }
    }
    for (const ir::Output& o : g.outputs())
      plan.outputs.push_back(ValueBinding{o.name, o.value, executorSlot(o.value)});
    if (g.loop() && g.loop()->stop)
      plan.stopSlot = executorSlot(g.loop()->stop);
    for (Guard& gd : plan.guards) {
      ir::ValueId cond = g.node(gd.select).operands[0];
      gd.backend = home[cond.index] == kNoBackend ? 0 : home[cond.index];
      gd.condSlot = executorSlot(cond);
    }
    for (size_t s = 0; s < plan.slots.size(); ++s)
      if (plan.slots[s].role == SlotRole::Constant)
        plan.constants.push_back(static_cast<int32_t>(s));
  }

  void positionsAndLiveness() {
    int32_t pos = 1;
    for (Step& s : plan.pre)
      s.position = pos++;
    const bool loop = g.loop().has_value();
    if (loop)
      plan.loopEntry = pos++;
    const int32_t bodyBegin = pos;
    for (Step& s : plan.body)
      s.position = pos++;
    if (loop)
      plan.loopEnd = pos++;
    for (Step& s : plan.post)
      s.position = pos++;
    plan.end = pos;

    const size_t n = plan.slots.size();
    std::vector<int32_t> def(n, INT32_MAX), last(n, -1);
    std::vector<bool> usedInBody(n, false);
    auto use = [&](int32_t s, int32_t p) {
      last[s] = std::max(last[s], p);
      if (loop && p >= bodyBegin && p <= plan.loopEnd)
        usedInBody[s] = true;
    };
    auto define = [&](int32_t s, int32_t p) { def[s] = std::min(def[s], p); };
    for (auto* steps : {&plan.pre, &plan.body, &plan.post})
      for (const Step& s : *steps) {
        define(s.out, s.position);
        for (int32_t m : s.moreOuts)
          if (m >= 0)
            define(m, s.position);
        if (s.kind == StepKind::Transfer)
          use(s.src, s.position);
        for (int32_t o : s.operands)
          use(o, s.position);
      }
    for (const InputBinding& in : plan.inputs)
      for (int32_t s : in.slots)
        define(s, 0);
    for (int32_t s : plan.constants) {
      define(s, 0);
      use(s, plan.end);
    }
    for (const CarryPlan& cp : plan.carries) {
      define(cp.cur, plan.loopEntry);
      define(cp.spare, plan.loopEntry);
      use(cp.init, plan.loopEntry);
      use(cp.cur, plan.loopEnd);
      if (cp.copyFrom >= 0)
        use(cp.copyFrom, plan.loopEnd);
    }
    for (const MonitorPlan& m : plan.monitors)
      use(m.slot, plan.loopEnd);
    if (plan.stopSlot >= 0)
      use(plan.stopSlot, plan.loopEnd);
    for (const ValueBinding& o : plan.outputs)
      use(o.slot, plan.end);
    for (size_t s = 0; s < n; ++s) {
      if (def[s] == INT32_MAX)
        def[s] = 0;
      // A value made before the body and read in it is read again by every stage.
      if (usedInBody[s] && def[s] < bodyBegin)
        last[s] = std::max(last[s], plan.loopEnd);
      last[s] = std::max(last[s], def[s]);
    }
    // The two slots of a carry trade places every stage: both live as long as either.
    for (const CarryPlan& cp : plan.carries) {
      int32_t e = std::max(last[cp.cur], last[cp.spare]);
      last[cp.cur] = last[cp.spare] = e;
    }
    for (size_t s = 0; s < n; ++s)
      plan.slots[s].live = LiveInterval{plan.slots[s].bytes, def[s], last[s]};
  }
};

} // namespace

ExecPlan buildExecPlan(const ir::Graph& g, std::span<Backend* const> backends,
                       const PrepareContext& context) {
  if (backends.empty() || backends.size() > kMaxBackends)
    throw std::invalid_argument("buildExecPlan: needs one or two backends");
  PlanBuilder b{g, backends, context, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  b.home.assign(g.size(), kNoBackend);
  b.consumers.assign(g.size(), {});
  b.slotOf.assign(g.size(), {-1, -1});
  b.claimedBy.assign(g.size(), -1);
  b.fusedOutputs.assign(g.size(), {});
  b.assignBackends();
  b.findLazyArms();
  b.findConsumers();
  b.claimCarries();
  b.emitSteps();
  b.bindings();
  b.positionsAndLiveness();
  return std::move(b.plan);
}

} // namespace podm
