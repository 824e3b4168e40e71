// A small strict JSON reader for weight-file headers (safetensors headers, Keras model_config).
// Written here rather than taken from a library because the input is hostile: it bounds nesting
// depth, rejects anything RFC 8259 does not allow (trailing commas, leading zeros, bare control
// characters, duplicate keys) and reports the byte offset of the first error.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podm::nn::json {

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Value {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  std::string text; // String: the decoded string; Number: the literal as written
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members; // in file order

  bool isObject() const { return kind == Kind::Object; }
  bool isArray() const { return kind == Kind::Array; }
  bool isString() const { return kind == Kind::String; }
  bool isNumber() const { return kind == Kind::Number; }
  // The member named `key`, or nullptr.
  const Value* find(std::string_view key) const;
  // The number as a non-negative integer that fits in int64 (no fraction, no exponent); false
  // otherwise. Used for shapes and offsets, where a float or a negative value is an error.
  bool asIndex(int64_t& out) const;
  // The number as a double (any valid JSON number).
  double asDouble() const;
};

// Parses a complete document (whitespace around it allowed, nothing else). Nesting deeper than
// `maxDepth` is an error, so a hostile header cannot exhaust the stack.
Value parse(std::string_view text, int maxDepth = 64);

} // namespace podm::nn::json
