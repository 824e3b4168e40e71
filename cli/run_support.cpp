// The pieces `podm run` and `podm eval` share (run_support.h).
#include "cli/run_support.h"

#include "frontend/ast/ast.h"
#include "ir/attr.h"
#include "runtime/network_provider.h"
#include "stdlib/nn/network.h"

#include <algorithm>
#include <iostream>
#include <sstream>

namespace podm::cli {

std::optional<std::string> checkInputKinds(const ast::Model& model,
                                           const engine::GraphInputs& inputs) {
  std::map<std::string, std::pair<int64_t, int64_t>> images, kernels;
  for (const ast::Decl& d : model.decls) {
    if (d.kind != ast::DeclKind::Input)
      continue;
    const std::string& kind = d.type.name;
    const bool number = inputs.scalars.count(d.name) > 0;
    auto file = inputs.tensors.find(d.name);
    std::ostringstream value;
    if (number)
      value << inputs.scalars.at(d.name);
    if (number && (kind == "image" || kind == "kernel"))
      return "--input " + d.name + "=" + value.str() + ": '" + d.name + "' is " +
             (kind == "image" ? "an image" : "a kernel") +
             " input of the model; give a file (--input " + d.name + "=FILE), not a number";
    if (file != inputs.tensors.end() && kind == "scalar")
      return "--input " + d.name + "=...: '" + d.name +
             "' is a scalar input of the model; give a number, not a file";
    if (file == inputs.tensors.end())
      continue;
    const Shape& s = file->second.shape();
    (kind == "kernel" ? kernels : images)[d.name] = {s.h, s.w};
  }
  for (const auto& [k, ks] : kernels)
    for (const auto& [i, is] : images)
      if (i != "ref" && (ks.first > is.first || ks.second > is.second))
        return "the kernel '" + k + "' (" + std::to_string(ks.first) + "x" +
               std::to_string(ks.second) + ") is larger than the image '" + i + "' (" +
               std::to_string(is.first) + "x" + std::to_string(is.second) +
               "): were the files of --input " + k + "= and --input " + i + "= swapped?";
  return std::nullopt;
}

std::optional<std::string> checkWeightFiles(const ir::Graph& g, const engine::LoadedModel* model,
                                            const std::filesystem::path& baseDir) {
  for (const ir::Node& n : g.nodes()) {
    if (n.op != ir::Op::Network)
      continue;
    const std::string net = n.attrs.getString("net");
    const std::vector<std::string> paths = ir::splitWeightPaths(n.attrs.getString("weights"));
    for (size_t l = 0; l < paths.size(); ++l) {
      std::filesystem::path p(paths[l]);
      if (p.is_relative())
        p = baseDir / p;
      std::error_code ec;
      if (std::filesystem::is_regular_file(p, ec))
        continue;
      std::string message = "net " + net + ": " +
                            (paths.size() > 1 ? "stage " + std::to_string(l + 1) + "'s " : "") +
                            "weight file '" + paths[l] + "' is not found (looked for " +
                            p.string() + "); relative weight paths are read against " +
                            "the model file's folder, or against --weights-dir DIR";
      if (!model || !model->ast)
        return message;
      SourceLoc at;
      for (const ast::Decl& d : model->ast->decls)
        if (d.kind == ast::DeclKind::Net && d.name == net)
          at = d.weights ? d.weights->loc : d.loc;
      return model->diags->render(Diagnostic{Severity::Error, at, message});
    }
  }
  return std::nullopt;
}

int64_t acceptedStages(const RunResult& r) {
  const std::vector<float>* branch = r.monitors.find("branch");
  return branch ? std::count(branch->begin(), branch->end(), 1.f) : -1;
}

bool parsePrecision(const std::string& value, bool& bf16) {
  if (value != "fp32" && value != "bf16")
    return false;
  bf16 = value == "bf16";
  return true;
}

bool useBf16(const std::string& verb, bool requested, bool quiet) {
  if (!requested || nn::bf16Supported())
    return requested;
  if (!quiet)
    std::cerr << "podm " << verb << ": note: --precision bf16: this CPU has no native bf16 "
              << "arithmetic (AVX512_BF16 or AMX); the networks run in fp32\n";
  return false;
}

} // namespace podm::cli
