// `podm run MODEL|FILE.pgraph --input NAME=FILE... -o OUT [--weights-dir DIR] [--ref FILE]`:
// compile (or load) the graph, run it on the CPU backend (networks through stdlib/nn, weights
// relative to the model's folder or DIR), write the result atomically, and optionally the
// per-stage monitors as CSV (--trace, the columns `podm plot` reads), the per-node time table
// (--profile) and the final PSNR/SSIM against a ground truth (--ref, docs/io.md). On a terminal
// a progress line is rewritten at the end of every stage; pipes and files get none.
#include "cli/driver.h"
#include "cli/graph_build.h"
#include "cli/network_provider.h"
#include "cli/param_binding.h"
#include "cli/stdlib_prox_provider.h"
#include "cli/verbs.h"
#include "compiler/ir/serialize.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/io/atomic_file.h"
#include "runtime/io/color.h"
#include "runtime/io/image.h"
#include "runtime/io/metrics.h"
#include "runtime/io/plot.h"

#include <algorithm>
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
    if (branch && i < branch->size())
      row.branch = (*branch)[i] != 0 ? "accept" : "feedback";
    row.time = i < r.stageSeconds.size() ? r.stageSeconds[i] : NAN;
    rows.push_back(std::move(row));
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
    std::cerr << "podm run: error: --ref " << path << ": " << e.what() << "\n";
    return std::nullopt;
  }
}

// The monitors' border convention (docs/io.md): the scale s when the result is s times larger
// than an image input (the observation of super-resolution), else 0. Kernel inputs (`notImages`)
// are no observation: a 8x8 blur kernel of a 32x32 image must not read as x4.
int defaultShave(const Shape& result, const std::map<std::string, Tensor>& inputs,
                 const std::set<std::string>& notImages) {
  for (const auto& [name, t] : inputs) {
    const Shape& o = t.shape();
    if (name == "ref" || notImages.count(name) || o.h < 1 || o.w < 1 || result.h % o.h != 0)
      continue;
    const int64_t s = result.h / o.h;
    if (s > 1 && s * o.w == result.w)
      return static_cast<int>(s);
  }
  return 0;
}

} // namespace

int runRun(const std::vector<std::string>& given) {
  std::vector<std::string> args = given, plugins;
  if (!takePluginOptions("run", args, plugins))
    return kUsageError;
  GraphInputs inputs;
  int status = kOk;
  if (!takeInputOptions("run", args, inputs, status))
    return status;
  std::string file, out, trace, weightsDir, refPath;
  int shave = -1; // -1: the convention of docs/io.md
  bool profile = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-o" || a == "--trace") {
      if (i + 1 >= args.size())
        return usageError("run", a + " needs a file name");
      (a == "-o" ? out : trace) = args[++i];
    } else if (a == "--weights-dir") {
      if (i + 1 >= args.size())
        return usageError("run", a + " needs a folder");
      weightsDir = args[++i];
    } else if (a == "--ref") {
      if (i + 1 >= args.size())
        return usageError("run", a + " needs an image file");
      refPath = args[++i];
    } else if (a == "--shave") {
      char* end = nullptr;
      long v = i + 1 < args.size() ? std::strtol(args[i + 1].c_str(), &end, 10) : -1;
      if (i + 1 >= args.size() || *end != 0 || v < 0 || v > 4096)
        return usageError("run", "--shave needs a whole number of pixels (0 or more)");
      shave = static_cast<int>(v);
      ++i;
    } else if (a == "--profile") {
      profile = true;
    } else if (a.rfind("-", 0) == 0) {
      return usageError("run", "unknown option '" + a + "'");
    } else if (file.empty()) {
      file = a;
    } else {
      return usageError("run", "more than one model file given");
    }
  }
  if (file.empty())
    return usageError("run", "no model file given");
  if (out.empty())
    return usageError("run", "say where the result goes with -o OUT (.png, .tif or .npy)");
  if (!loadPlugins("run", plugins))
    return kUsageError;
  std::optional<Tensor> ref;
  if (!refPath.empty() && !(ref = readRef(refPath)))
    return kModelError;

  ir::Graph g;
  std::optional<LoadedModel> m;
  std::set<std::string> notImages; // inputs the model declares as kernels (or other non-images)
  if (endsWith(file, ".pgraph")) {
    try {
      g = ir::load(file);
    } catch (const std::exception& e) {
      std::cerr << "podm run: error: " << e.what() << "\n";
      return kModelError;
    }
  } else {
    m = loadModel(file, Stop::AfterSema);
    if (!m)
      return kUsageError;
    if (!m->checked)
      return kModelError;
    // --ref is also the model's `ref` input unless --input gave one.
    bool refBound = false;
    for (const ast::Decl& d : m->ast->decls)
      if (ref && d.kind == ast::DeclKind::Input && d.name == "ref" &&
          !inputs.tensors.count("ref")) {
        inputs.tensors["ref"] = *ref;
        inputs.shapes["ref"] = {ref->shape().h, ref->shape().w};
        refBound = true;
      }
    for (const ast::Decl& d : m->ast->decls)
      if (d.kind == ast::DeclKind::Input && d.type.name != "image")
        notImages.insert(d.name);
    // Scalar inputs the model gives a default for.
    for (const ast::Decl& d : m->ast->decls)
      if (d.kind == ast::DeclKind::Input && d.type.name == "scalar" && d.value &&
          d.value->kind == ast::ExprKind::Number && !inputs.scalars.count(d.name))
        inputs.scalars[d.name] = d.value->number;
    std::optional<lower::LowerResult> lowered = lowerLoaded(*m, inputs);
    if (!lowered) {
      if (refBound)
        std::cerr << "podm run: note: the model's input 'ref' is --ref " << refPath << "\n";
      return kModelError;
    }
    for (const std::string& note : lowered->notes)
      std::cerr << "podm run: note: " << note << "\n";
    g = optimizeGraph(lowered->graph, nullptr);
  }

  std::map<std::string, Tensor> bound;
  for (ir::ValueId v : g.inputs()) {
    const std::string& name = g.node(v).attrs.getString("name");
    if (name == "ref" && ref && !inputs.tensors.count(name))
      inputs.tensors[name] = *ref; // a compiled graph's `ref` input

    if (auto t = inputs.tensors.find(name); t != inputs.tensors.end()) {
      bound[name] = t->second;
    } else if (auto s = inputs.scalars.find(name); s != inputs.scalars.end()) {
      Tensor t1(Shape{1, 1, 1, 1});
      t1.data()[0] = static_cast<float>(s->second);
      bound[name] = t1;
    } else {
      std::cerr << "podm run: error: input '" << name << "' (" << g.type(v).str()
                << ") is not given; add --input " << name << "=FILE\n";
      return kUsageError;
    }
  }
  for (const auto& [name, t] : inputs.tensors)
    if (!bound.count(name))
      std::cerr << "podm run: warning: input '" << name << "' is not used by the graph\n";

  installStdlibProxProvider();
  // Relative weight paths of `net` declarations: against --weights-dir, else the model's folder.
  const std::filesystem::path baseDir = weightsDir.empty()
                                            ? std::filesystem::absolute(file).parent_path()
                                            : std::filesystem::path(weightsDir);
  StdlibNetworkProvider networks(baseDir);
  // Learnable params (mlp weights, filters) come from the net's weight file when it holds them.
  ParamValues params;
  try {
    params = paramValuesFromWeights(g, baseDir);
  } catch (const std::exception& e) {
    std::cerr << "podm run: error: " << e.what() << "\n";
    return kModelError;
  }
  if (std::string note = initialValuesNote(params); !note.empty())
    std::cerr << "podm run: note: " << note << "\n";
  cpu::CpuBackend cpu;
  RunResult r;
  const bool progress = isatty(fileno(stderr)) != 0;
  try {
    ExecutorOptions options{.trace = profile, .network = &networks};
    if (progress)
      options.onStage = printProgress;
    Executor ex(g, cpu, nullptr, options);
    r = ex.run(bound, params.values);
    if (progress && r.stages > 0)
      std::cerr << "\n";
    if (profile)
      ex.trace().print(std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "podm run: error: " << e.what() << "\n";
    return kModelError;
  }
  if (r.outputs.size() != 1) {
    std::cerr << "podm run: error: the graph has " << r.outputs.size()
              << " outputs; -o writes exactly one\n";
    return kModelError;
  }
  try {
    const Tensor& result = r.outputs.begin()->second;
    // A colour input was restored on its Y: recombine with the first colour input's chroma
    // (resized bicubically when the sizes differ, as for super-resolution). .npy keeps the Y.
    if (!inputs.color.empty() && result.shape().c == 1 && !endsWith(out, ".npy")) {
      io::writeImage(out, io::mergeLuma(result, inputs.color.front().second));
      std::cerr << "podm run: note: restored the Y channel; colour from input '"
                << inputs.color.front().first << "'\n";
    } else {
      io::writeImage(out, result);
    }
    if (!trace.empty())
      io::writeTraceCsv(trace, traceRecords(r));
  } catch (const std::exception& e) {
    std::cerr << "podm run: error: " << e.what() << "\n";
    return kModelError;
  }
  // Proposition 1 (DESIGN.md §1): with the check on, phi must not increase; say so either way.
  const std::vector<float>* phi = r.monitors.find("phi");
  if (phi && r.monitors.find("branch")) {
    size_t bad = 0;
    for (size_t l = 1; l < phi->size() && !bad; ++l)
      if ((*phi)[l] > (*phi)[l - 1] + 1e-5f * std::fabs((*phi)[l - 1]) + 1e-6f)
        bad = l;
    if (bad)
      std::cerr << "podm run: warning: phi increased at stage " << bad << " (" << (*phi)[bad - 1]
                << " -> " << (*phi)[bad]
                << "): the parameters are not admissible for Proposition 1 (gamma < 1/L_f, "
                   "c <= mu/2)\n";
    else
      std::cerr << "podm run: Proposition 1 holds on this run: phi never increased\n";
  }
  std::cerr << "podm run: " << r.stages << " stages";
  for (size_t i = 0; i < r.monitors.names.size(); ++i) {
    const std::vector<float>& values = r.monitors.values[i];
    if (values.empty())
      continue;
    if (r.monitors.names[i] == "branch") // a count says more than the last stage's 0 or 1
      std::cerr << ", accepted " << std::count(values.begin(), values.end(), 1.f) << "/"
                << values.size();
    else
      std::cerr << ", " << r.monitors.names[i] << " " << values.back();
  }
  std::cerr << "; wrote " << out << "\n";
  if (ref) {
    // The same conventions as the psnr/ssim monitors: the result as restored (the Y channel of a
    // colour run), the ground truth's Y, the border shave of the model's ssim monitor or the scale.
    const Tensor& x = r.outputs.begin()->second;
    if (!(x.shape() == ref->shape())) {
      std::cerr << "podm run: error: --ref " << refPath << " is " << ref->shape().str()
                << " but the result is " << x.shape().str() << "\n";
      return kModelError;
    }
    if (shave < 0)
      for (const ir::Node& n : g.nodes())
        if (n.op == ir::Op::Ssim && shave < 0)
          shave = static_cast<int>(n.attrs.getInt("shave"));
    if (shave < 0)
      shave = defaultShave(x.shape(), inputs.tensors, notImages);
    if (2 * int64_t(shave) >= x.shape().h || 2 * int64_t(shave) >= x.shape().w) {
      std::cerr << "podm run: error: --shave " << shave << " leaves nothing of the "
                << x.shape().str() << " result\n";
      return kModelError;
    }
    io::Quality q = io::measure(x, *ref, shave);
    char line[160];
    std::snprintf(line, sizeof line, "podm run: against %s (shave %d): PSNR %.2f dB, SSIM %.4f\n",
                  refPath.c_str(), shave, q.psnr, q.ssim);
    std::cout << line;
  }
  return kOk;
}

} // namespace podm::cli
