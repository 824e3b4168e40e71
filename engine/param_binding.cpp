// Param values for `podm run` from the net's safetensors weight files.
#include "engine/param_binding.h"

#include "runtime/ir_types.h"
#include "stdlib/nn/safetensors.h"

#include <set>
#include <sstream>
#include <stdexcept>

namespace podm::engine {
namespace {

std::vector<int64_t> squeezeLeading(std::vector<int64_t> s) {
  while (s.size() > 1 && s.front() == 1)
    s.erase(s.begin());
  return s;
}

std::string shapeText(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

bool isSafetensors(const std::filesystem::path& p) {
  return p.extension() == ".safetensors";
}

} // namespace

ParamValues paramValuesFromWeights(const ir::Graph& graph, const std::filesystem::path& baseDir) {
  ParamValues out;
  std::vector<const ir::Node*> params;
  std::set<std::string> files;
  for (const ir::Node& n : graph.nodes()) {
    if (n.op == ir::Op::Param)
      params.push_back(&n);
    if (n.op != ir::Op::Network)
      continue;
    std::istringstream lines(n.attrs.getString("weights"));
    for (std::string line; std::getline(lines, line);) {
      std::filesystem::path p(line);
      if (p.is_relative())
        p = baseDir / p;
      if (isSafetensors(p) && std::filesystem::exists(p))
        files.insert(p.string());
    }
  }
  if (params.empty())
    return out;
  out.files.assign(files.begin(), files.end());
  std::map<std::string, std::pair<std::string, nn::HostTensor>> found; // name -> (file, tensor)
  for (const std::string& file : out.files) {
    nn::SafetensorsFile f = nn::readSafetensors(file);
    for (const ir::Node* p : params) {
      const std::string& name = p->attrs.getString("name");
      auto t = f.tensors.find(name);
      if (t != f.tensors.end() && !found.count(name))
        found.emplace(name, std::make_pair(file, std::move(t->second)));
    }
  }
  for (const ir::Node* p : params) {
    const std::string& name = p->attrs.getString("name");
    auto it = found.find(name);
    if (it == found.end()) {
      out.atInit.push_back(name);
      continue;
    }
    const auto& [file, t] = it->second;
    const Shape shape = toShape(p->type);
    const std::vector<int64_t> want{shape.n, shape.c, shape.h, shape.w};
    if (squeezeLeading(t.shape) != squeezeLeading(want))
      throw std::runtime_error(file + ": tensor '" + name + "' has shape " + shapeText(t.shape) +
                               " but the model's param needs " + shapeText(want));
    Tensor v(shape);
    std::copy(t.data.begin(), t.data.end(), v.data());
    out.values.emplace(name, std::move(v));
  }
  return out;
}

std::string initialValuesNote(const ParamValues& p) {
  if (p.atInit.empty())
    return "";
  std::string names;
  for (const std::string& n : p.atInit)
    names += (names.empty() ? "" : ", ") + n;
  return "learnable params at their initial values (" +
         std::string(p.files.empty() ? "no net weight file" : "not in the net's weight file") +
         "): " + names;
}

} // namespace podm::engine
