// Attribute storage and typed access.
#include "ir/attr.h"

#include "ir/errors.h"

#include <algorithm>
#include <cstring>

namespace podm::ir {

const char* attrKindName(AttrKind k) {
  switch (k) {
  case AttrKind::Int:
    return "int";
  case AttrKind::Float:
    return "float";
  case AttrKind::String:
    return "string";
  case AttrKind::Floats:
    return "float list";
  case AttrKind::Named:
    return "named float list";
  case AttrKind::Data:
    return "tensor data";
  }
  return "?";
}

uint64_t TensorData::hash() const {
  uint64_t h = 1469598103934665603ull;
  for (float f : *values_) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    for (int i = 0; i < 4; ++i) {
      h ^= (bits >> (8 * i)) & 0xffu;
      h *= 1099511628211ull;
    }
  }
  return h;
}

Attrs::Attrs(std::initializer_list<Attr> list) {
  for (const Attr& a : list)
    set(a.name, a.value);
}

void Attrs::set(std::string name, AttrValue value) {
  // Named lists are kept sorted so equal argument sets print and compare equal.
  if (auto* named = std::get_if<NamedFloats>(&value))
    std::stable_sort(named->begin(), named->end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  auto it = std::lower_bound(list_.begin(), list_.end(), name,
                             [](const Attr& a, const std::string& n) { return a.name < n; });
  if (it != list_.end() && it->name == name)
    it->value = std::move(value);
  else
    list_.insert(it, Attr{std::move(name), std::move(value)});
}

const AttrValue* Attrs::find(std::string_view name) const {
  auto it = std::lower_bound(list_.begin(), list_.end(), name,
                             [](const Attr& a, std::string_view n) { return a.name < n; });
  return it != list_.end() && it->name == name ? &it->value : nullptr;
}

namespace {
template <class T>
const T& getAs(const Attrs& attrs, std::string_view name, AttrKind kind) {
  const AttrValue* v = attrs.find(name);
  if (!v)
    throw IrError("missing attribute '" + std::string(name) + "'");
  if (kindOf(*v) != kind)
    throw IrError("attribute '" + std::string(name) + "' is of kind " + attrKindName(kindOf(*v)) +
                  ", expected " + attrKindName(kind));
  return std::get<T>(*v);
}
} // namespace

int64_t Attrs::getInt(std::string_view n) const {
  return getAs<int64_t>(*this, n, AttrKind::Int);
}
double Attrs::getFloat(std::string_view n) const {
  return getAs<double>(*this, n, AttrKind::Float);
}
const std::string& Attrs::getString(std::string_view n) const {
  return getAs<std::string>(*this, n, AttrKind::String);
}
const std::vector<double>& Attrs::getFloats(std::string_view n) const {
  return getAs<std::vector<double>>(*this, n, AttrKind::Floats);
}
const NamedFloats& Attrs::getNamed(std::string_view n) const {
  return getAs<NamedFloats>(*this, n, AttrKind::Named);
}
const TensorData& Attrs::getData(std::string_view n) const {
  return getAs<TensorData>(*this, n, AttrKind::Data);
}

std::vector<std::string> splitNames(std::string_view list) {
  std::vector<std::string> names;
  if (list.empty())
    return names;
  while (true) {
    size_t comma = list.find(',');
    names.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos)
      return names;
    list.remove_prefix(comma + 1);
  }
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names)
    out += (out.empty() ? "" : ",") + n;
  return out;
}

std::string joinWeightPaths(const std::vector<std::string>& paths) {
  std::string out;
  for (size_t i = 0; i < paths.size(); ++i)
    out += (i ? "\n" : "") + paths[i];
  return out;
}

std::vector<std::string> splitWeightPaths(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t end = joined.find('\n', start);
    if (end == std::string::npos)
      end = joined.size();
    if (end > start)
      out.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

} // namespace podm::ir
