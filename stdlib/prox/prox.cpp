// The prox registry and argument checking: the single place where model-file arguments meet the
// parameter tables, so the compiler, the CLI and plugin loading all give the same diagnostics.
#include "stdlib/prox/prox.h"

#include "stdlib/prox/prox_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace podm::stdlib {

namespace detail {

std::string formatNumber(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value > 0 ? "inf" : "-inf";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

void requireRealTensor(std::string_view proxName, const Tensor& x) {
  if (x.empty())
    throw std::invalid_argument("prox '" + std::string(proxName) + "': the input tensor is empty");
  if (x.dtype() != DType::F32)
    throw std::invalid_argument("prox '" + std::string(proxName) + "' needs an f32 tensor, got " +
                                dtypeName(x.dtype()));
}

void prepareProxOutput(std::string_view proxName, const Tensor& v, Tensor& out) {
  requireRealTensor(proxName, v);
  if (out.empty()) {
    out = Tensor(v.shape());
    return;
  }
  if (out.dtype() != DType::F32 || out.shape() != v.shape())
    throw std::invalid_argument("prox '" + std::string(proxName) + "': output " +
                                out.shape().str() + " " + dtypeName(out.dtype()) +
                                " does not match input " + v.shape().str() + " f32");
}

void prepareProxVjp(std::string_view proxName, const Tensor& v, const Tensor& dOut, Tensor& dV) {
  prepareProxOutput(proxName, v, dV);
  if (dOut.empty() || dOut.dtype() != DType::F32 || dOut.shape() != v.shape())
    throw std::invalid_argument("prox '" + std::string(proxName) + "': cotangent " +
                                (dOut.empty() ? std::string("(none)") : dOut.shape().str()) +
                                " does not match input " + v.shape().str() + " f32");
}

double argument(const ProxArgs& args, const std::string& name) {
  auto it = args.find(name);
  if (it == args.end())
    throw std::logic_error("prox factory read argument '" + name + "' the registry did not pass");
  return it->second;
}

int64_t integerArgument(const ProxArgs& args, const std::string& name) {
  double value = argument(args, name);
  if (value != std::floor(value))
    throwBadArgument(name + " must be a whole number (got " + formatNumber(value) + ")");
  return static_cast<int64_t>(value);
}

void throwBadArgument(const std::string& message) {
  throw std::invalid_argument(message);
}

} // namespace detail

namespace {

std::string quoted(std::string_view name) {
  return "'" + std::string(name) + "'";
}

std::string parameterList(const ProxEntry& entry) {
  if (entry.params.empty())
    return "it takes no parameters";
  std::string list = "its parameters: ";
  for (size_t i = 0; i < entry.params.size(); ++i)
    list += (i ? ", " : "") + entry.params[i].name;
  return list;
}

// Levenshtein distance, to suggest the intended name for a typo in a model file.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

} // namespace

void ProxFunction::vjp(const Tensor&, float, const Tensor&, Tensor&) const {
  throw std::runtime_error("no derivative rule (vjp) for this prox");
}

ProxTraits effectiveTraits(const ProxEntry& entry, const ProxFunction& bound) {
  return bound.boundTraits().value_or(entry.traits);
}

std::unique_ptr<ProxFunction> makeProx(const ProxEntry& entry, const ProxArgs& args) {
  const std::string prefix = "prox " + quoted(entry.name) + ": ";
  for (const auto& [name, value] : args) {
    auto param = std::find_if(entry.params.begin(), entry.params.end(),
                              [&](const ProxParam& p) { return p.name == name; });
    if (param == entry.params.end())
      throw std::invalid_argument(prefix + "unknown parameter " + quoted(name) + "; " +
                                  parameterList(entry));
    if (!std::isfinite(value))
      throw std::invalid_argument(prefix + "argument " + name + " = " +
                                  detail::formatNumber(value) + " is not a finite number");
    if (value < param->min || value > param->max)
      throw std::invalid_argument(prefix + "argument " + name + " = " +
                                  detail::formatNumber(value) + " is outside its range [" +
                                  detail::formatNumber(param->min) + ", " +
                                  detail::formatNumber(param->max) + "] (" + param->doc + ")");
  }
  ProxArgs filled = args;
  for (const ProxParam& param : entry.params) {
    if (filled.count(param.name))
      continue;
    if (param.required)
      throw std::invalid_argument(prefix + "missing required argument " + quoted(param.name) +
                                  " (" + param.doc + ")");
    if (!std::isnan(param.defaultValue))
      filled[param.name] = param.defaultValue;
  }
  if (!entry.make)
    throw std::logic_error(prefix + "the entry has no factory");
  std::unique_ptr<ProxFunction> bound;
  try {
    bound = entry.make(filled);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(prefix + error.what());
  }
  if (!bound)
    throw std::logic_error(prefix + "the factory returned no function");
  return bound;
}

std::string proxArgumentError(const ProxEntry& entry, const ProxArgs& args) {
  try {
    makeProx(entry, args);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return {};
}

void ProxRegistry::add(ProxEntry entry) {
  if (entry.name.empty())
    throw std::invalid_argument("a prox function needs a name");
  if (!entry.make)
    throw std::invalid_argument("prox " + quoted(entry.name) + " has no factory (make)");
  if (entries_.count(entry.name))
    throw std::invalid_argument("prox " + quoted(entry.name) + " is already registered");
  std::string name = entry.name;
  entries_.emplace(std::move(name), std::move(entry));
}

const ProxEntry* ProxRegistry::find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<const ProxEntry*> ProxRegistry::all() const {
  std::vector<const ProxEntry*> sorted;
  sorted.reserve(entries_.size());
  for (const auto& [name, entry] : entries_)
    sorted.push_back(&entry);
  return sorted;
}

std::unique_ptr<ProxFunction> ProxRegistry::make(std::string_view name,
                                                 const ProxArgs& args) const {
  if (const ProxEntry* entry = find(name))
    return makeProx(*entry, args);
  std::string message = "unknown prox function " + quoted(name);
  const ProxEntry* closest = nullptr;
  size_t closestDistance = 3; // further than two edits is not a typo
  std::string known;
  for (const auto& [candidate, entry] : entries_) {
    known += (known.empty() ? "" : ", ") + candidate;
    size_t distance = editDistance(name, candidate);
    if (distance < closestDistance) {
      closestDistance = distance;
      closest = &entry;
    }
  }
  if (closest)
    message += "; did you mean " + quoted(closest->name) + "?";
  message += " Known: " + known;
  throw std::invalid_argument(message);
}

ProxRegistry& proxRegistry() {
  static ProxRegistry registry = [] {
    ProxRegistry standard;
    registerStandardProxes(standard);
    return standard;
  }();
  return registry;
}

} // namespace podm::stdlib
