// First-order optimizers over ParameterLists (runtime/parameter.h): the learning-rate schedule
// (constant, step decay or cosine, each with linear warmup), decoupled weight decay (AdamW
// style: value -= lr·wd·value before the update, so decay does not pass through Adam's
// normalisation), global-norm gradient clipping, and the per-parameter state that checkpoints
// save. Adam and SGD with (optionally Nesterov) momentum follow PyTorch's update rules, so
// hyper-parameters from the literature transfer unchanged.
#pragma once

#include "runtime/parameter.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace podm::train {

// Optimizer state for checkpoints: "<kind>.<slot>.<parameter name>" → tensor, plus
// "optimizer.step" (the step count).
using StateMap = std::map<std::string, Tensor>;

enum class ScheduleKind { Constant, Step, Cosine };

struct LrSchedule {
  ScheduleKind kind = ScheduleKind::Constant;
  double base = 1e-3;      // peak learning rate
  int64_t warmup = 0;      // steps of linear warmup from base/warmup up to base
  int64_t stepSize = 1000; // Step: multiply by gamma every stepSize steps (after warmup)
  double gamma = 0.1;
  int64_t total = 0; // Cosine: steps from the end of warmup to minLr (then stays there)
  double minLr = 0;  // Cosine floor
  // The learning rate used by update number `step` (0-based, counting completed steps).
  double at(int64_t step) const;
};
// "constant", "step", "cosine"; throws std::invalid_argument naming the text otherwise.
ScheduleKind parseSchedule(const std::string& text);

struct OptimizerOptions {
  LrSchedule lr;
  double weightDecay = 0; // decoupled, multiplied by the current learning rate
  double clipNorm = 0;    // global L2 norm of all gradients is clipped to this; 0 = off
};

class Optimizer {
public:
  explicit Optimizer(OptimizerOptions options);
  virtual ~Optimizer();

  // One update of every parameter from its grad: clip (when on; the grads are scaled in place),
  // decay, the rule at lr = schedule.at(steps()), then steps() + 1. Returns the global gradient
  // norm before clipping. Throws std::invalid_argument when a grad's shape differs from its
  // value's or two parameters share a name.
  double step(const ParameterList& params);
  static void zeroGrad(const ParameterList& params);

  int64_t steps() const { return step_; }
  double learningRate() const { return options_.lr.at(step_); } // of the next step
  const OptimizerOptions& options() const { return options_; }

  // Everything needed to resume bit-identically: the step count and the rule's slots.
  StateMap state() const;
  // Replaces the state; throws std::invalid_argument naming the entry for a tensor of another
  // optimizer kind or a malformed step count. Slots are matched to parameters by name at the
  // next step (a shape mismatch then throws).
  void loadState(const StateMap& state);

  virtual std::string kind() const = 0; // "adam", "sgd"

protected:
  // Applies the rule to one parameter (grad already clipped, value already decayed).
  virtual void update(Parameter& p, double lr, int64_t t) = 0;
  // Named slot tensors of this rule ("m", "v", "momentum") per parameter name.
  std::map<std::string, std::map<std::string, Tensor>> slots_;

private:
  OptimizerOptions options_;
  int64_t step_ = 0;
};

struct AdamOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

class Adam final : public Optimizer {
public:
  Adam(OptimizerOptions options, AdamOptions adam = {});
  std::string kind() const override { return "adam"; }

private:
  void update(Parameter& p, double lr, int64_t t) override;
  AdamOptions adam_;
};

struct SgdOptions {
  double momentum = 0.9; // 0 = plain SGD
  bool nesterov = false;
};

class Sgd final : public Optimizer {
public:
  Sgd(OptimizerOptions options, SgdOptions sgd = {});
  std::string kind() const override { return "sgd"; }

private:
  void update(Parameter& p, double lr, int64_t t) override;
  SgdOptions sgd_;
};

// "adam" or "sgd" with default rule options; throws std::invalid_argument otherwise.
std::unique_ptr<Optimizer> makeOptimizer(const std::string& kind, OptimizerOptions options);

} // namespace podm::train
