// Node attributes: a small sorted name -> value map. Values are ints, floats (double), strings,
// float lists (schedules), named floats (prox arguments such as p = 0.8) and tensor payloads
// (constant data, shared between graph copies so passes that return a new graph do not copy
// megabytes of spectra).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace podm::ir {

enum class AttrKind : uint8_t { Int = 0, Float = 1, String = 2, Floats = 3, Named = 4, Data = 5 };

const char* attrKindName(AttrKind k);

// Raw f32 payload of a constant: numel floats for f32, 2*numel interleaved (re, im) for c64.
class TensorData {
public:
  TensorData() : values_(std::make_shared<const std::vector<float>>()) {}
  explicit TensorData(std::vector<float> values)
      : values_(std::make_shared<const std::vector<float>>(std::move(values))) {}

  std::span<const float> values() const { return *values_; }
  size_t size() const { return values_->size(); }
  // Content equality: two graphs with equal constants compare equal after a round trip.
  bool operator==(const TensorData& o) const { return *values_ == *o.values_; }
  uint64_t hash() const; // FNV-1a over the bytes, printed for large constants

private:
  std::shared_ptr<const std::vector<float>> values_;
};

// Named floats, kept sorted by name with unique names (the builder checks).
using NamedFloats = std::vector<std::pair<std::string, double>>;

// The alternative index equals the AttrKind value.
using AttrValue =
    std::variant<int64_t, double, std::string, std::vector<double>, NamedFloats, TensorData>;

inline AttrKind kindOf(const AttrValue& v) {
  return static_cast<AttrKind>(v.index());
}

struct Attr {
  std::string name;
  AttrValue value;
  bool operator==(const Attr&) const = default;
};

class Attrs {
public:
  Attrs() = default;
  Attrs(std::initializer_list<Attr> list);

  // Inserts or replaces; keeps the list sorted by name so dumps and files are stable.
  void set(std::string name, AttrValue value);
  bool has(std::string_view name) const { return find(name) != nullptr; }
  const AttrValue* find(std::string_view name) const;

  // Typed access; throws IrError naming the attribute when it is missing or of another kind.
  int64_t getInt(std::string_view name) const;
  double getFloat(std::string_view name) const;
  const std::string& getString(std::string_view name) const;
  const std::vector<double>& getFloats(std::string_view name) const;
  const NamedFloats& getNamed(std::string_view name) const;
  const TensorData& getData(std::string_view name) const;

  std::span<const Attr> all() const { return list_; }
  size_t size() const { return list_.size(); }
  bool operator==(const Attrs&) const = default;

private:
  std::vector<Attr> list_;
};

// A list of names stored in one string attribute, comma separated ("lo,hi"): the run-time argument
// names of a prox node. The empty string is the empty list.
std::vector<std::string> splitNames(std::string_view list);
std::string joinNames(const std::vector<std::string>& names);

// The weight files of a network node, one per stage, stored in its "weights" attribute one per
// line (paths may contain commas).
std::string joinWeightPaths(const std::vector<std::string>& paths);
std::vector<std::string> splitWeightPaths(const std::string& joined);

} // namespace podm::ir
