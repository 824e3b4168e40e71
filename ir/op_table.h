// The op table: every op of the graph IR as one row of data (ops.def) -- name, operand signature,
// traits, allowed region, attribute schema, result-type rule and adjoint. Builders, the verifier,
// the printer, the loader, passes and backends all read this table; nothing switches over ops.
#pragma once

#include "ir/attr.h"
#include "ir/types.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace podm::ir {

enum class Op : uint16_t {
#define PODM_OP(id, ...) id,
#include "ir/ops.def"
#undef PODM_OP
};

inline constexpr size_t kOpCount = 0
#define PODM_OP(...) +1
#include "ir/ops.def"
#undef PODM_OP
    ;

// Op traits (bit flags); see ops.def for their exact meaning.
namespace trait {
inline constexpr uint32_t Elementwise = 1u << 0;
inline constexpr uint32_t Linear = 1u << 1;
inline constexpr uint32_t Separable = 1u << 2;
inline constexpr uint32_t Reduction = 1u << 3;
inline constexpr uint32_t Control = 1u << 4;
inline constexpr uint32_t Source = 1u << 5;
inline constexpr uint32_t Effect = 1u << 6;
inline constexpr uint32_t Commutative = 1u << 7;
inline constexpr uint32_t StageVarying = 1u << 8;
inline constexpr uint32_t NoKernel = 1u << 9;
} // namespace trait

// The names of the set bits, space separated ("elementwise linear").
std::string traitNames(uint32_t traits);

enum class RegionRule : uint8_t { Any, PreOnly, BodyOnly, PostOnly };

// One attribute an op accepts. An attribute that is not `required` gets its default filled in by
// the builder, so every stored node carries all of its attributes explicitly.
struct AttrSpec {
  std::string_view name;
  AttrKind kind;
  bool required = true;
  double defaultNumber = 0;          // Int / Float default
  std::string_view defaultText = {}; // String default
  std::string_view choices = {};     // String: allowed values separated by '|'; empty = any
  int64_t minInt = INT64_MIN;        // Int: smallest allowed value
  int64_t maxInt = INT64_MAX;        // Int: largest allowed value
};

struct OpInfo;

// What a type rule sees: the op, operand types (already checked against the signature), the
// attributes (already checked against the schema) and, for sources, the declared type.
struct TypeContext {
  const OpInfo& op;
  std::span<const Type> operands;
  const Attrs& attrs;
  const std::optional<Type>& declared;
};

// Returns the result type or throws IrError with a message about the operands (the caller adds
// the node's name).
using TypeRule = Type (*)(const TypeContext&);

struct Adjoint {
  bool exists = false;
  Op op{};
};

struct OpInfo {

  Op op;
  std::string_view name;
  std::string_view signature;
  uint32_t traits;
  RegionRule region;
  std::span<const AttrSpec> attrs;
  TypeRule infer;
  Adjoint adjoint;
  std::string_view doc;

  // A signature ending in `*` repeats its last letter: the op takes arity() or more operands.
  bool variadic() const { return !signature.empty() && signature.back() == '*'; }
  size_t arity() const { return variadic() ? signature.size() - 2 : signature.size(); }
  // The signature letter of operand i (i >= arity() reads the repeated letter of a variadic op).
  char operandLetter(size_t i) const {
    return i < arity() ? signature[i] : signature[signature.size() - 2];
  }
  bool has(uint32_t t) const { return (traits & t) == t; }
  const AttrSpec* attr(std::string_view attrName) const;
};

const OpInfo& opInfo(Op op);
// nullptr for an unknown name.
const OpInfo* findOp(std::string_view name);
std::span<const OpInfo> allOps();
inline std::string_view opName(Op op) {
  return opInfo(op).name;
}

// Checks `attrs` against the op's schema: unknown names, missing required ones, wrong kinds,
// values outside choices/ranges. Returns the attributes with defaults filled in.
Attrs completeAttrs(const OpInfo& op, const Attrs& attrs);
// Checks one operand type against a signature letter; returns a phrase such as "an f32 tensor"
// describing the expectation when it does not match, nullopt when it does.
std::optional<std::string_view> operandMismatch(char letter, const Type& type);

} // namespace podm::ir
