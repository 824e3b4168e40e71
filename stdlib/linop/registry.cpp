// Argument checking for registry entries and the registry container.
#include "stdlib/linop/registry.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace podm::stdlib {
namespace {

const char* kindName(LinopParamKind kind) {
  switch (kind) {
  case LinopParamKind::Number:
    return "a number";
  case LinopParamKind::String:
    return "a string";
  case LinopParamKind::Tensor:
    return "a tensor";
  case LinopParamKind::Flag:
    return "true or false";
  }
  return "?";
}

const LinopParam* findParam(const LinopEntry& entry, const std::string& name) {
  for (const LinopParam& p : entry.params)
    if (p.name == name)
      return &p;
  return nullptr;
}

template <typename Map>
void checkGiven(const LinopEntry& entry, const Map& given, LinopParamKind kind) {
  for (const auto& [name, value] : given) {
    const LinopParam* p = findParam(entry, name);
    if (!p)
      throw std::invalid_argument(entry.name + ": unknown parameter '" + name + "'");
    if (p->kind != kind)
      throw std::invalid_argument(entry.name + ": parameter '" + name + "' must be " +
                                  kindName(p->kind) + ", got " + kindName(kind));
  }
}

} // namespace

LinopPtr LinopEntry::create(const LinopArgs& args) const {
  checkGiven(*this, args.numbers, LinopParamKind::Number);
  checkGiven(*this, args.strings, LinopParamKind::String);
  checkGiven(*this, args.tensors, LinopParamKind::Tensor);
  LinopArgs complete = args;
  for (const LinopParam& p : params) {
    bool present = (p.kind == LinopParamKind::Number && args.numbers.count(p.name)) ||
                   (p.kind == LinopParamKind::String && args.strings.count(p.name)) ||
                   (p.kind == LinopParamKind::Tensor && args.tensors.count(p.name));
    if (present || p.kind == LinopParamKind::Flag) // flags are the compiler's, not make()'s
      continue;
    if (p.required || p.kind == LinopParamKind::Tensor)
      throw std::invalid_argument(name + ": missing required parameter '" + p.name + "' (" + p.doc +
                                  ")");
    if (p.kind == LinopParamKind::Number)
      complete.numbers[p.name] = p.defaultValue;
    else
      complete.strings[p.name] = p.defaultString;
  }
  LinopPtr op = make(complete);
  if (!op)
    throw std::logic_error(name + ": make returned no operator");
  return op;
}

bool LinopEntry::circulant(const LinopIrArgs& args) const {
  if (traits.circulant != Circulance::WhenPeriodic)
    return traits.circulant == Circulance::Always;
  auto boundary = args.strings.find("boundary");
  return boundary != args.strings.end() && boundary->second == "periodic";
}

void LinopRegistry::add(LinopEntry entry) {
  if (entry.name.empty() || !entry.make)
    throw std::invalid_argument("linop registry: an entry needs a name and a make function");
  std::lock_guard lock(mutex_);
  for (const auto& e : entries_)
    if (e->name == entry.name)
      throw std::invalid_argument("linop registry: '" + entry.name + "' is already registered");
  entries_.push_back(std::make_unique<LinopEntry>(std::move(entry)));
}

const LinopEntry* LinopRegistry::find(std::string_view name) const {
  std::lock_guard lock(mutex_);
  for (const auto& e : entries_)
    if (e->name == name)
      return e.get();
  return nullptr;
}

std::vector<const LinopEntry*> LinopRegistry::all() const {
  std::lock_guard lock(mutex_);
  std::vector<const LinopEntry*> result;
  result.reserve(entries_.size());
  for (const auto& e : entries_)
    result.push_back(e.get());
  return result;
}

LinopRegistry& linopRegistry() {
  static LinopRegistry registry;
  // Function-local statics are initialized once, thread-safely, on first use: no reliance on the
  // order of static initializers across translation units.
  static const bool registered = (registerStandardLinops(registry), true);
  (void)registered;
  return registry;
}

int64_t integerArg(const LinopArgs& args, const std::string& op, const std::string& param,
                   int64_t lo, int64_t hi) {
  auto it = args.numbers.find(param);
  if (it == args.numbers.end())
    throw std::invalid_argument(op + ": missing parameter '" + param + "'");
  double v = it->second;
  if (!std::isfinite(v) || v != std::floor(v) || v < static_cast<double>(lo) ||
      v > static_cast<double>(hi))
    throw std::invalid_argument(op + ": parameter '" + param + "' must be a whole number in [" +
                                std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                                std::to_string(v));
  return static_cast<int64_t>(v);
}

} // namespace podm::stdlib
