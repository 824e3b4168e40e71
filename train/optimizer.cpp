// Optimizers (see optimizer.h): the shared step (clipping, schedule, decoupled decay, state) and
// the Adam and SGD rules. Updates run in float on the parameter storage with double scalars, the
// arithmetic PyTorch uses, so a reference written from its documentation agrees to rounding.
#include "train/optimizer.h"

#include <cmath>
#include <set>
#include <stdexcept>

namespace podm::train {

namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kLowBits = int64_t(1) << 24; // floats hold integers exactly below 2^24
} // namespace

double LrSchedule::at(int64_t step) const {
  if (warmup > 0 && step < warmup)
    return base * double(step + 1) / double(warmup);
  int64_t t = step - std::max<int64_t>(warmup, 0);
  switch (kind) {
  case ScheduleKind::Constant:
    return base;
  case ScheduleKind::Step:
    return base * std::pow(gamma, double(t / std::max<int64_t>(stepSize, 1)));
  case ScheduleKind::Cosine: {
    if (total <= 0 || t >= total)
      return total <= 0 ? base : minLr;
    return minLr + 0.5 * (base - minLr) * (1.0 + std::cos(kPi * double(t) / double(total)));
  }
  }
  return base;
}

ScheduleKind parseSchedule(const std::string& text) {
  if (text == "constant")
    return ScheduleKind::Constant;
  if (text == "step")
    return ScheduleKind::Step;
  if (text == "cosine")
    return ScheduleKind::Cosine;
  throw std::invalid_argument("unknown learning-rate schedule '" + text +
                              "' (expected constant, step or cosine)");
}

Optimizer::Optimizer(OptimizerOptions options) : options_(std::move(options)) {
  if (!(options_.lr.base > 0))
    throw std::invalid_argument("optimizer: the learning rate must be positive");
  if (options_.weightDecay < 0 || options_.clipNorm < 0)
    throw std::invalid_argument("optimizer: weight decay and clip norm must not be negative");
}
Optimizer::~Optimizer() = default;

void Optimizer::zeroGrad(const ParameterList& params) {
  for (Parameter* p : params)
    if (!p->grad.empty())
      p->grad.fill(0.0f);
}

double Optimizer::step(const ParameterList& params) {
  std::set<std::string> names;
  double sq = 0;
  for (const Parameter* p : params) {
    if (!names.insert(p->name).second)
      throw std::invalid_argument("optimizer: two parameters are named '" + p->name + "'");
    if (p->value.empty() || p->grad.empty() || !(p->grad.shape() == p->value.shape()))
      throw std::invalid_argument("optimizer: parameter '" + p->name + "' has value " +
                                  p->value.shape().str() + " but grad " +
                                  (p->grad.empty() ? "none" : p->grad.shape().str()));
    const float* g = p->grad.data();
    for (int64_t i = 0; i < p->grad.numel(); ++i)
      sq += double(g[i]) * double(g[i]);
  }
  double norm = std::sqrt(sq);
  if (options_.clipNorm > 0 && norm > options_.clipNorm) {
    // PyTorch's clip_grad_norm_: the small epsilon keeps a tiny norm from blowing up the scale.
    float scale = float(options_.clipNorm / (norm + 1e-6));
    for (Parameter* p : params) {
      float* g = p->grad.data();
      for (int64_t i = 0; i < p->grad.numel(); ++i)
        g[i] *= scale;
    }
  }
  double lr = options_.lr.at(step_);
  for (Parameter* p : params) {
    if (options_.weightDecay > 0) {
      float keep = float(1.0 - lr * options_.weightDecay);
      float* v = p->value.data();
      for (int64_t i = 0; i < p->value.numel(); ++i)
        v[i] *= keep;
    }
    update(*p, lr, step_ + 1);
  }
  ++step_;
  return norm;
}

StateMap Optimizer::state() const {
  StateMap out;
  Tensor s(Shape{1, 1, 1, 2});
  s.data()[0] = float(step_ % kLowBits);
  s.data()[1] = float(step_ / kLowBits);
  out["optimizer.step"] = s;
  for (const auto& [param, slots] : slots_)
    for (const auto& [slot, t] : slots)
      out[kind() + "." + slot + "." + param] = t.clone();
  return out;
}

void Optimizer::loadState(const StateMap& state) {
  auto it = state.find("optimizer.step");
  if (it == state.end() || it->second.numel() != 2 || it->second.dtype() != DType::F32)
    throw std::invalid_argument("optimizer state: missing or malformed 'optimizer.step'");
  double lo = it->second.data()[0], hi = it->second.data()[1];
  if (lo < 0 || hi < 0 || lo >= double(kLowBits) || lo != std::floor(lo) || hi != std::floor(hi))
    throw std::invalid_argument("optimizer state: 'optimizer.step' is not a step count");
  std::map<std::string, std::map<std::string, Tensor>> slots;
  std::string mine = kind() + ".";
  for (const auto& [name, t] : state) {
    if (name == "optimizer.step")
      continue;
    size_t dot = name.find('.', mine.size());
    if (name.compare(0, mine.size(), mine) != 0 || dot == std::string::npos ||
        dot + 1 >= name.size())
      throw std::invalid_argument("optimizer state: entry '" + name + "' is not " + kind() +
                                  " state ('" + mine + "<slot>.<parameter>')");
    slots[name.substr(dot + 1)][name.substr(mine.size(), dot - mine.size())] = t.clone();
  }
  slots_ = std::move(slots);
  step_ = int64_t(hi) * kLowBits + int64_t(lo);
}

namespace {

// The slot `slot` of parameter `p`, created zero on first use; a loaded slot of another shape
// means the checkpoint belongs to another model.
Tensor& slotOf(std::map<std::string, std::map<std::string, Tensor>>& slots, const Parameter& p,
               const std::string& slot) {
  Tensor& t = slots[p.name][slot];
  if (t.empty())
    t = Tensor(p.value.shape());
  else if (!(t.shape() == p.value.shape()))
    throw std::invalid_argument("optimizer state: slot '" + slot + "' of '" + p.name +
                                "' has shape " + t.shape().str() + " but the parameter " +
                                p.value.shape().str());
  return t;
}

} // namespace

Adam::Adam(OptimizerOptions options, AdamOptions adam)
    : Optimizer(std::move(options)), adam_(adam) {
  if (!(adam_.beta1 >= 0 && adam_.beta1 < 1 && adam_.beta2 >= 0 && adam_.beta2 < 1 &&
        adam_.eps > 0))
    throw std::invalid_argument("adam: betas must lie in [0, 1) and eps must be positive");
}

void Adam::update(Parameter& p, double lr, int64_t t) {
  float* m = slotOf(slots_, p, "m").data();
  float* v = slotOf(slots_, p, "v").data();
  float* x = p.value.data();
  const float* g = p.grad.data();
  float b1 = float(adam_.beta1), b2 = float(adam_.beta2);
  double c1 = 1.0 - std::pow(adam_.beta1, double(t));
  double c2 = 1.0 - std::pow(adam_.beta2, double(t));
  float stepSize = float(lr / c1), rootC2 = float(std::sqrt(c2)), eps = float(adam_.eps);
  for (int64_t i = 0; i < p.value.numel(); ++i) {
    m[i] = b1 * m[i] + (1.0f - b1) * g[i];
    v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
    x[i] -= stepSize * m[i] / (std::sqrt(v[i]) / rootC2 + eps);
  }
}

Sgd::Sgd(OptimizerOptions options, SgdOptions sgd) : Optimizer(std::move(options)), sgd_(sgd) {
  if (!(sgd_.momentum >= 0 && sgd_.momentum < 1))
    throw std::invalid_argument("sgd: momentum must lie in [0, 1)");
  if (sgd_.nesterov && sgd_.momentum == 0)
    throw std::invalid_argument("sgd: Nesterov needs a positive momentum");
}

void Sgd::update(Parameter& p, double lr, int64_t /*t*/) {
  float* x = p.value.data();
  const float* g = p.grad.data();
  float rate = float(lr);
  if (sgd_.momentum == 0) {
    for (int64_t i = 0; i < p.value.numel(); ++i)
      x[i] -= rate * g[i];
    return;
  }
  float mu = float(sgd_.momentum);
  float* b = slotOf(slots_, p, "momentum").data();
  // The buffer starts at zero, so the first step sets it to the gradient, as PyTorch does.
  for (int64_t i = 0; i < p.value.numel(); ++i) {
    b[i] = mu * b[i] + g[i];
    x[i] -= rate * (sgd_.nesterov ? g[i] + mu * b[i] : b[i]);
  }
}

std::unique_ptr<Optimizer> makeOptimizer(const std::string& kind, OptimizerOptions options) {
  if (kind == "adam")
    return std::make_unique<Adam>(std::move(options));
  if (kind == "sgd")
    return std::make_unique<Sgd>(std::move(options));
  throw std::invalid_argument("unknown optimizer '" + kind + "' (expected adam or sgd)");
}

} // namespace podm::train
