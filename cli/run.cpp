// `podm run MODEL|FILE.pgraph --input NAME=FILE... -o OUT [--weights-dir DIR] [--ref FILE]`:
// compile (or load) the graph, run it on the CPU backend (networks through stdlib/nn, weights
// relative to the model's folder or DIR), write the result atomically, and optionally the
// per-stage monitors as CSV (--trace, the columns `podm plot` reads), the per-node time table
// (--profile) and the final PSNR/SSIM against a ground truth (--ref, docs/io.md). On a terminal
// a progress line is rewritten at the end of every stage; pipes and files get none.
#include "cli/options.h"
#include "cli/run_support.h"
#include "cli/verbs.h"
#include "engine/device.h"
#include "engine/fft_wisdom.h"
#include "engine/network_provider.h"
#include "engine/param_binding.h"
#include "engine/stdlib_prox_provider.h"
#include "ir/serialize.h"
#include "numerics/fft.h"
#include "runtime/executor.h"
#include "runtime/io/atomic_file.h"
#include "runtime/io/color.h"
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"
#include "runtime/io/metrics.h"
#include "runtime/io/plot.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>
#include <unistd.h>

namespace podm::cli {

namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The stage (from 0) whose `metric` monitor is highest, when the model monitors it.
std::optional<size_t> bestStage(const RunResult& r, const char* metric) {
  const std::vector<float>* v = r.monitors.find(metric);
  if (!v || v->empty())
    return std::nullopt;
  return static_cast<size_t>(std::max_element(v->begin(), v->end()) - v->begin());
}

// Semi-convergence is common (the PSNR peaks, then falls as the iteration fits the noise): say
// which stage scored best against the reference, numbered as in the trace.
void reportBestStage(const RunResult& r, std::ostream& info) {
  for (const char* metric : {"psnr", "ssim"}) {
    std::optional<size_t> at = bestStage(r, metric);
    if (!at)
      continue;
    const std::vector<float>& v = *r.monitors.find(metric);
    char line[200];
    const bool db = std::string(metric) == "psnr";
    std::snprintf(line, sizeof line,
                  "podm run: best stage by %s: %zu of %zu (%.*f%s; the last stage: %.*f%s)\n",
                  db ? "PSNR" : "SSIM", *at + 1, v.size(), db ? 2 : 4, double(v[*at]),
                  db ? " dB" : "", db ? 2 : 4, double(v.back()), db ? " dB" : "");
    info << line;
  }
}

// The trace CSV (runtime/io/plot.h): the fixed columns `podm plot` reads, per stage from 1;
// a column the model does not monitor stays empty. The stage time is always measured.
std::vector<io::TraceRecord> traceRecords(const RunResult& r) {
  std::vector<io::TraceRecord> rows;
  auto column = [&](const char* name) { return r.monitors.find(name); };
  const std::vector<float>* phi = column("phi");
  const std::vector<float>* rel = column("rel_change");
  const std::vector<float>* recon = column("recon_error");
  const std::vector<float>* psnr = column("psnr");
  const std::vector<float>* ssim = column("ssim");
  const std::vector<float>* opt = column("opt_error");
  const std::vector<float>* bound = column("check_bound");
  const std::vector<float>* branch = column("branch");
  const std::vector<float>* primal = column("primal_res");
  const std::vector<float>* dual = column("dual_res");
  for (int64_t l = 0; l < r.stages; ++l) {
    const size_t i = static_cast<size_t>(l);
    auto at = [&](const std::vector<float>* v) {
      return v && i < v->size() ? double((*v)[i]) : double(NAN);
    };
    io::TraceRecord row;
    row.stage = l + 1;
    row.phi = at(phi);
    row.relChange = at(rel);
    row.reconError = at(recon);
    row.psnr = at(psnr);
    row.ssim = at(ssim);
    row.optError = at(opt);
    row.checkBound = at(bound);
    row.primalRes = at(primal);
    row.dualRes = at(dual);
    if (branch && i < branch->size())
      row.branch = (*branch)[i] != 0 ? "accept" : "feedback";
    row.time = i < r.stageSeconds.size() ? r.stageSeconds[i] : NAN;
    rows.push_back(std::move(row));
  }
  for (const char* metric : {"psnr", "ssim"})
    if (std::optional<size_t> at = bestStage(r, metric)) {
      std::string& best = rows[*at].best;
      best += (best.empty() ? "" : "+") + std::string(metric);
    }
  return rows;
}

// "stage 12/30  phi 1.234e-01  psnr 30.12  accept  0.12 s/stage", rewritten in place.
void printProgress(const StageReport& s) {
  char buf[64];
  std::string line = "\rstage " + std::to_string(s.stage + 1) + "/" + std::to_string(s.stages);
  for (size_t i = 0; i < s.names.size(); ++i) {
    const std::string& n = s.names[i];
    const float v = s.values[i];
    if (n == "branch")
      line += v != 0 ? "  accept" : "  feedback";
    else if (n == "psnr")
      std::snprintf(buf, sizeof buf, "  psnr %.2f", double(v)), line += buf;
    else if (n == "ssim")
      std::snprintf(buf, sizeof buf, "  ssim %.4f", double(v)), line += buf;
    else if (n == "phi" || n == "opt_error")
      std::snprintf(buf, sizeof buf, "  %s %.3e", n.c_str(), double(v)), line += buf;
  }
  std::snprintf(buf, sizeof buf, "  %.3g s/stage", s.seconds);
  line += buf;
  std::cerr << line << "\x1b[K" << std::flush; // clear what a longer previous line left
}

// The ground truth of --ref: gray, or RGB compared on its Y as the result is.
std::optional<Tensor> readRef(const std::string& path) {
  try {
    Tensor t = io::readImage(path);
    if (t.shape().c == 3)
      return io::luma(t);
    if (t.shape().c != 1 || t.shape().n != 1) {
      std::cerr << "podm run: error: --ref " << path << ": the image has " << t.shape().str()
                << " elements; expected a gray or RGB image\n";
      return std::nullopt;
    }
    return t;
  } catch (const std::exception& e) {
    std::cerr << "podm run: error: --ref: " << e.what() << "\n"; // the message names the file
    return std::nullopt;
  }
}

struct RunOptions {
  std::string file, out, trace, weightsDir, refPath, stagesDir;
  int shave = -1;                  // -1: the convention of docs/io.md
  int align = 0;                   // --align N: best shift within +-N pixels
  int alignSubdivisions = 1;       // --align-step 1/n: shifts in steps of 1/n pixel
  bool correlationKernels = false; // --kernel-as correlation: kernel files flipped when read
  bool profile = false, wisdom = true, quiet = false;
  bool bf16 = false;                                   // --precision bf16
  engine::DeviceKind device = engine::DeviceKind::Cpu; // --device
  std::ostream* info = &std::cerr; // notes, warnings and the summary; --quiet: nowhere
  std::vector<std::string> plugins;
  std::vector<engine::ConstOverride> overrides; // --set NAME=VALUE
  engine::GraphInputs inputs;
};

// Fills `o` from the command line; returns -1 to go on, else the exit status (message printed).
int parseRunOptions(const std::vector<std::string>& given, RunOptions& o) {
  std::vector<std::string> args = given;
  if (!takePluginOptions("run", args, o.plugins) || !takeSetOptions("run", args, o.overrides))
    return kUsageError;
  int status = kOk;
  if (!takeInputOptions("run", args, o.inputs, status))
    return status;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    // The flag's value into `into`; false (after a usage message) when none follows.
    auto value = [&](std::string& into, const char* what) {
      if (i + 1 < args.size()) {
        into = args[++i];
        return true;
      }
      usageError("run", a + " needs " + what);
      return false;
    };
    if (a == "-o" || a == "--trace") {
      if (!value(a == "-o" ? o.out : o.trace, "a file name"))
        return kUsageError;
    } else if (a == "--weights-dir") {
      if (!value(o.weightsDir, "a folder"))
        return kUsageError;
    } else if (a == "--ref") {
      if (!value(o.refPath, "an image file"))
        return kUsageError;
    } else if (a == "--kernel-as") {
      std::string as;
      if (!value(as, "convolution or correlation"))
        return kUsageError;
      if (as != "convolution" && as != "correlation")
        return usageError("run", "--kernel-as must be convolution or correlation");
      o.correlationKernels = as == "correlation";
    } else if (a == "--save-stages") {
      if (!value(o.stagesDir, "a folder"))
        return kUsageError;
    } else if (a == "--shave") {
      long long v = -1;
      if (i + 1 >= args.size() || !parseInt(args[i + 1], 0, 4096, v))
        return usageError("run", "--shave needs a whole number of pixels (0 or more)");
      o.shave = static_cast<int>(v);
      ++i;
    } else if (a == "--align") {
      long long v = -1;
      if (i + 1 >= args.size() || !parseInt(args[i + 1], 0, 64, v))
        return usageError("run", "--align needs the largest shift to search, 0 to 64 pixels");
      o.align = static_cast<int>(v);
      ++i;
    } else if (a == "--align-step") {
      if (i + 1 >= args.size() || !parseAlignStep(args[i + 1], o.alignSubdivisions))
        return usageError("run", "--align-step needs 1, 0.5, 0.25, ... (1/n pixel, n up to 16)");
      ++i;
    } else if (a == "--profile") {
      o.profile = true;
    } else if (a == "--no-wisdom") {
      o.wisdom = false;
    } else if (a == "--precision") {
      if (i + 1 >= args.size() || !parsePrecision(args[i + 1], o.bf16))
        return usageError("run", "--precision needs fp32 or bf16");
      ++i;
    } else if (a == "--device") {
      if (i + 1 >= args.size() || !engine::parseDevice(args[i + 1], o.device))
        return usageError("run", "--device needs cpu, cuda or auto");
      ++i;
    } else if (a == "--quiet" || a == "-q") {
      o.quiet = true;
    } else if (a.rfind("-", 0) == 0) {
      return usageError("run", "unknown option '" + a + "'");
    } else if (o.file.empty()) {
      o.file = a;
    } else {
      return usageError("run", "more than one model file given");
    }
  }
  if (o.file.empty())
    return usageError("run", "no model file given");
  if (o.out.empty())
    return usageError("run", "say where the result goes with -o OUT (.png, .tif or .npy)");
  if (o.alignSubdivisions > 1 && o.align == 0)
    return usageError("run", "--align-step refines the search of --align N, which is not given");
  if (!checkOutput("run", "-o", o.out, OutputKind::Image) ||
      (!o.trace.empty() && !checkOutput("run", "--trace", o.trace, OutputKind::File)) ||
      (!o.stagesDir.empty() &&
       !checkOutput("run", "--save-stages", o.stagesDir, OutputKind::Folder)))
    return kUsageError;
  std::vector<std::pair<std::string, std::string>> inputs{{"the --ref image", o.refPath},
                                                          {"the model file", o.file}};
  for (const auto& [name, path] : o.inputs.files)
    inputs.emplace_back("the file of --input " + name, path);
  if (!checkNotAnInput("run", "-o", o.out, inputs) ||
      (!o.trace.empty() && !checkNotAnInput("run", "--trace", o.trace, inputs)))
    return kUsageError;
  return -1;
}

// Where the time before stage 1 goes (`--profile`): a user reading the trace wants the set-up
// apart from the stages.
struct SetupTimes {
  using Clock = std::chrono::steady_clock;
  Clock::time_point start = Clock::now(), last = start;
  std::vector<std::pair<const char*, double>> phases;
  void mark(const char* phase) {
    const Clock::time_point now = Clock::now();
    phases.emplace_back(phase, std::chrono::duration<double>(now - last).count());
    last = now;
  }
};

void printSetup(const SetupTimes& t, const RunResult& r, const MemoryReport& memory,
                const engine::StdlibNetworkProvider& networks) {
  double total = r.preSeconds;
  std::string parts;
  char buf[96];
  for (const auto& [phase, seconds] : t.phases) {
    total += seconds;
    std::snprintf(buf, sizeof buf, "%s %.1f ms, ", phase, seconds * 1e3);
    parts += buf;
  }
  std::snprintf(buf, sizeof buf, "pre-stage nodes %.1f ms", r.preSeconds * 1e3);
  parts += buf;
  double loop = 0;
  for (double s : r.stageSeconds)
    loop += s;
  const numerics::FftPlanStats fft = numerics::fftPlanStats();
  std::fprintf(stderr,
               "set-up before stage 1: %.1f ms (%s)\n"
               "FFT plans: %lld measured, %lld from the plan cache, %lld estimated; %.1f ms "
               "planning\n"
               "stage loop: %.1f ms for %lld stages; after the loop: %.1f ms\n",
               total * 1e3, parts.c_str(), static_cast<long long>(fft.measured),
               static_cast<long long>(fft.fromWisdom), static_cast<long long>(fft.estimated),
               fft.planSeconds * 1e3, loop * 1e3, static_cast<long long>(r.stages),
               r.postSeconds * 1e3);
  const double mb = 1.0 / (1 << 20);
  std::string arenas;
  for (const MemoryReport::PerBackend& b : memory.backends) {
    std::snprintf(buf, sizeof buf, "%s%s arena %.1f MB", arenas.empty() ? "" : ", ",
                  b.backend.c_str(), b.plannedBytes * mb);
    arenas += buf;
  }
  const engine::StdlibNetworkProvider::Footprint nets = networks.footprint();
  std::fprintf(stderr, "memory: %s", arenas.empty() ? "no arena" : arenas.c_str());
  if (nets.networks)
    std::fprintf(stderr,
                 "; networks: %zu distinct, weights %.1f MB, activations %.1f MB (shared by "
                 "all networks)",
                 nets.networks, nets.weightBytes * mb, nets.activationBytes * mb);
  std::fprintf(stderr, "\n");
}

// The graph to run: a compiled .pgraph as it is, or the model lowered for the inputs' shapes and
// optimized. Returns -1 to go on, else the exit status (message printed).
int buildGraph(RunOptions& o, const std::optional<Tensor>& ref,
               std::optional<engine::LoadedModel>& m, ir::Graph& g,
               std::set<std::string>& notImages, SetupTimes& times) {
  if (endsWith(o.file, ".pgraph")) {
    if (o.correlationKernels) {
      std::cerr << "podm run: error: --kernel-as needs the model file (a .pgraph does not say "
                   "which inputs are kernels)\n";
      return kUsageError;
    }
    try {
      g = ir::load(o.file);
    } catch (const std::exception& e) {
      std::cerr << "podm run: error: " << e.what() << "\n";
      return kModelError;
    }
    times.mark("graph file");
    return -1;
  }
  m = engine::loadModel(o.file, engine::Stop::AfterSema, o.overrides);
  if (!m)
    return kUsageError;
  if (!m->checked)
    return kModelError;
  times.mark("model");
  if (std::optional<std::string> error = checkInputKinds(*m->ast, o.inputs)) {
    std::cerr << "podm run: error: " << *error << "\n";
    return kUsageError;
  }
  // Kernel files that hold correlation kernels become the kernels of podm's true convolution.
  if (o.correlationKernels)
    for (const ast::Decl& d : m->ast->decls)
      if (d.kind == ast::DeclKind::Input && d.type.name == "kernel" &&
          o.inputs.tensors.count(d.name))
        o.inputs.tensors[d.name] = io::flippedKernel(o.inputs.tensors[d.name]);
  // --ref is also the model's `ref` input unless --input gave one.
  const bool refBound = engine::completeModelInputs(*m->ast, o.inputs, ref ? &*ref : nullptr);
  notImages = engine::nonImageInputs(*m->ast);
  std::optional<lower::LowerResult> lowered = engine::lowerLoaded(*m, o.inputs);
  if (!lowered) {
    if (refBound)
      *o.info << "podm run: note: the model's input 'ref' is --ref " << o.refPath << "\n";
    return kModelError;
  }
  for (const std::string& note : lowered->notes)
    *o.info << "podm run: note: " << note << "\n";
  g = engine::optimizeGraph(lowered->graph, nullptr);
  times.mark("lowering and passes");
  return -1;
}

// Proposition 1 (docs/lowering.md): with the check on and its assumptions met, phi never rises.
// Stages are numbered as in the trace (from 1); each assumption is checked on its own monitor.
void reportProposition1(const RunResult& r, std::ostream& info) {
  const std::vector<float>* phi = r.monitors.find("phi");
  if (!phi || !r.monitors.find("branch"))
    return;
  size_t rises = 0, first = 0, largest = 0;
  for (size_t l = 1; l < phi->size(); ++l) {
    const float prev = (*phi)[l - 1], now = (*phi)[l];
    if (!(now > prev + 1e-5f * std::fabs(prev) + 1e-6f))
      continue;
    ++rises;
    if (!first)
      first = l;
    if (!largest || now - prev > (*phi)[largest] - (*phi)[largest - 1])
      largest = l;
  }
  if (!rises) {
    info << "podm run: Proposition 1 holds on this run: phi never increased\n";
    return;
  }
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "podm run: warning: phi increased %zu time%s in %zu stage transitions; first from "
                "stage %zu to %zu (%.6g -> %.6g), largest from stage %zu to %zu (%.6g -> %.6g)\n",
                rises, rises == 1 ? "" : "s", phi->size() - 1, first, first + 1,
                double((*phi)[first - 1]), double((*phi)[first]), largest, largest + 1,
                double((*phi)[largest - 1]), double((*phi)[largest]));
  info << buf;
  // Each assumption: the first stage (from 1) where it fails, 0 when it holds at every stage.
  auto firstFailing = [&](const char* name, auto fails) -> std::optional<size_t> {
    const std::vector<float>* v = r.monitors.find(name);
    if (!v)
      return std::nullopt;
    for (size_t l = 0; l < v->size(); ++l)
      if (fails((*v)[l]))
        return l + 1;
    return 0;
  };
  std::vector<std::string> failing, holding;
  auto judge = [&](std::optional<size_t> at, const std::string& condition,
                   const std::string& failure) {
    if (at && *at)
      failing.push_back(failure + " from stage " + std::to_string(*at));
    else if (at)
      holding.push_back(condition);
  };
  judge(firstFailing(lower::kProp1GammaLf, [](float v) { return !(v < 1.f); }), "gamma < 1/L_f",
        "gamma >= 1/L_f");
  judge(firstFailing(lower::kProp1COverHalfMu, [](float v) { return !(v <= 1.f + 1e-6f); }),
        "c <= mu/2", "c > mu/2");
  judge(firstFailing(lower::kProp1ExactFStep, [](float v) { return v == 0.f; }), "an exact F-step",
        "the F-step is inexact (a few gradient or CG steps)");
  if (!failing.empty()) {
    std::string list;
    for (const std::string& f : failing)
      list += (list.empty() ? "" : "; ") + f;
    info << "podm run: note: Proposition 1 does not apply to these settings: " << list << "\n";
  } else if (!holding.empty()) {
    info << "podm run: warning: every assumption of Proposition 1 holds (gamma < 1/L_f, c "
            "<= mu/2, exact F-step), so a rise of phi is a bug in podm: please report it "
            "with the model and inputs\n";
  }
}

void printSummary(const RunResult& r, const std::string& device, const std::string& out,
                  std::ostream& info) {
  info << "podm run: " << r.stages << " stages on " << device;
  for (size_t i = 0; i < r.monitors.names.size(); ++i) {
    const std::vector<float>& values = r.monitors.values[i];
    if (values.empty() || r.monitors.names[i].rfind("prop1.", 0) == 0)
      continue;
    if (r.monitors.names[i] == "branch") // a count says more than the last stage's 0 or 1
      info << ", accepted " << acceptedStages(r) << "/" << values.size();
    else
      info << ", " << r.monitors.names[i] << " " << values.back();
  }
  info << "; wrote " << out << "\n";
}

// --save-stages DIR: the variable after each stage as DIR/stage_NNN.png (from 1, as the trace;
// colour runs with the observation's chroma, as the result).
void saveStage(const RunOptions& o, const StageReport& s) {
  if (s.outputs.empty())
    return;
  char name[32];
  std::snprintf(name, sizeof name, "stage_%03lld.png", static_cast<long long>(s.stage + 1));
  const Tensor& x = s.outputs.front().second;
  const std::string path = (std::filesystem::path(o.stagesDir) / name).string();
  io::writeImage(path, !o.inputs.color.empty() && x.shape().c == 1
                           ? io::mergeLuma(x, o.inputs.color.front().second)
                           : x);
}

// Writes the result (RGB runs: the restored Y with the first colour input's chroma, resized
// bicubically when the sizes differ; .npy keeps the Y) and the trace.
void writeResult(const RunOptions& o, const RunResult& r) {
  const Tensor& result = r.outputs.begin()->second;
  if (!o.inputs.color.empty() && result.shape().c == 1 && !endsWith(o.out, ".npy")) {
    io::writeImage(o.out, io::mergeLuma(result, o.inputs.color.front().second));
    *o.info << "podm run: note: restored the Y channel; colour from input '"
            << o.inputs.color.front().first << "'\n";
  } else {
    io::writeImage(o.out, result);
  }
  if (!o.trace.empty())
    io::writeTraceCsv(o.trace, traceRecords(r));
}

// --ref: PSNR/SSIM with the conventions of the psnr/ssim monitors (docs/io.md).
int reportQuality(const RunOptions& o, const ir::Graph& g, const RunResult& r, const Tensor& ref,
                  const std::set<std::string>& notImages) {
  const Tensor& x = r.outputs.begin()->second;
  if (!(x.shape() == ref.shape())) {
    std::cerr << "podm run: error: --ref " << o.refPath << " is " << ref.shape().str()
              << " but the result is " << x.shape().str() << "\n";
    return kModelError;
  }
  const int shave = engine::qualityShave(g, x.shape(), o.inputs.tensors, notImages, o.shave);
  const int64_t border = io::alignedBorder(shave, o.align);
  if (2 * border >= x.shape().h || 2 * border >= x.shape().w) {
    std::cerr << "podm run: error: --shave " << shave << (o.align ? " and --align " : "")
              << (o.align ? std::to_string(o.align) : "") << " leave nothing of the "
              << x.shape().str() << " result\n";
    return kModelError;
  }
  const io::AlignedQuality q = io::measureAligned(x, ref, shave, o.align, o.alignSubdivisions);
  char line[256];
  if (o.align)
    std::snprintf(line, sizeof line,
                  "podm run: against %s (shave %d, aligned: best shift %+g,%+g within +-%d): PSNR "
                  "%.2f dB, SSIM %.4f\n",
                  o.refPath.c_str(), shave, q.dy, q.dx, o.align, q.psnr, q.ssim);
  else
    std::snprintf(line, sizeof line, "podm run: against %s (shave %d): PSNR %.2f dB, SSIM %.4f\n",
                  o.refPath.c_str(), shave, q.psnr, q.ssim);
  std::cout << line;
  return kOk;
}

} // namespace

int runRun(const std::vector<std::string>& given) {
  SetupTimes times;
  RunOptions o;
  if (int status = parseRunOptions(given, o); status >= 0)
    return status;
  std::ostream nowhere(nullptr); // --quiet: a stream without a buffer drops what it is given
  if (o.quiet)
    o.info = &nowhere;
  if (!engine::loadPlugins("run", o.plugins))
    return kUsageError;
  if (!o.stagesDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.stagesDir, ec);
    if (ec) {
      std::cerr << "podm run: error: --save-stages " << o.stagesDir << ": " << ec.message() << "\n";
      return kUsageError;
    }
  }
  engine::FftWisdomFile wisdom("run", o.wisdom);
  std::optional<Tensor> ref;
  if (!o.refPath.empty() && !(ref = readRef(o.refPath)))
    return kModelError;
  times.mark("inputs");

  ir::Graph g;
  std::optional<engine::LoadedModel> model; // none for a .pgraph
  std::set<std::string> notImages; // inputs the model declares as kernels (or other non-images)
  if (int status = buildGraph(o, ref, model, g, notImages, times); status >= 0)
    return status;
  std::string error;
  std::optional<std::map<std::string, Tensor>> bound =
      engine::bindGraphInputs(g, o.inputs, ref ? &*ref : nullptr, error);
  if (!bound) {
    std::cerr << "podm run: error: " << error << "; add --input NAME=FILE\n";
    return kUsageError;
  }
  for (const auto& [name, t] : o.inputs.tensors)
    if (!bound->count(name))
      *o.info << "podm run: warning: input '" << name << "' is not used by the graph\n";

  engine::installStdlibProxProvider();
  // Relative weight paths of `net` declarations: against --weights-dir, else the model's folder.
  const std::filesystem::path baseDir = o.weightsDir.empty()
                                            ? std::filesystem::absolute(o.file).parent_path()
                                            : std::filesystem::path(o.weightsDir);
  if (std::optional<std::string> missing =
          checkWeightFiles(g, model ? &*model : nullptr, baseDir)) {
    std::cerr << (model ? "" : "podm run: error: ") << *missing << (model ? "" : "\n");
    return kModelError;
  }
  engine::StdlibNetworkProvider networks(baseDir, useBf16("run", o.bf16, o.quiet));
  // Learnable params (mlp weights, filters) come from the net's weight file when it holds them.
  engine::ParamValues params;
  try {
    params = engine::paramValuesFromWeights(g, baseDir);
  } catch (const std::exception& e) {
    std::cerr << "podm run: error: " << e.what() << "\n";
    return kModelError;
  }
  if (std::string note = engine::initialValuesNote(params); !note.empty())
    *o.info << "podm run: note: " << note << "\n";
  times.mark("params");
  RunResult r;
  const bool progress = !o.quiet && isatty(fileno(stderr)) != 0;
  std::string device;
  try {
    engine::RunDevice backends(o.device);
    device = backends.name();
    if (!backends.note().empty())
      *o.info << "podm run: note: " << backends.note() << "\n";
    ExecutorOptions options{.trace = o.profile, .network = &networks};
    if (backends.onGpu())
      options.log = o.info; // which nodes fell back to the CPU, and why
    options.stageOutputs = !o.stagesDir.empty();
    if (progress || options.stageOutputs)
      options.onStage = [&](const StageReport& s) {
        if (!o.stagesDir.empty())
          saveStage(o, s);
        if (progress)
          printProgress(s);
      };
    Executor ex(g, backends.primary(), backends.fallback(), options);
    times.mark("executor (weights, kernels, memory)");
    r = ex.run(*bound, params.values);
    if (progress && r.stages > 0)
      std::cerr << "\n";
    if (o.profile) {
      ex.trace().print(std::cerr);
      printSetup(times, r, ex.memory(), networks);
    }
  } catch (const std::exception& e) {
    std::cerr << "podm run: error: " << e.what() << "\n";
    return kModelError;
  }
  wisdom.save();
  if (r.outputs.size() != 1) {
    std::cerr << "podm run: error: the graph has " << r.outputs.size()
              << " outputs; -o writes exactly one\n";
    return kModelError;
  }
  try {
    writeResult(o, r);
  } catch (const std::exception& e) {
    std::cerr << "podm run: error: " << e.what() << "\n";
    return kModelError;
  }
  reportProposition1(r, *o.info);
  reportBestStage(r, *o.info);
  printSummary(r, device, o.out, *o.info);
  return ref ? reportQuality(o, g, r, *ref, notImages) : kOk;
}

} // namespace podm::cli
