// `podm run MODEL|FILE.pgraph --input NAME=FILE... -o OUT [--weights-dir DIR]`: compile (or load)
// the graph, run it on the CPU backend (networks through stdlib/nn, weights relative to the
// model's folder or DIR), write the result atomically, and optionally the per-stage monitors as CSV
// (--trace, the columns `podm plot` reads) and the per-node time table (--profile).
#include "cli/driver.h"
#include "cli/graph_build.h"
#include "cli/network_provider.h"
#include "cli/stdlib_prox_provider.h"
#include "cli/verbs.h"
#include "compiler/ir/serialize.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/io/atomic_file.h"
#include "runtime/io/image.h"

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace podm::cli {

namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string traceCsv(const RunResult& r) {
  std::ostringstream out;
  out << "stage";
  for (const std::string& n : r.monitors.names)
    out << "," << n;
  out << "\n" << std::setprecision(9);
  for (int64_t l = 0; l < r.stages; ++l) {
    out << l;
    for (const auto& values : r.monitors.values)
      out << "," << (static_cast<size_t>(l) < values.size() ? values[l] : 0.f);
    out << "\n";
  }
  return out.str();
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
  std::string file, out, trace, weightsDir;
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

  ir::Graph g;
  std::optional<LoadedModel> m;
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
    // Scalar inputs the model gives a default for.
    for (const ast::Decl& d : m->ast->decls)
      if (d.kind == ast::DeclKind::Input && d.type.name == "scalar" && d.value &&
          d.value->kind == ast::ExprKind::Number && !inputs.scalars.count(d.name))
        inputs.scalars[d.name] = d.value->number;
    std::optional<lower::LowerResult> lowered = lowerLoaded(*m, inputs);
    if (!lowered)
      return kModelError;
    for (const std::string& note : lowered->notes)
      std::cerr << "podm run: note: " << note << "\n";
    g = optimizeGraph(lowered->graph, nullptr);
  }

  std::map<std::string, Tensor> bound;
  for (ir::ValueId v : g.inputs()) {
    const std::string& name = g.node(v).attrs.getString("name");
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
  StdlibNetworkProvider networks(weightsDir.empty() ? std::filesystem::absolute(file).parent_path()
                                                    : std::filesystem::path(weightsDir));
  cpu::CpuBackend cpu;
  RunResult r;
  try {
    Executor ex(g, cpu, nullptr, ExecutorOptions{.trace = profile, .network = &networks});
    r = ex.run(bound);
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
      io::writeFileAtomic(trace, traceCsv(r));
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
  for (size_t i = 0; i < r.monitors.names.size(); ++i)
    if (!r.monitors.values[i].empty())
      std::cerr << ", " << r.monitors.names[i] << " " << r.monitors.values[i].back();
  std::cerr << "; wrote " << out << "\n";
  return kOk;
}

} // namespace podm::cli
