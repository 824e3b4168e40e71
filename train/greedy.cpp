// The greedy training loop (see greedy.h): one TrainableNetwork per job, trained in turn on noisy
// crops, validated on fixed noisy images, checkpointed with everything a bit-exact resume needs.
#include "train/greedy.h"

#include "runtime/io/metrics.h"
#include "stdlib/nn/trainable_network.h"
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
#include <sstream>
#include <stdexcept>

namespace podm::train {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t mixSeed(uint64_t seed, uint64_t j) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (j + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

nn::HostTensor toHost(const Tensor& t) {
  const Shape& s = t.shape();
  nn::HostTensor h{{s.n, s.c, s.h, s.w}, std::vector<float>(t.data(), t.data() + t.numel())};
  return h;
}

Tensor fromHost(const std::string& name, const nn::HostTensor& h) {
  if (h.shape.size() != 4)
    throw CheckpointError("optimizer state '" + name + "' is not a 4-d tensor");
  Tensor t(Shape{h.shape[0], h.shape[1], h.shape[2], h.shape[3]});
  if (static_cast<size_t>(t.numel()) != h.data.size())
    throw CheckpointError("optimizer state '" + name + "' has the wrong size");
  std::memcpy(t.data(), h.data.data(), t.bytes());
  return t;
}

std::string netPrefix(size_t j) {
  return "net" + std::to_string(j) + "/";
}

// What a resumed run must share with the run that wrote the checkpoint for the batches and
// updates to be the same; --steps matters only when it shapes the schedule or the job boundaries.
std::string configText(const GreedyOptions& o) {
  std::ostringstream s;
  s << std::setprecision(17) << "crop=" << o.sampler.crop << " flips=" << o.sampler.flips
    << " rotations=" << o.sampler.rotations << " batch=" << o.batch << " optimizer=" << o.optimizer
    << " lr=" << o.lr << " schedule=" << o.lrSchedule << " clip=" << o.clipNorm
    << " loss=" << o.loss << " seed=" << o.seed << " train-images=" << o.trainImages.size();
  for (const GreedyJob& j : o.jobs)
    s << " sigma=" << j.sigmaLow << ":" << j.sigmaHigh;
  if (!o.initialWeightsName.empty())
    s << " init=" << o.initialWeightsName;
  if (o.lrSchedule != "constant" || o.jobs.size() > 1)
    s << " steps=" << o.steps << " seconds=" << o.seconds;
  return s.str();
}

std::unique_ptr<Optimizer> newOptimizer(const GreedyOptions& o) {
  OptimizerOptions opt;
  opt.lr.kind = parseSchedule(o.lrSchedule);
  opt.lr.base = o.lr;
  opt.lr.total = o.steps;
  opt.lr.stepSize = std::max<int64_t>(1, o.steps / 3);
  opt.clipNorm = o.clipNorm;
  return makeOptimizer(o.optimizer, opt);
}

Degradation noiseOf(const GreedyJob& j) {
  Degradation d;
  d.sigmaLow = j.sigmaLow;
  d.sigmaHigh = j.sigmaHigh;
  return d;
}

// Mean PSNR over the validation pairs: the network's output clamped to [0,1] (as it would be
// written), and the noisy input clamped the same way (the stricter baseline).
struct Figures {
  double noisy = 0, restored = 0;
};

Tensor clamped(const Tensor& t) {
  Tensor c = t.clone();
  for (int64_t i = 0; i < c.numel(); ++i)
    c.data()[i] = std::clamp(c.data()[i], 0.f, 1.f);
  return c;
}

Figures evaluate(nn::TrainableNetwork& net, const std::vector<Batch>& val) {
  Figures f;
  if (val.empty())
    return f;
  Tensor out;
  for (const Batch& b : val) {
    net.forward(b.degraded, out);
    f.restored += io::psnr(clamped(out), b.clean);
    f.noisy += io::psnr(clamped(b.degraded), b.clean);
  }
  f.restored /= static_cast<double>(val.size());
  f.noisy /= static_cast<double>(val.size());
  return f;
}

// The first non-finite gradient entry's parameter name, or empty.
std::string nonFiniteGrad(const ParameterList& params) {
  for (const Parameter* p : params) {
    const float* g = p->grad.data();
    for (int64_t i = 0; i < p->grad.numel(); ++i)
      if (!std::isfinite(g[i]))
        return p->name;
  }
  return {};
}

class Progress {
public:
  explicit Progress(const GreedyOptions& o) : o_(o) {
    every_ = o.logEvery > 0 ? o.logEvery : (o.valEvery > 0 ? o.valEvery : 50);
  }
  void step(const std::string& label, int64_t jobStep, int64_t total, double loss) {
    lossSum_ += loss;
    ++lossCount_;
    if (!o_.progress)
      return;
    auto now = Clock::now();
    double since = std::chrono::duration<double>(now - last_).count();
    bool due = o_.tty ? since > 0.2 : jobStep % every_ == 0;
    if (!due)
      return;
    std::ostringstream line;
    line << label << ": step " << jobStep;
    if (total > 0)
      line << "/" << total;
    line << std::setprecision(4) << "  loss " << lossSum_ / double(lossCount_);
    if (haveVal_)
      line << std::fixed << std::setprecision(2) << "  val " << val_.restored << " dB (noisy "
           << val_.noisy << ")";
    double rate = double(jobStep - lastStep_) / std::max(since, 1e-9);
    line << std::fixed << std::setprecision(2) << "  " << rate << " steps/s";
    if (o_.tty)
      *o_.progress << "\r" << line.str() << "\x1b[K" << std::flush;
    else
      *o_.progress << line.str() << "\n" << std::flush;
    last_ = now;
    lastStep_ = jobStep;
    lossSum_ = 0;
    lossCount_ = 0;
  }
  void validation(const Figures& f) {
    val_ = f;
    haveVal_ = true;
  }
  void newJob(int64_t startStep) {
    last_ = Clock::now();
    lastStep_ = startStep;
    haveVal_ = false;
  }
  // A line that must not be overwritten by the next \r update.
  void note(const std::string& text) {
    if (!o_.progress)
      return;
    *o_.progress << (o_.tty ? "\r\x1b[K" : "") << text << "\n" << std::flush;
  }

private:
  const GreedyOptions& o_;
  int64_t every_ = 50, lastStep_ = 0;
  Clock::time_point last_ = Clock::now();
  double lossSum_ = 0;
  int64_t lossCount_ = 0;
  Figures val_;
  bool haveVal_ = false;
};

std::string fmt(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << v;
  return s.str();
}

// The run's position and everything a checkpoint holds: every job's network, the optimizer and
// crop sampler of the job in progress, and where it stands (job, its step and time, all steps).
struct GreedyState {
  const GreedyOptions& o;
  const std::string config;
  std::vector<nn::TrainableNetwork> nets; // one per job
  size_t job = 0;
  int64_t jobStep = 0, totalStep = 0;
  double jobSeconds = 0;
  std::unique_ptr<Optimizer> opt;
  std::unique_ptr<BatchSampler> sampler;

  explicit GreedyState(const GreedyOptions& options)
      : o(options), config(configText(o)), opt(newOptimizer(o)) {
    for (size_t j = 0; j < o.jobs.size(); ++j) {
      nets.emplace_back(o.spec);
      if (o.initialWeights.empty())
        nets.back().initialize(mixSeed(o.seed, j));
      else
        nets.back().bind(o.initialWeights, o.prefix);
      std::string why;
      if (o.networkDevice && !nets.back().trainOn(*o.networkDevice, &why))
        throw std::runtime_error("the network cannot train on " + o.networkDevice->name() + ": " +
                                 why);
    }
    sampler = newSampler(0);
  }

  std::unique_ptr<BatchSampler> newSampler(size_t j) const {
    return std::make_unique<BatchSampler>(o.trainImages, o.sampler, noiseOf(o.jobs[j]),
                                          mixSeed(o.seed ^ 0x5a5a5a5a5a5a5a5aull, j));
  }

  nn::TensorMap allWeights() const {
    nn::TensorMap all;
    for (size_t j = 0; j < nets.size(); ++j)
      all.merge(nets[j].weights(netPrefix(j)));
    return all;
  }

  void save() const {
    if (o.checkpoint.empty())
      return;
    Checkpoint c;
    c.params = allWeights();
    for (const auto& [name, t] : opt->state())
      c.optimizer[name] = toHost(t);
    c.step = totalStep;
    c.rng = sampler->state();
    c.model = o.modelName;
    c.mode = "greedy";
    c.args = o.argsText;
    c.extra["config"] = config;
    c.extra["job"] = std::to_string(job);
    c.extra["job_step"] = std::to_string(jobStep);
    std::ostringstream secs;
    secs << std::setprecision(17) << jobSeconds;
    c.extra["job_seconds"] = secs.str();
    saveCheckpoint(o.checkpoint, c);
  }

  // Throws CheckpointError when the checkpoint is of another model or other settings.
  void resume() {
    const size_t jobs = nets.size();
    Checkpoint c = loadCheckpoint(o.checkpoint);
    checkCompatible(o.checkpoint, c, o.modelName, "greedy", allWeights());
    if (c.extra["config"] != config)
      throw CheckpointError(o.checkpoint + ": the checkpoint was made with other training " +
                            "settings; resume with the same options\n  checkpoint: " +
                            c.extra["config"] + "\n  this run:   " + config);
    for (size_t j = 0; j < jobs; ++j)
      nets[j].bind(c.params, netPrefix(j));
    try {
      job = static_cast<size_t>(std::stoull(c.extra.at("job")));
      jobStep = std::stoll(c.extra.at("job_step"));
      jobSeconds = std::stod(c.extra.at("job_seconds"));
    } catch (const std::exception&) {
      throw CheckpointError(o.checkpoint + ": checkpoint lacks its position (job, job_step)");
    }
    if (job > jobs)
      throw CheckpointError(o.checkpoint + ": checkpoint is at network " + std::to_string(job) +
                            " of " + std::to_string(jobs));
    totalStep = c.step;
    if (job < jobs) {
      sampler = newSampler(job);
      sampler->setState(c.rng);
    }
    StateMap state;
    for (const auto& [name, h] : c.optimizer)
      state[name] = fromHost(name, h);
    opt->loadState(state);
  }

  // The next network starts fresh: new optimizer, its own sample stream.
  void nextJob(size_t finished) {
    job = finished + 1;
    jobStep = 0;
    jobSeconds = 0;
    opt = newOptimizer(o);
    if (job < nets.size())
      sampler = newSampler(job);
  }
};

// One step's gradient for `net` over a fresh batch: the loss into `l`, the gradient into the
// params' grads. Returns why the step must not be taken (a non-finite loss or gradient), or an
// empty string.
std::string batchGradient(GreedyState& st, nn::TrainableNetwork& net, const ParameterList& params,
                          LossKind lossKind, Tensor& out, Tensor& grad, double& l) {
  Batch b = st.sampler->next(st.o.batch);
  net.zeroGrad();
  net.forward(b.degraded, out);
  l = loss(lossKind, out, b.clean, &grad);
  const int64_t stepNo = st.totalStep + 1;
  if (st.o.debugNanAtStep == stepNo)
    l = std::numeric_limits<double>::quiet_NaN();
  if (!std::isfinite(l))
    return "non-finite loss at step " + std::to_string(stepNo);
  net.backward(grad, nullptr);
  if (std::string p = nonFiniteGrad(params); !p.empty())
    return "non-finite gradient at step " + std::to_string(stepNo) + " (parameter " + p + ")";
  return "";
}

// The report of a finished network: its validation figures and trained weights.
JobReport jobReport(const GreedyOptions& o, const GreedyJob& spec, nn::TrainableNetwork& net,
                    const Figures& f) {
  JobReport report;
  report.label = spec.label;
  report.valNoisyPsnr = f.noisy;
  report.valPsnr = f.restored;
  report.weights = net.weights(o.prefix);
  return report;
}

} // namespace

GreedyResult trainGreedy(const GreedyOptions& o) {
  if (o.jobs.empty())
    throw std::invalid_argument("no network to train");
  if (o.steps <= 0 && o.seconds <= 0)
    throw std::invalid_argument("give a number of steps or a time bound");
  if (o.batch < 1)
    throw std::invalid_argument("the batch size must be at least 1");
  const LossKind lossKind = parseLoss(o.loss);
  const size_t jobs = o.jobs.size();
  const double jobSecondsBudget = o.seconds > 0 ? o.seconds / double(jobs) : 0;

  GreedyState st(o);
  Progress progress(o);
  if (o.resume && !o.checkpoint.empty()) {
    st.resume();
    progress.note(
        "resuming from " + o.checkpoint + " at step " + std::to_string(st.totalStep) +
        (jobs > 1 ? " (network " + std::to_string(st.job + 1) + " of " + std::to_string(jobs) + ")"
                  : ""));
  }

  GreedyResult result;
  Tensor out, grad;
  for (size_t j = 0; j < jobs; ++j) {
    nn::TrainableNetwork& net = st.nets[j];
    const GreedyJob& spec = o.jobs[j];
    std::vector<Batch> val = validationSet(o.valImages, o.valCrop, noiseOf(spec));
    if (j < st.job) { // finished before the checkpoint
      result.jobs.push_back(jobReport(o, spec, net, evaluate(net, val)));
      continue;
    }
    ParameterList params = net.parameters();
    progress.newJob(st.jobStep);
    auto stepsLeft = [&] {
      bool byStep = o.steps <= 0 || st.jobStep < o.steps;
      bool byTime = jobSecondsBudget <= 0 || st.jobSeconds < jobSecondsBudget;
      return byStep && byTime;
    };
    while (stepsLeft()) {
      if (o.stop && o.stop->load()) {
        st.save();
        result.status = GreedyResult::Status::Stopped;
        result.steps = st.totalStep;
        result.message = interruptedMessage(st.totalStep, o.checkpoint);
        progress.note(result.message);
        return result;
      }
      auto t0 = Clock::now();
      double l = 0;
      if (std::string bad = batchGradient(st, net, params, lossKind, out, grad, l); !bad.empty()) {
        result.status = GreedyResult::Status::NonFinite;
        result.steps = st.totalStep;
        result.message =
            bad +
            (o.checkpoint.empty() ? "" : "; " + o.checkpoint + " still holds the last good state");
        progress.note(result.message);
        return result;
      }
      st.opt->step(params);
      ++st.jobStep;
      ++st.totalStep;
      st.jobSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
      if (o.valEvery > 0 && st.jobStep % o.valEvery == 0)
        progress.validation(evaluate(net, val));
      progress.step(spec.label, st.jobStep, o.steps, l);
      if (o.checkpointEvery > 0 && st.totalStep % o.checkpointEvery == 0)
        st.save();
    }
    Figures f = evaluate(net, val);
    JobReport report = jobReport(o, spec, net, f);
    report.steps = st.jobStep;
    report.seconds = st.jobSeconds;
    progress.note(spec.label + ": " + std::to_string(st.jobStep) + " steps in " +
                  fmt(st.jobSeconds) + " s" +
                  (val.empty() ? ""
                               : ", validation PSNR " + fmt(f.restored) + " dB (noisy input " +
                                     fmt(f.noisy) + " dB, +" + fmt(f.restored - f.noisy) + " dB)"));
    result.jobs.push_back(std::move(report));
    st.nextJob(j);
  }
  st.save();
  result.steps = st.totalStep;
  return result;
}

} // namespace podm::train
