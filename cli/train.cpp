// `podm train MODEL --data DIR --mode greedy ...`: learns the model's network A from a folder of
// clean images (train/). The model is checked and lowered with placeholder input sizes only to
// read its `network` node: the architecture, the per-stage weight files and the tensor prefix,
// so training writes exactly the files and names `podm run` later reads.
//
// Greedy mode groups the distinct weight files of A by the noise level of their stages (one
// --sigma for all, or a model schedule, `sigma` unless --sigma-schedule names another, 0-255
// scale, one entry per stage) and trains one denoiser per level (train/greedy.h), each from He
// initialisation or from the network in --init-from. SIGINT/SIGTERM only set a flag: the loop saves
// a checkpoint at the next step boundary and the verb exits 130.
#include "cli/options.h"
#include "cli/verbs.h"
#include "engine/device.h"
#include "engine/param_binding.h"
#include "engine/stdlib_prox_provider.h"
#include "engine/trainable_network_provider.h"
#include "ir/attr.h"
#include "runtime/io/atomic_file.h"
#include "runtime/network_provider.h"
#include "stdlib/nn/safetensors.h"
#include "stdlib/nn/spec_text.h"
#include "stdlib/nn/trainable_network.h"
#include "stdlib/nn/weights.h"
#include "train/checkpoint.h"
#include "train/end_to_end.h"
#include "train/greedy.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

namespace podm::cli {
namespace {

constexpr const char* kVerb = "train";
constexpr int kInterrupted = 130;

std::atomic<bool> gStop{false};

extern "C" void onStopSignal(int) {
  gStop.store(true);
}

void installStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = onStopSignal;
  sa.sa_flags = SA_RESETHAND; // a second Ctrl-C ends the run at once, without a checkpoint
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int dataError(const std::string& message) {
  std::cerr << "podm train: error: " << message << "\n";
  return kModelError;
}

struct Args {
  std::string model, data, mode = "greedy", net, sigma, val, checkpoint, output, kernels;
  std::string sigmaScheduleName = "sigma", initFrom;
  std::string optimizer = "adam", schedule = "constant", loss = "l2", device = "cpu";
  long long crop = 40, batch = 16, steps = 0, seed = 0, valEvery = 0, valCount = -1, valCrop = 128,
            checkpointEvery = 0, logEvery = 0, debugNanAt = 0;
  double seconds = 0, lr = 1e-3, clip = 0, netLr = 1e-4;
  bool resume = false, noAugment = false, freezeNet = false;
};

// Returns kOk or the usage-error status (message printed).
int parseArgs(const std::vector<std::string>& args, Args& a) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& k = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size())
        return false;
      out = args[++i];
      return true;
    };
    auto integer = [&](long long& out, long long lo, long long hi) {
      std::string v;
      return value(v) && parseInt(v, lo, hi, out);
    };
    auto real = [&](double& out, double lo) {
      std::string v;
      return value(v) && parseDouble(v, out) && out >= lo;
    };
    const long long big = 1LL << 40;
    bool ok = true;
    if (k == "--data")
      ok = value(a.data);
    else if (k == "--mode")
      ok = value(a.mode);
    else if (k == "--net")
      ok = value(a.net);
    else if (k == "--sigma")
      ok = value(a.sigma);
    else if (k == "--sigma-schedule")
      ok = value(a.sigmaScheduleName) && !a.sigmaScheduleName.empty();
    else if (k == "--init-from")
      ok = value(a.initFrom) && !a.initFrom.empty();
    else if (k == "--crop")
      ok = integer(a.crop, 1, 4096);
    else if (k == "--batch")
      ok = integer(a.batch, 1, 4096);
    else if (k == "--steps")
      ok = integer(a.steps, 1, big);
    else if (k == "--time")
      ok = real(a.seconds, 0) && a.seconds > 0;
    else if (k == "--lr")
      ok = real(a.lr, 0) && a.lr > 0;
    else if (k == "--lr-schedule")
      ok = value(a.schedule);
    else if (k == "--optimizer")
      ok = value(a.optimizer);
    else if (k == "--clip")
      ok = real(a.clip, 0);
    else if (k == "--loss")
      ok = value(a.loss);
    else if (k == "--seed")
      ok = integer(a.seed, 0, 1LL << 62);
    else if (k == "--val")
      ok = value(a.val);
    else if (k == "--val-count")
      ok = integer(a.valCount, 0, 100000);
    else if (k == "--val-crop")
      ok = integer(a.valCrop, 0, 1 << 16);
    else if (k == "--val-every")
      ok = integer(a.valEvery, 1, big);
    else if (k == "--log-every")
      ok = integer(a.logEvery, 1, big);
    else if (k == "--checkpoint")
      ok = value(a.checkpoint);
    else if (k == "--checkpoint-every")
      ok = integer(a.checkpointEvery, 1, big);
    else if (k == "--resume")
      a.resume = true;
    else if (k == "--no-augment")
      a.noAugment = true;
    else if (k == "--kernels")
      ok = value(a.kernels);
    else if (k == "--freeze-net")
      a.freezeNet = true;
    else if (k == "--net-lr")
      ok = real(a.netLr, 0) && a.netLr > 0;
    else if (k == "--debug-nan-at")
      ok = integer(a.debugNanAt, 1, big);
    else if (k == "-o" || k == "--output")
      ok = value(a.output);
    else if (k == "--device")
      ok = value(a.device);
    else if (k.rfind("-", 0) == 0)
      return usageError(kVerb, "unknown option '" + k + "'");
    else if (a.model.empty())
      a.model = k;
    else
      return usageError(kVerb, "more than one model file ('" + a.model + "', '" + k + "')");
    if (!ok)
      return usageError(kVerb, k + " needs a valid value (see podm train --help)");
  }
  if (a.model.empty())
    return usageError(kVerb, "no model file given");
  if (a.data.empty())
    return usageError(kVerb, "no training data (--data DIR, a folder of images)");
  if (a.mode != "greedy" && a.mode != "e2e")
    return usageError(kVerb, "--mode must be greedy or e2e, not '" + a.mode + "'");
  if (a.steps == 0 && a.seconds == 0)
    return usageError(kVerb, "say how long to train: --steps N and/or --time SECONDS");
  if (a.output.empty())
    return usageError(kVerb, "say where the weights go with -o WEIGHTS.safetensors");
  if (a.resume && a.checkpoint.empty())
    return usageError(kVerb, "--resume needs --checkpoint FILE");
  if (a.checkpointEvery && a.checkpoint.empty())
    return usageError(kVerb, "--checkpoint-every needs --checkpoint FILE");
  if (!a.checkpoint.empty() && !checkOutput(kVerb, "--checkpoint", a.checkpoint, OutputKind::File))
    return kUsageError;
  if (a.optimizer != "adam" && a.optimizer != "sgd")
    return usageError(kVerb, "--optimizer must be adam or sgd");
  if (a.schedule != "constant" && a.schedule != "cosine" && a.schedule != "step")
    return usageError(kVerb, "--lr-schedule must be constant, cosine or step");
  if (a.schedule != "constant" && a.steps == 0)
    return usageError(kVerb, "--lr-schedule " + a.schedule + " needs --steps");
  if (a.loss != "l2" && a.loss != "l1")
    return usageError(kVerb, "--loss must be l2 or l1");
  if (a.mode == "e2e" && !a.initFrom.empty())
    return usageError(kVerb, "--init-from is for --mode greedy (e2e starts each network from "
                             "the weight file the model names)");
  if (!a.sigma.empty() && a.sigmaScheduleName != "sigma")
    return usageError(kVerb, "give either --sigma or --sigma-schedule, not both");
  engine::DeviceKind kind;
  if (!engine::parseDevice(a.device, kind))
    return usageError(kVerb, "--device must be cpu, cuda or auto");
  return kOk;
}

// "25" or "15:50" (0-255 scale).
bool parseSigma(const std::string& text, double& lo, double& hi) {
  size_t colon = text.find(':');
  if (colon == std::string::npos) {
    if (!parseDouble(text, lo) || lo < 0 || lo > 255)
      return false;
    hi = lo;
    return true;
  }
  return parseDouble(text.substr(0, colon), lo) && parseDouble(text.substr(colon + 1), hi) &&
         lo >= 0 && hi >= lo && hi <= 255;
}

// The noise level per stage from the model's schedule NAME (0-255 scale; formulas evaluated by
// sema), or empty when the model has none.
std::vector<double> sigmaSchedule(const engine::LoadedModel& m, const std::string& name,
                                  std::string& error) {
  bool declared = false;
  for (const ast::Decl& d : m.ast->decls)
    declared |= d.kind == ast::DeclKind::Schedule && d.name == name;
  if (!declared)
    return {};
  auto it = m.checked->lists.find(name);
  if (it == m.checked->lists.end() || it->second.empty()) {
    error = "schedule " + name + " must give one noise level (0-255 scale) per stage";
    return {};
  }
  for (double v : it->second)
    if (!(v >= 0 && v <= 255)) {
      error = "schedule " + name + " must give noise levels in 0..255 (0-255 scale)";
      return {};
    }
  return it->second;
}

// The stages (0-based indices) as a user reads them: numbered from 1, as in the trace.
std::string stageRange(const std::vector<int64_t>& stages) {
  if (stages.size() == 1)
    return "stage " + std::to_string(stages[0] + 1);
  bool contiguous = stages.back() - stages.front() + 1 == static_cast<int64_t>(stages.size());
  if (contiguous)
    return "stages " + std::to_string(stages.front() + 1) + "-" + std::to_string(stages.back() + 1);
  return std::to_string(stages.size()) + " stages";
}

std::string joinArgs(const std::vector<std::string>& args) {
  std::string s = "podm train";
  for (const std::string& a : args)
    s += " " + a;
  return s;
}

// Training and validation images: --val DIR, else a fixed split of --data; prints the counts.
// Throws train::DataError.
void loadData(const Args& a, std::vector<train::NamedImage>& data,
              std::vector<train::NamedImage>& held, std::vector<const train::NamedImage*>& trainSet,
              std::vector<const train::NamedImage*>& valSet) {
  std::vector<std::string> skipped;
  data = train::loadImageFolder(a.data, &skipped);
  if (!skipped.empty())
    std::cerr << "podm train: note: skipped " << skipped.size()
              << " file(s) that are not PNG, TIFF, BMP or JPEG (e.g. " << skipped.front() << ")\n";
  if (!a.val.empty()) {
    held = train::loadImageFolder(a.val);
    for (const auto& im : data)
      trainSet.push_back(&im);
    for (const auto& im : held)
      valSet.push_back(&im);
  } else {
    size_t count = a.valCount >= 0 ? static_cast<size_t>(a.valCount)
                                   : (data.size() < 2 ? 0 : std::max<size_t>(1, data.size() / 10));
    train::Split split = train::splitByName(data.size(), count);
    for (size_t i : split.train)
      trainSet.push_back(&data[i]);
    for (size_t i : split.val)
      valSet.push_back(&data[i]);
  }
  std::cerr << "podm train: " << trainSet.size() << " training image(s), " << valSet.size()
            << " validation image(s)";
  if (!valSet.empty()) {
    std::cerr << " (";
    for (size_t i = 0; i < valSet.size() && i < 4; ++i)
      std::cerr << (i ? ", " : "") << std::filesystem::path(valSet[i]->path).filename().string();
    std::cerr << (valSet.size() > 4 ? ", ..." : "") << ")";
  }
  std::cerr << "\n";
}

// The graph is lowered for one kernel size: every kernel is zero-padded, centred, to the
// smallest odd square holding them all (the same blur).
// The flags every training mode shares, into the options every loop shares.
void setLoopOptions(const Args& a, const std::vector<std::string>& given,
                    const std::string& modelName,
                    const std::vector<const train::NamedImage*>& trainSet,
                    const std::vector<const train::NamedImage*>& valSet, train::LoopOptions& o) {
  o.trainImages = trainSet;
  o.valImages = valSet;
  o.sampler.crop = a.crop;
  o.sampler.flips = o.sampler.rotations = !a.noAugment;
  o.batch = a.batch;
  o.valCrop = a.valCrop;
  o.steps = a.steps;
  o.seconds = a.seconds;
  o.optimizer = a.optimizer;
  o.lr = a.lr;
  o.lrSchedule = a.schedule;
  o.clipNorm = a.clip;
  o.loss = a.loss;
  o.seed = static_cast<uint64_t>(a.seed);
  o.valEvery = a.valEvery;
  o.checkpoint = a.checkpoint;
  o.checkpointEvery = a.checkpointEvery;
  o.resume = a.resume;
  o.modelName = modelName;
  o.argsText = joinArgs(given);
  o.progress = &std::cerr;
  o.tty = ::isatty(STDERR_FILENO) == 1;
  o.logEvery = a.logEvery;
  o.stop = &gStop;
  o.debugNanAtStep = a.debugNanAt;
}

std::vector<Tensor> commonSupport(const std::vector<Tensor>& kernels) {
  int64_t side = 1;
  for (const Tensor& k : kernels)
    side = std::max({side, k.shape().h, k.shape().w});
  side |= 1;
  std::vector<Tensor> out;
  for (const Tensor& k : kernels) {
    Tensor p(Shape{1, 1, side, side});
    p.fill(0.f);
    const int64_t oy = (side - k.shape().h) / 2, ox = (side - k.shape().w) / 2;
    for (int64_t y = 0; y < k.shape().h; ++y)
      for (int64_t x = 0; x < k.shape().w; ++x)
        p.data()[(y + oy) * side + x + ox] = k.data()[y * k.shape().w + x];
    out.push_back(p);
  }
  return out;
}

size_t distinctWeightFiles(const ir::Graph& g) {
  std::set<std::string> files;
  for (const ir::Node& n : g.nodes())
    if (n.op == ir::Op::Network)
      for (const std::string& f : ir::splitWeightPaths(n.attrs.getString("weights")))
        files.insert(f);
  return files.size();
}

// The e2e result: with one weight file, `output` is that file, holding the network(s) under the
// names `podm run` binds and every param as `param.<name>.<tensor>`. With several (a net per
// stage), `output` is a folder and each file goes to the path the model gives it, under it, the
// params into the first stage's file (param binding reads them from any of the files).
void writeEndToEndWeights(const std::string& output,
                          const engine::TrainableNetworkProvider& networks,
                          const nn::TensorMap& params,
                          const std::map<std::string, std::string>& meta) {
  std::vector<std::pair<std::string, nn::TensorMap>> files; // by model path, first use first
  for (auto& [path, tensors] : networks.weightFiles()) {
    auto it =
        std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.first == path; });
    if (it == files.end())
      it = files.insert(files.end(), {path, {}});
    for (auto& [name, t] : tensors)
      if (!it->second.emplace(name, std::move(t)).second)
        throw std::runtime_error(path + ": two networks both have a tensor named '" + name +
                                 "' (give the nets distinct weight prefixes)");
  }
  if (files.empty())
    files.push_back({output, {}});
  files.front().second.insert(params.begin(), params.end());
  for (auto& [path, tensors] : files) {
    std::filesystem::path target = output;
    if (files.size() > 1) {
      std::filesystem::path rel(path);
      target /= rel.is_relative() ? rel : rel.filename();
      std::filesystem::create_directories(target.parent_path());
    }
    io::writeFileAtomic(target.string(),
                        [&](const std::string& tmp) { nn::writeSafetensors(tmp, tensors, meta); });
    std::cerr << "podm train: wrote " << target.string() << "\n";
  }
}

// --mode e2e: the model's params (and its network unless --freeze-net) through the autodiff tape
// on blurred, noisy crops (train/end_to_end.h). The observation is the model's first required
// image input, the kernel its kernel input, and a scalar input named `sigma` gets the noise level
// on the [0,1] scale. The network starts from the model's weight file when it exists, the params
// from their `param.*` tensors there, else from their initial values.
// The device the networks train on (--device): its backends, or nullptr with the error printed
// when --device cuda finds no GPU. Says where the networks run when that is not the CPU, or why
// `auto` stayed there.
std::unique_ptr<engine::RunDevice> openTrainingDevice(const Args& a) {
  engine::DeviceKind kind = engine::DeviceKind::Cpu;
  engine::parseDevice(a.device, kind); // checked with the other arguments
  std::unique_ptr<engine::RunDevice> device;
  try {
    device = std::make_unique<engine::RunDevice>(kind);
  } catch (const std::exception& e) {
    std::cerr << "podm train: error: " << e.what() << "\n";
    return nullptr;
  }
  if (!device->note().empty())
    std::cerr << "podm train: note: " << device->note() << "\n";
  if (device->onGpu())
    std::cerr << "podm train: the networks train on cuda (cuDNN); data, loss and optimizer on "
                 "the CPU\n";
  return device;
}

// The backend TrainableNetworks run on: null for the CPU's oneDNN.
Backend* networkDevice(engine::RunDevice& device) {
  return device.onGpu() ? &device.primary() : nullptr;
}

int runE2e(const Args& a, const std::vector<std::string>& given, double sigma255) {
  std::optional<engine::LoadedModel> m = engine::loadModel(a.model, engine::Stop::AfterSema);
  if (!m)
    return kUsageError;
  if (!m->checked)
    return kModelError;
  std::string obs, kernel, sigmaIn, var;
  for (const ast::Decl& d : m->ast->decls) {
    if (d.kind == ast::DeclKind::Input && d.type.name == "image" && !d.optional && obs.empty())
      obs = d.name;
    if (d.kind == ast::DeclKind::Input && d.type.name == "kernel" && kernel.empty())
      kernel = d.name;
    if (d.kind == ast::DeclKind::Input && d.type.name == "scalar" && d.name == "sigma")
      sigmaIn = d.name;
    if (d.kind == ast::DeclKind::Var && var.empty())
      var = d.name;
  }
  if (obs.empty() || kernel.empty())
    return dataError(a.model + ": --mode e2e trains a deblurring model: it needs an image input "
                               "(the observation) and a kernel input");
  std::vector<train::NamedImage> data, held;
  std::vector<const train::NamedImage*> trainSet, valSet;
  train::EndToEndOptions o;
  try {
    loadData(a, data, held, trainSet, valSet);
    if (a.kernels.empty()) {
      for (const char* spec : {"gaussian:9:1.6", "gaussian:13:2.4", "motion:9:30", "motion:11:120"})
        o.kernels.push_back(train::kernelFromSpec(spec));
    } else {
      o.kernels = train::trainingKernels(a.kernels, static_cast<uint64_t>(a.seed));
    }
  } catch (const train::DataError& e) {
    return dataError(e.what());
  }
  o.kernels = commonSupport(o.kernels);
  const std::unique_ptr<engine::RunDevice> device = openTrainingDevice(a);
  if (!device)
    return kModelError;
  const std::filesystem::path baseDir = std::filesystem::absolute(a.model).parent_path();
  engine::TrainableNetworkProvider networks(baseDir, static_cast<uint64_t>(a.seed));
  networks.setDevice(networkDevice(*device));
  const engine::LoadedModel& model = *m;
  // The first lowering also fills o.initialParams, which the loop reads right after it (through
  // its const reference to o) to start the params.
  bool first = true;
  o.lowerFor = [&](int64_t h, int64_t w) {
    engine::GraphInputs in;
    in.shapes[obs] = {h, w};
    in.shapes[kernel] = {o.kernels.front().shape().h, o.kernels.front().shape().w};
    std::optional<lower::LowerResult> lowered = engine::lowerLoaded(model, in);
    if (!lowered)
      throw std::invalid_argument(a.model + ": the model does not lower (see above)");
    if (first) {
      for (const std::string& note : lowered->notes)
        std::cerr << "podm train: note: " << note << "\n";
      engine::ParamValues start = engine::paramValuesFromWeights(lowered->graph, baseDir);
      o.initialParams = start.values;
      if (!start.values.empty())
        std::cerr << "podm train: params start from the weight file (" << start.values.size()
                  << " tensor(s))\n";
      if (std::string n = engine::initialValuesNote(start); !n.empty())
        std::cerr << "podm train: note: " << n << "\n";
      first = false;
    }
    return lowered->graph;
  };
  o.prox = &engine::installStdlibProxProvider();
  o.network = &networks;
  o.networkParameters = [&] { return networks.parameters(); };
  o.freezeNet = a.freezeNet;
  o.netLr = a.netLr;
  o.observation = obs;
  o.kernel = kernel;
  o.sigmaInput = sigmaIn;
  o.variable = var;
  o.sigma255 = sigma255;
  setLoopOptions(a, given, m->ast->name, trainSet, valSet, o);
  if (a.resume && !std::filesystem::exists(a.checkpoint))
    return dataError("no checkpoint at '" + a.checkpoint + "' to resume from");
  // A net with a weight file per stage is written to -o as a folder; say so before training, not
  // after it.
  try {
    const size_t files = distinctWeightFiles(o.lowerFor(a.crop, a.crop));
    if (files > 1 && std::filesystem::exists(a.output) && !std::filesystem::is_directory(a.output))
      return usageError(kVerb, "the model's nets have " + std::to_string(files) +
                                   " weight files: -o must name a folder (they are written "
                                   "there under the paths the model gives)");
    if (!checkOutput(kVerb, "-o", a.output, files > 1 ? OutputKind::Folder : OutputKind::File))
      return kUsageError;
  } catch (const std::exception& e) {
    return dataError(e.what());
  }

  installStopHandlers();
  train::EndToEndResult r;
  try {
    r = train::trainEndToEnd(o);
    for (const std::string& line : networks.describe())
      std::cerr << "podm train: " << line << "\n";
  } catch (const std::exception& e) {
    return dataError(e.what());
  }
  if (r.status == train::EndToEndResult::Status::Stopped)
    return kInterrupted;
  if (r.status == train::EndToEndResult::Status::NonFinite) {
    std::cerr << "podm train: error: " << r.message << "\n";
    return kModelError;
  }
  try {
    std::map<std::string, std::string> meta{{"podm.model", o.modelName},
                                            {"podm.trained", "e2e"},
                                            {"podm.steps", std::to_string(r.steps)}};
    writeEndToEndWeights(a.output, networks, r.weights, meta);
  } catch (const std::exception& e) {
    return dataError(e.what());
  }
  if (!valSet.empty())
    std::cerr << "podm train: e2e: validation PSNR " << std::fixed << std::setprecision(2)
              << r.valPsnr << " dB, SSIM " << std::setprecision(4) << r.valSsim
              << "; at the start values " << std::setprecision(2) << r.valInitPsnr << " dB, SSIM "
              << std::setprecision(4) << r.valInitSsim << "; observation " << std::setprecision(2)
              << r.valObsPsnr << " dB\n";
  return kOk;
}

// The net to train: its node in a lowering with placeholder sizes (weights are not read here),
// the one --net names or the model's only one.
int findNet(const Args& a, const engine::LoadedModel& m, NetworkDesc& net) {
  engine::GraphInputs placeholder;
  for (const ast::Decl& d : m.ast->decls)
    if (d.kind == ast::DeclKind::Input && (d.type.name == "image" || d.type.name == "kernel"))
      placeholder.shapes[d.name] =
          d.type.name == "image" ? lower::InputShape{64, 64} : lower::InputShape{5, 5};
  std::optional<lower::LowerResult> lowered = engine::lowerLoaded(m, placeholder);
  if (!lowered)
    return kModelError;
  std::vector<NetworkDesc> nets;
  for (const ir::Node& n : lowered->graph.nodes())
    if (n.op == ir::Op::Network) {
      NetworkDesc d{n.attrs.getString("net"), n.attrs.getString("spec"),
                    ir::splitWeightPaths(n.attrs.getString("weights")),
                    n.attrs.has("prefix") ? n.attrs.getString("prefix") : ""};
      if (a.net.empty() || d.name == a.net)
        nets.push_back(d);
    }
  if (nets.empty())
    return dataError(a.model + ": " +
                     (a.net.empty() ? "the model has no net to train"
                                    : "the model has no net '" + a.net + "' used by its stages"));
  if (nets.size() > 1 && nets[0].name != nets[1].name)
    return dataError(a.model + ": the model has several nets (" + nets[0].name + ", " +
                     nets[1].name + "); choose one with --net NAME");
  net = nets.front();
  return kOk;
}

// What trainGreedy trains: one job per denoising problem. The net's distinct weight files are
// grouped by the noise level of their stages (--sigma, or the model's `schedule sigma`); files
// whose stages share a level are one problem, and one network serves them all.
struct JobPlan {
  std::vector<train::GreedyJob> jobs;
  std::vector<std::vector<int64_t>> stages; // per job, the stages it serves
  std::vector<std::string> files;           // distinct, by first stage
};

int planJobs(const Args& a, const engine::LoadedModel& m, const NetworkDesc& net, double sigmaLo,
             double sigmaHi, JobPlan& plan) {
  std::vector<double> schedule;
  if (a.sigma.empty()) {
    std::string error;
    schedule = sigmaSchedule(m, a.sigmaScheduleName, error);
    if (!error.empty())
      return dataError(a.model + ": " + error);
    if (schedule.empty() && a.sigmaScheduleName != "sigma")
      return dataError(a.model + ": no `schedule " + a.sigmaScheduleName +
                       "` (named by --sigma-schedule)");
    if (schedule.empty())
      return usageError(kVerb, "give the noise level with --sigma, or add `schedule sigma = "
                               "[...]` (one level per stage) to the model");
  }
  const int64_t stages = std::max<int64_t>(m.checked->stages, 1);
  std::vector<std::string>& files = plan.files;
  std::map<std::string, std::vector<int64_t>> stagesOf;
  for (int64_t l = 0; l < stages; ++l) {
    const std::string& f = net.weights[net.weights.size() == 1 ? 0 : static_cast<size_t>(l)];
    if (!stagesOf.count(f))
      files.push_back(f);
    stagesOf[f].push_back(l);
  }
  std::vector<train::GreedyJob>& jobs = plan.jobs;
  std::vector<std::vector<int64_t>>& jobStages = plan.stages;
  for (const std::string& f : files) {
    double lo = sigmaLo, hi = sigmaHi;
    if (!schedule.empty()) {
      const std::vector<int64_t>& st = stagesOf[f];
      if (static_cast<int64_t>(schedule.size()) < stages)
        return dataError(a.model + ": schedule " + a.sigmaScheduleName + " has " +
                         std::to_string(schedule.size()) + " entries for " +
                         std::to_string(stages) + " stages");
      lo = hi = schedule[static_cast<size_t>(st[0])];
      for (int64_t l : st)
        if (schedule[static_cast<size_t>(l)] != lo)
          return dataError(a.model + ": stages " + std::to_string(st[0]) + " and " +
                           std::to_string(l) + " share the weight file '" + f + "' but schedule " +
                           a.sigmaScheduleName + " gives them different levels");
    }
    auto same = std::find_if(jobs.begin(), jobs.end(), [&](const train::GreedyJob& j) {
      return j.sigmaLow == lo && j.sigmaHigh == hi;
    });
    if (same != jobs.end()) {
      same->outputs.push_back(f); // the same denoising problem: one network serves both files
      std::vector<int64_t>& st = jobStages[static_cast<size_t>(same - jobs.begin())];
      st.insert(st.end(), stagesOf[f].begin(), stagesOf[f].end());
      std::sort(st.begin(), st.end());
      continue;
    }
    train::GreedyJob job;
    std::ostringstream label;
    label << net.name << " sigma " << lo;
    if (hi != lo)
      label << ":" << hi;
    job.label = label.str();
    job.sigmaLow = lo;
    job.sigmaHigh = hi;
    job.outputs.push_back(f);
    jobs.push_back(job);
    jobStages.push_back(stagesOf[f]);
  }
  return kOk;
}

// The final weights, each file atomically, where `podm run` looks for them: -o itself for a net
// with one weight file, else the model's paths under the folder -o.
int writeTrainedWeights(const Args& a, const std::string& modelName, const NetworkDesc& net,
                        const JobPlan& plan, const train::GreedyResult& r) {
  const std::vector<train::GreedyJob>& jobs = plan.jobs;
  const bool oneFile = plan.files.size() == 1;
  try {
    for (size_t j = 0; j < jobs.size(); ++j) {
      std::map<std::string, std::string> meta{{"podm.model", modelName},
                                              {"podm.net", net.name},
                                              {"podm.trained", r.jobs[j].label},
                                              {"podm.steps", std::to_string(r.jobs[j].steps)}};
      for (const std::string& f : jobs[j].outputs) {
        std::filesystem::path target = a.output;
        if (!oneFile) {
          std::filesystem::path rel(f);
          target /= rel.is_relative() ? rel : rel.filename();
          std::filesystem::create_directories(target.parent_path());
        }
        io::writeFileAtomic(target.string(), [&](const std::string& tmp) {
          nn::writeSafetensors(tmp, r.jobs[j].weights, meta);
        });
        std::cerr << "podm train: wrote " << target.string() << "\n";
      }
    }
  } catch (const std::exception& e) {
    return dataError(e.what());
  }
  return kOk;
}

} // namespace

int runTrain(const std::vector<std::string>& given) {
  std::vector<std::string> args = given, plugins;
  if (!takePluginOptions(kVerb, args, plugins))
    return kUsageError;
  Args a;
  if (int status = parseArgs(args, a); status != kOk)
    return status;
  double sigmaLo = 0, sigmaHi = 0;
  if (!a.sigma.empty() && !parseSigma(a.sigma, sigmaLo, sigmaHi))
    return usageError(kVerb, "--sigma needs a noise level in 0..255 or a range LOW:HIGH");
  if (!engine::loadPlugins(kVerb, plugins))
    return kUsageError;
  if (a.mode == "e2e") {
    if (sigmaHi != sigmaLo)
      return usageError(kVerb, "--mode e2e takes one noise level (--sigma S), not a range");
    if (a.sigma.empty())
      return usageError(kVerb, "--mode e2e needs the noise level of the observations: --sigma S "
                               "(0-255 scale)");
    return runE2e(a, given, sigmaLo);
  }

  std::optional<engine::LoadedModel> m = engine::loadModel(a.model, engine::Stop::AfterSema);
  if (!m)
    return kUsageError;
  if (!m->checked)
    return kModelError;
  NetworkDesc net;
  if (int status = findNet(a, *m, net); status != kOk)
    return status;

  JobPlan plan;
  if (int status = planJobs(a, *m, net, sigmaLo, sigmaHi, plan); status != kOk)
    return status;
  const std::vector<train::GreedyJob>& jobs = plan.jobs;
  const std::vector<std::vector<int64_t>>& jobStages = plan.stages;
  const std::vector<std::string>& files = plan.files;
  const bool oneFile = files.size() == 1;
  if (!oneFile && std::filesystem::exists(a.output) && !std::filesystem::is_directory(a.output))
    return usageError(kVerb, "net " + net.name + " has " + std::to_string(files.size()) +
                                 " weight files: -o must name a folder (they are written there "
                                 "under the paths the model gives)");
  if (!checkOutput(kVerb, "-o", a.output, oneFile ? OutputKind::File : OutputKind::Folder))
    return kUsageError;

  // Data.
  std::vector<train::NamedImage> data, held;
  std::vector<const train::NamedImage*> trainSet, valSet;
  try {
    loadData(a, data, held, trainSet, valSet);
  } catch (const train::DataError& e) {
    return dataError(e.what());
  }

  train::GreedyOptions o;
  try {
    o.spec = nn::decodeSpec(net.spec);
  } catch (const std::exception& e) {
    return dataError(a.model + ": net " + net.name + ": " + e.what());
  }
  o.prefix = net.prefix;
  o.jobs = jobs;
  if (!a.initFrom.empty()) {
    // Checked here, before any data is sampled: a file without the net's tensors, or with
    // other shapes, is refused naming the tensor.
    try {
      o.initialWeights = nn::loadWeights(a.initFrom);
      nn::TrainableNetwork probe(o.spec);
      probe.bind(o.initialWeights, o.prefix);
    } catch (const std::exception& e) {
      return dataError("--init-from " + a.initFrom + ": " + e.what());
    }
    o.initialWeightsName = std::filesystem::path(a.initFrom).filename().string();
  }
  setLoopOptions(a, given, m->ast->name, trainSet, valSet, o);
  if (a.resume && !std::filesystem::exists(a.checkpoint))
    return dataError("no checkpoint at '" + a.checkpoint + "' to resume from");
  for (size_t j = 0; j < jobs.size(); ++j)
    std::cerr << "podm train: " << jobs[j].label << " (" << stageRange(jobStages[j]) << ") -> "
              << jobs[j].outputs.size() << " weight file(s) (" << jobs[j].outputs.front()
              << (jobs[j].outputs.size() > 1 ? ", ..." : "") << ")\n";

  const std::unique_ptr<engine::RunDevice> device = openTrainingDevice(a);
  if (!device)
    return kModelError;
  o.networkDevice = networkDevice(*device);
  installStopHandlers();
  train::GreedyResult r;
  try {
    r = train::trainGreedy(o);
  } catch (const std::exception& e) {
    return dataError(e.what());
  }
  if (r.status == train::GreedyResult::Status::Stopped)
    return kInterrupted;
  if (r.status == train::GreedyResult::Status::NonFinite) {
    std::cerr << "podm train: error: " << r.message << "\n";
    return kModelError;
  }

  if (int status = writeTrainedWeights(a, o.modelName, net, plan, r); status != kOk)
    return status;
  for (const train::JobReport& j : r.jobs)
    if (!valSet.empty())
      std::cerr << "podm train: " << j.label << ": validation PSNR " << std::fixed
                << std::setprecision(2) << j.valPsnr << " dB, noisy input " << j.valNoisyPsnr
                << " dB (+" << j.valPsnr - j.valNoisyPsnr << " dB)\n";
  return kOk;
}

} // namespace podm::cli
