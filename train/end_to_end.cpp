// The end-to-end training loop (see end_to_end.h): a Tape over the CPU backend unrolls the model
// on each degraded crop, the loss's cotangent flows back to the params and network weights, and
// two optimizers (params; network unless frozen) update them.
#include "train/end_to_end.h"

#include "ir/attr.h"
#include "runtime/autodiff/tape.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/io/degrade.h"
#include "runtime/io/metrics.h"
#include "runtime/ir_types.h"
#include "train/checkpoint.h"
#include "train/loss.h"
#include "train/optimizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <limits>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>

namespace podm::train {
namespace {

using Clock = std::chrono::steady_clock;

nn::HostTensor toHost(const Tensor& t) {
  const Shape& s = t.shape();
  return nn::HostTensor{{s.n, s.c, s.h, s.w}, std::vector<float>(t.data(), t.data() + t.numel())};
}

void copyInto(const std::string& what, const nn::HostTensor& h, Tensor& t) {
  if (static_cast<size_t>(t.numel()) != h.data.size())
    throw CheckpointError("checkpoint tensor '" + what + "' has the wrong size");
  std::memcpy(t.data(), h.data.data(), t.bytes());
}

Tensor fromHost(const std::string& name, const nn::HostTensor& h) {
  if (h.shape.size() != 4)
    throw CheckpointError("optimizer state '" + name + "' is not a 4-d tensor");
  Tensor t(Shape{h.shape[0], h.shape[1], h.shape[2], h.shape[3]});
  copyInto(name, h, t);
  return t;
}

std::string configText(const EndToEndOptions& o) {
  std::ostringstream s;
  s << std::setprecision(17) << "crop=" << o.sampler.crop << " flips=" << o.sampler.flips
    << " rotations=" << o.sampler.rotations << " batch=" << o.batch << " optimizer=" << o.optimizer
    << " lr=" << o.lr << " net-lr=" << o.netLr << " freeze-net=" << o.freezeNet
    << " schedule=" << o.lrSchedule << " clip=" << o.clipNorm << " loss=" << o.loss
    << " seed=" << o.seed << " sigma=" << o.sigma255 << " kernels=" << o.kernels.size()
    << " train-images=" << o.trainImages.size();
  if (o.lrSchedule != "constant")
    s << " steps=" << o.steps;
  return s.str();
}

std::unique_ptr<Optimizer> newOptimizer(const EndToEndOptions& o, double lr) {
  OptimizerOptions opt;
  opt.lr.kind = parseSchedule(o.lrSchedule);
  opt.lr.base = lr;
  opt.lr.total = o.steps;
  opt.lr.stepSize = std::max<int64_t>(1, o.steps / 3);
  opt.clipNorm = o.clipNorm;
  return makeOptimizer(o.optimizer, opt);
}

Tensor clamped(const Tensor& t) {
  Tensor c = t.clone();
  for (int64_t i = 0; i < c.numel(); ++i)
    c.data()[i] = std::clamp(c.data()[i], 0.f, 1.f);
  return c;
}

std::string nonFiniteGrad(const ParameterList& params) {
  for (const Parameter* p : params)
    for (int64_t i = 0; i < p->grad.numel(); ++i)
      if (!std::isfinite(p->grad.data()[i]))
        return p->name;
  return {};
}

std::string fmt(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << v;
  return s.str();
}

// One degraded sample with the inputs the model takes.
struct Sample {
  Tensor clean;
  std::map<std::string, Tensor> inputs;
};

class Trainer {
public:
  explicit Trainer(const EndToEndOptions& o) : o_(o) {}

  autodiff::Tape& tapeFor(int64_t h, int64_t w) {
    auto key = std::make_pair(h, w);
    auto it = tapes_.find(key);
    if (it != tapes_.end())
      return *it->second;
    autodiff::TapeOptions t{o_.prox, o_.network, {o_.observation, o_.kernel}};
    if (!o_.sigmaInput.empty())
      t.noGradient.insert(o_.sigmaInput);
    ir::Graph g = o_.lowerFor(h, w);
    if (params_.empty())
      collectParams(g);
    auto tape = std::make_unique<autodiff::Tape>(std::move(g), cpu_, t);
    return *tapes_.emplace(key, std::move(tape)).first->second;
  }

  Sample degrade(const Tensor& clean, size_t kernelIndex, uint64_t noiseSeed) const {
    Sample s;
    s.clean = clean;
    const Tensor& k = o_.kernels[kernelIndex];
    Tensor obs = io::blur(clean, k, numerics::Boundary::Periodic);
    if (o_.sigma255 > 0)
      obs = io::addGaussianNoise(obs, o_.sigma255 / 255.0, noiseSeed);
    s.inputs[o_.observation] = obs;
    s.inputs[o_.kernel] = k;
    if (!o_.sigmaInput.empty()) {
      Tensor sg(Shape{1, 1, 1, 1});
      sg.data()[0] = static_cast<float>(o_.sigma255 / 255.0);
      s.inputs[o_.sigmaInput] = sg;
    }
    return s;
  }

  std::map<std::string, Tensor> paramValues() const {
    std::map<std::string, Tensor> m;
    for (const auto& [name, p] : params_)
      m[name] = p.value;
    return m;
  }

  Tensor run(const Sample& s) {
    const Shape& sh = s.clean.shape();
    autodiff::Tape& tape = tapeFor(sh.h, sh.w);
    RunResult r = tape.forward(s.inputs, paramValues());
    auto out = r.outputs.find(o_.variable);
    if (out == r.outputs.end())
      throw std::invalid_argument("the model has no output '" + o_.variable + "'");
    return out->second;
  }

  // The loss of one sample; adds d(loss/batch)/dθ into the params' and networks' grads.
  double lossAndGrad(const Sample& s, LossKind kind, double scale) {
    Tensor out = run(s);
    Tensor grad;
    double l = loss(kind, out, s.clean, &grad);
    if (!std::isfinite(l))
      return l;
    for (int64_t i = 0; i < grad.numel(); ++i)
      grad.data()[i] = static_cast<float>(grad.data()[i] * scale);
    const Shape& sh = s.clean.shape();
    std::map<std::string, Tensor> g = tapeFor(sh.h, sh.w).backward({{o_.variable, grad}});
    for (auto& [name, p] : params_) {
      auto it = g.find(name);
      if (it == g.end())
        continue;
      for (int64_t i = 0; i < p.grad.numel(); ++i)
        p.grad.data()[i] += it->second.data()[i];
    }
    return l;
  }

  ParameterList paramList() {
    ParameterList l;
    for (auto& [name, p] : params_)
      l.push_back(&p);
    return l;
  }

  std::map<std::string, Parameter>& params() { return params_; }

private:
  void collectParams(const ir::Graph& g) {
    for (const ir::Node& n : g.nodes()) {
      if (n.op != ir::Op::Param)
        continue;
      Parameter p;
      p.name = n.attrs.getString("name");
      p.value = Tensor(toShape(n.type));
      auto given = o_.initialParams.find(p.name);
      if (given != o_.initialParams.end()) {
        if (given->second.numel() != p.value.numel())
          throw std::invalid_argument("param '" + p.name + "': the start value has " +
                                      std::to_string(given->second.numel()) + " values, the " +
                                      "model's param " + std::to_string(p.value.numel()));
        std::memcpy(p.value.data(), given->second.data(), p.value.bytes());
      } else {
        std::span<const float> init = n.attrs.getData("value").values();
        std::copy(init.begin(), init.end(), p.value.data());
      }
      p.grad = Tensor(p.value.shape());
      p.grad.fill(0.f);
      params_.emplace(p.name, std::move(p));
    }
  }

  const EndToEndOptions& o_;
  cpu::CpuBackend cpu_;
  std::map<std::pair<int64_t, int64_t>, std::unique_ptr<autodiff::Tape>> tapes_;
  std::map<std::string, Parameter> params_;
};

struct Figures {
  double psnr = 0, ssim = 0;
};

Figures evaluate(Trainer& t, const std::vector<Sample>& val) {
  Figures f;
  for (const Sample& s : val) {
    Tensor out = clamped(t.run(s));
    f.psnr += io::psnr(out, s.clean);
    f.ssim += io::ssim(out, s.clean);
  }
  const double n = std::max<double>(1, static_cast<double>(val.size()));
  f.psnr /= n;
  f.ssim /= n;
  return f;
}

// The validation set, fixed for the whole run: centre crops, kernel i mod K, noise seeded by the
// position. obsPsnr gets the observations' mean PSNR, the figure training must beat.
std::vector<Sample> validationSamples(Trainer& trainer, const EndToEndOptions& o, double& obsPsnr) {
  std::vector<Sample> val;
  obsPsnr = 0;
  for (size_t i = 0; const Batch& b : validationSet(o.valImages, o.valCrop, Degradation{})) {
    val.push_back(trainer.degrade(b.clean, i % o.kernels.size(), 0x7e57ull + i));
    obsPsnr += io::psnr(clamped(val.back().inputs.at(o.observation)), b.clean);
    ++i;
  }
  if (!val.empty())
    obsPsnr /= double(val.size());
  return val;
}

std::string netKey(const std::string& n) {
  return "net/" + n;
}

// What a checkpoint holds and a resumed run restores: the trained values, both optimizers' state,
// the crop sampler's and the degradation's generators, the step count and the elapsed time.
struct LoopState {
  const EndToEndOptions& o;
  const std::string config;
  ParameterList params, netParams;
  std::unique_ptr<Optimizer> opt, netOpt;
  BatchSampler sampler;
  std::mt19937_64 rng;
  int64_t step = 0;
  double seconds = 0;

  LoopState(const EndToEndOptions& options, std::string configText, ParameterList trained,
            ParameterList netTrained)
      : o(options), config(std::move(configText)), params(std::move(trained)),
        netParams(std::move(netTrained)), opt(newOptimizer(o, o.lr)),
        netOpt(newOptimizer(o, o.netLr)),
        sampler(o.trainImages, o.sampler, Degradation{}, o.seed ^ 0x5a5a5a5a5a5a5a5aull),
        rng(o.seed * 0x9e3779b97f4a7c15ull + 17) {}

  void save() {
    if (o.checkpoint.empty())
      return;
    Checkpoint c;
    for (Parameter* p : params)
      c.params[p->name] = toHost(p->value);
    for (Parameter* p : netParams)
      c.params[netKey(p->name)] = toHost(p->value);
    for (const auto& [name, t] : opt->state())
      c.optimizer["params:" + name] = toHost(t);
    for (const auto& [name, t] : netOpt->state())
      c.optimizer["net:" + name] = toHost(t);
    c.step = step;
    c.rng = sampler.state();
    c.model = o.modelName;
    c.mode = "e2e";
    c.args = o.argsText;
    c.extra["config"] = config;
    std::ostringstream r, secs;
    r << rng;
    secs << std::setprecision(17) << seconds;
    c.extra["degrade_rng"] = r.str();
    c.extra["seconds"] = secs.str();
    saveCheckpoint(o.checkpoint, c);
  }

  // Throws CheckpointError when the checkpoint is of another model or other settings.
  void resume() {
    Checkpoint c = loadCheckpoint(o.checkpoint);
    nn::TensorMap expected;
    for (Parameter* p : params)
      expected[p->name] = toHost(p->value);
    for (Parameter* p : netParams)
      expected[netKey(p->name)] = toHost(p->value);
    checkCompatible(o.checkpoint, c, o.modelName, "e2e", expected);
    if (c.extra["config"] != config)
      throw CheckpointError(o.checkpoint + ": the checkpoint was made with other training " +
                            "settings; resume with the same options\n  checkpoint: " +
                            c.extra["config"] + "\n  this run:   " + config);
    for (Parameter* p : params)
      copyInto(p->name, c.params.at(p->name), p->value);
    for (Parameter* p : netParams)
      copyInto(p->name, c.params.at(netKey(p->name)), p->value);
    StateMap ps, ns;
    for (const auto& [name, h] : c.optimizer) {
      if (name.rfind("params:", 0) == 0)
        ps[name.substr(7)] = fromHost(name, h);
      else if (name.rfind("net:", 0) == 0)
        ns[name.substr(4)] = fromHost(name, h);
    }
    opt->loadState(ps);
    netOpt->loadState(ns);
    sampler.setState(c.rng);
    std::istringstream r(c.extra["degrade_rng"]);
    r >> rng;
    if (r.fail())
      throw CheckpointError(o.checkpoint + ": checkpoint lacks the degradation generator state");
    step = c.step;
    try {
      seconds = std::stod(c.extra.at("seconds"));
    } catch (const std::exception&) {
      throw CheckpointError(o.checkpoint + ": checkpoint lacks its elapsed time");
    }
  }
};

// One step's gradient: the mean loss over a fresh batch (each crop with a random kernel and noise)
// into `loss`, its gradient into the params' and networks' grads. Returns why the step must not
// be taken (a non-finite loss or gradient), or an empty string.
std::string batchGradient(Trainer& trainer, LoopState& st, LossKind lossKind,
                          std::uniform_int_distribution<size_t>& pickKernel, double& loss) {
  const EndToEndOptions& o = st.o;
  Batch b = st.sampler.next(o.batch);
  Optimizer::zeroGrad(st.params);
  Optimizer::zeroGrad(st.netParams);
  const int64_t stepNo = st.step + 1;
  loss = 0;
  for (int64_t i = 0; i < o.batch; ++i) {
    size_t k = pickKernel(st.rng);
    uint64_t noiseSeed = st.rng();
    Sample s = trainer.degrade(sample(b.clean, i), k, noiseSeed);
    double li = trainer.lossAndGrad(s, lossKind, 1.0 / double(o.batch));
    if (o.debugNanAtStep == stepNo)
      li = std::numeric_limits<double>::quiet_NaN();
    loss += li / double(o.batch);
    if (!std::isfinite(li))
      return "non-finite loss at step " + std::to_string(stepNo);
  }
  std::string p = nonFiniteGrad(st.params);
  if (p.empty() && !o.freezeNet)
    p = nonFiniteGrad(st.netParams);
  if (!p.empty())
    return "non-finite gradient at step " + std::to_string(stepNo) + " (parameter " + p + ")";
  return "";
}

// The final figures and the trained params' values.
void finish(const LoopState& st, const Figures& init, const Figures& f, double obsPsnr,
            EndToEndResult& result) {
  result.steps = st.step;
  result.seconds = st.seconds;
  result.valObsPsnr = obsPsnr;
  result.valInitPsnr = init.psnr;
  result.valInitSsim = init.ssim;
  result.valPsnr = f.psnr;
  result.valSsim = f.ssim;
  for (Parameter* p : st.params) {
    result.params[p->name] = p->value.clone();
    result.weights[p->name] = toHost(p->value);
  }
}

} // namespace

EndToEndResult trainEndToEnd(const EndToEndOptions& o) {
  if (o.steps <= 0 && o.seconds <= 0)
    throw std::invalid_argument("give a number of steps or a time bound");
  if (o.batch < 1)
    throw std::invalid_argument("the batch size must be at least 1");
  if (o.kernels.empty())
    throw std::invalid_argument("end-to-end training needs at least one blur kernel");
  if (!o.lowerFor)
    throw std::invalid_argument("no model to train");
  const LossKind lossKind = parseLoss(o.loss);
  std::string config = configText(o);

  Trainer trainer(o);
  trainer.tapeFor(o.sampler.crop, o.sampler.crop); // builds the networks and the params
  ParameterList params = trainer.paramList();
  ParameterList netParams = o.networkParameters ? o.networkParameters() : ParameterList{};
  if (params.empty() && (o.freezeNet || netParams.empty()))
    throw std::invalid_argument("the model has nothing to train end to end (no param and no "
                                "trainable network)");

  double obsPsnr = 0;
  const std::vector<Sample> val = validationSamples(trainer, o, obsPsnr);
  LoopState st(o, std::move(config), std::move(params), std::move(netParams));

  auto note = [&](const std::string& text) {
    if (o.progress)
      *o.progress << (o.tty ? "\r\x1b[K" : "") << text << "\n" << std::flush;
  };

  Figures init = evaluate(trainer, val);
  if (o.resume && !o.checkpoint.empty()) {
    st.resume();
    note("resuming from " + o.checkpoint + " at step " + std::to_string(st.step));
  }
  if (!val.empty())
    note("validation at the start values: PSNR " + fmt(init.psnr) + " dB, SSIM " +
         std::to_string(init.ssim).substr(0, 6) + " (observation " + fmt(obsPsnr) + " dB)");

  EndToEndResult result;
  const int64_t every = o.logEvery > 0 ? o.logEvery : (o.valEvery > 0 ? o.valEvery : 10);
  double lossSum = 0;
  int64_t lossCount = 0;
  auto stepsLeft = [&] {
    return (o.steps <= 0 || st.step < o.steps) && (o.seconds <= 0 || st.seconds < o.seconds);
  };
  std::uniform_int_distribution<size_t> pickKernel(0, o.kernels.size() - 1);
  while (stepsLeft()) {
    if (o.stop && o.stop->load()) {
      st.save();
      result.status = EndToEndResult::Status::Stopped;
      result.steps = st.step;
      result.message = interruptedMessage(st.step, o.checkpoint);
      note(result.message);
      return result;
    }
    auto t0 = Clock::now();
    double l = 0;
    std::string bad = batchGradient(trainer, st, lossKind, pickKernel, l);
    if (!bad.empty()) {
      result.status = EndToEndResult::Status::NonFinite;
      result.steps = st.step;
      result.message =
          bad +
          (o.checkpoint.empty() ? "" : "; " + o.checkpoint + " still holds the last good state");
      note(result.message);
      return result;
    }
    if (!st.params.empty())
      st.opt->step(st.params);
    if (!o.freezeNet && !st.netParams.empty())
      st.netOpt->step(st.netParams);
    ++st.step;
    st.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    lossSum += l;
    ++lossCount;
    std::string valText;
    if (o.valEvery > 0 && st.step % o.valEvery == 0 && !val.empty()) {
      Figures f = evaluate(trainer, val);
      valText = "  val " + fmt(f.psnr) + " dB SSIM " + std::to_string(f.ssim).substr(0, 6);
    }
    if (o.progress && (st.step % every == 0 || !valText.empty())) {
      std::ostringstream line;
      line << "e2e: step " << st.step;
      if (o.steps > 0)
        line << "/" << o.steps;
      line << std::setprecision(4) << "  loss " << lossSum / double(lossCount) << valText
           << std::fixed << std::setprecision(1) << "  " << st.seconds << " s";
      *o.progress << (o.tty ? "\r" : "") << line.str() << (o.tty ? "\x1b[K" : "\n") << std::flush;
      lossSum = 0;
      lossCount = 0;
    }
    if (o.checkpointEvery > 0 && st.step % o.checkpointEvery == 0)
      st.save();
  }
  st.save();
  Figures f = evaluate(trainer, val);
  finish(st, init, f, obsPsnr, result);
  note("e2e: " + std::to_string(st.step) + " steps in " + fmt(st.seconds) + " s" +
       (val.empty() ? ""
                    : ", validation PSNR " + fmt(f.psnr) + " dB SSIM " +
                          std::to_string(f.ssim).substr(0, 6) + " (start values " + fmt(init.psnr) +
                          " dB SSIM " + std::to_string(init.ssim).substr(0, 6) + ", observation " +
                          fmt(obsPsnr) + " dB)"));
  return result;
}

} // namespace podm::train
