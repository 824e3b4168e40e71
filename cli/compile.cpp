// `podm compile FILE --emit=STAGE`: run the pipeline up to STAGE and print it -- the AST, the
// lowered graph, the optimized graph, or the execution plan (memory and backend placement);
// optionally save the graph as a .pgraph for `podm run`. `-o F.pgraph` alone says what is wanted:
// the optimized graph saved, nothing printed.
#include "cli/options.h"
#include "cli/verbs.h"
#include "engine/stdlib_prox_provider.h"
#include "ir/errors.h"
#include "ir/printer.h"
#include "ir/serialize.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/network_provider.h"

#include <iostream>
#include <stdexcept>

namespace podm::cli {
namespace {

// Networks as the plan sees them: their nodes need kernels, not weights (the memory plan and the
// placement do not depend on them), so --emit=plan works without the weight files.
class UnloadedNetworks final : public NetworkProvider {
  class Unloaded final : public NetworkOperator {
  public:
    void apply(const Tensor&, int64_t, Tensor&) override {
      throw std::runtime_error("podm compile --emit=plan does not load network weights");
    }
  };

public:
  std::unique_ptr<NetworkOperator> make(const NetworkDesc&) const override {
    return std::make_unique<Unloaded>();
  }
};

// The CPU executor's view of the graph: backend, its notes, and the memory plan. False (message
// printed) when a kernel cannot be prepared (e.g. a prox no plugin provides).
bool printPlan(const ir::Graph& g) {
  engine::installStdlibProxProvider();
  cpu::CpuBackend cpu;
  UnloadedNetworks networks;
  try {
    Executor ex(g, cpu, nullptr, ExecutorOptions{.network = &networks});
    std::cout << "// backend: cpu\n";
    for (const std::string& note : ex.notes())
      std::cout << "// " << note << "\n";
    std::cout << ex.memory().str();
  } catch (const std::exception& e) {
    std::cerr << "podm compile: error: " << e.what() << "\n";
    return false;
  }
  return true;
}

} // namespace

int runCompile(const std::vector<std::string>& given) {
  std::vector<std::string> args = given, plugins;
  std::vector<engine::ConstOverride> overrides;
  if (!takePluginOptions("compile", args, plugins) || !takeSetOptions("compile", args, overrides))
    return kUsageError;
  engine::GraphInputs inputs;
  int status = kOk;
  if (!takeInputOptions("compile", args, inputs, status))
    return status;
  std::string file, emit, out;
  bool verbose = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--emit=", 0) == 0)
      emit = a.substr(7);
    else if (a == "-v" || a == "--verbose")
      verbose = true;
    else if (a == "-o") {
      if (i + 1 >= args.size())
        return usageError("compile", "-o needs the path of a .pgraph file");
      out = args[++i];
    } else if (a.rfind("-", 0) == 0)
      return usageError("compile", "unknown option '" + a + "'");
    else if (file.empty())
      file = a;
    else
      return usageError("compile", "more than one model file given");
  }
  if (file.empty())
    return usageError("compile", "no model file given");
  // Without --emit, -o alone saves the graph `podm run` would build, and prints no stage.
  const bool saveOnly = emit.empty() && !out.empty();
  if (saveOnly)
    emit = "graph-opt";
  if (emit.empty())
    return usageError("compile", "say which stage to print with --emit=ast|graph|graph-opt|plan, "
                                 "or save the optimized graph with -o F.pgraph");
  if (emit != "ast" && emit != "graph" && emit != "graph-opt" && emit != "plan")
    return usageError("compile", "unknown stage --emit=" + emit +
                                     "; the stages are ast, graph, graph-opt and plan");
  if (emit == "ast" && !out.empty())
    return usageError("compile", "-o saves a graph; use it with --emit=graph, graph-opt or plan");
  if (!engine::loadPlugins("compile", plugins))
    return kUsageError;
  std::optional<engine::LoadedModel> m =
      engine::loadModel(file, engine::Stop::AfterSema, overrides);
  if (!m)
    return kUsageError;
  if (!m->checked)
    return kModelError;
  if (emit == "ast") {
    std::cout << ast::dump(*m->ast);
    return kOk;
  }
  std::optional<lower::LowerResult> lowered = engine::lowerLoaded(*m, inputs);
  if (!lowered)
    return kModelError;
  ir::Graph g = std::move(lowered->graph);
  if (emit != "graph")
    g = engine::optimizeGraph(g, verbose ? &std::cerr : nullptr);
  if (saveOnly) {
    for (const std::string& note : lowered->notes)
      std::cerr << "podm compile: note: " << note << "\n";
  } else {
    for (const std::string& note : lowered->notes)
      std::cout << "// " << note << "\n";
    if (emit == "plan") {
      if (!printPlan(g))
        return kModelError;
    } else
      ir::dump(g, std::cout);
  }
  if (!out.empty()) {
    try {
      ir::save(g, out);
    } catch (const ir::IrError& e) {
      std::cerr << "podm compile: error: " << e.what() << "\n";
      return kModelError;
    }
    if (saveOnly)
      std::cout << "wrote " << out << "\n";
  }
  return kOk;
}

} // namespace podm::cli
