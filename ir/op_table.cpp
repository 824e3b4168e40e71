// The op table built from ops.def, the attribute schemas it names, and the generic checks that
// read it (attribute completion, operand classes).
#include "ir/op_table.h"

#include "ir/errors.h"
#include "ir/type_rules.h"

#include <array>
#include <cmath>
#include <string>

namespace podm::ir {
namespace {

using K = AttrKind;

// Attribute schemas, shared between ops that take the same attributes.
constexpr std::array<AttrSpec, 0> kNoAttrs{};
constexpr AttrSpec kInputAttrs[] = {{.name = "name", .kind = K::String}};
constexpr AttrSpec kNameAttrs[] = {{.name = "name", .kind = K::String}};
constexpr AttrSpec kConstantAttrs[] = {{.name = "value", .kind = K::Data}};
constexpr AttrSpec kScheduleAttrs[] = {{.name = "name", .kind = K::String},
                                       {.name = "values", .kind = K::Floats}};
constexpr AttrSpec kScaleAttrs[] = {{.name = "alpha", .kind = K::Float}};
constexpr AttrSpec kClampAttrs[] = {{.name = "hi", .kind = K::Float},
                                    {.name = "lo", .kind = K::Float}};
constexpr AttrSpec kIrfftAttrs[] = {
    {.name = "width", .kind = K::Int, .minInt = 1, .maxInt = kMaxDim}};
constexpr AttrSpec kConvAttrs[] = {{.name = "boundary",
                                    .kind = K::String,
                                    .required = false,
                                    .defaultText = "zero",
                                    .choices = "zero|periodic|symmetric"},
                                   {.name = "orientation",
                                    .kind = K::String,
                                    .required = false,
                                    .defaultText = "convolution",
                                    .choices = "convolution|correlation"}};
constexpr AttrSpec kFactorAttrs[] = {
    {.name = "factor", .kind = K::Int, .minInt = 1, .maxInt = 1024}};
constexpr AttrSpec kResizeAttrs[] = {{.name = "antialias",
                                      .kind = K::Int,
                                      .required = false,
                                      .defaultNumber = 1,
                                      .minInt = 0,
                                      .maxInt = 1},
                                     {.name = "h", .kind = K::Int, .minInt = 1, .maxInt = kMaxDim},
                                     {.name = "scale", .kind = K::Float},
                                     {.name = "w", .kind = K::Int, .minInt = 1, .maxInt = kMaxDim}};
constexpr AttrSpec kShaveAttrs[] = {
    {.name = "shave", .kind = K::Int, .minInt = 0, .maxInt = kMaxDim}};
constexpr AttrSpec kLevelAttrs[] = {{.name = "levels", .kind = K::Int, .minInt = 1, .maxInt = 16}};
constexpr AttrSpec kFdAttrs[] = {{.name = "boundary",
                                  .kind = K::String,
                                  .required = false,
                                  .defaultText = "neumann",
                                  .choices = "neumann|periodic"}};
constexpr AttrSpec kFilterAttrs[] = {{.name = "boundary",
                                      .kind = K::String,
                                      .required = false,
                                      .defaultText = "periodic",
                                      .choices = "zero|periodic|symmetric"},
                                     {.name = "size", .kind = K::Int, .minInt = 2, .maxInt = 16}};
constexpr AttrSpec kPadAttrs[] = {
    {.name = "bottom", .kind = K::Int, .minInt = 0, .maxInt = kMaxDim},
    {.name = "left", .kind = K::Int, .minInt = 0, .maxInt = kMaxDim},
    {.name = "mode", .kind = K::String, .choices = "zero|replicate|smooth"},
    {.name = "right", .kind = K::Int, .minInt = 0, .maxInt = kMaxDim},
    {.name = "top", .kind = K::Int, .minInt = 0, .maxInt = kMaxDim}};
constexpr AttrSpec kProxAttrs[] = {{.name = "args", .kind = K::Named, .required = false},
                                   {.name = "fn", .kind = K::String},
                                   {.name = "operand_args", .kind = K::String, .required = false}};
constexpr AttrSpec kNetworkAttrs[] = {{.name = "net", .kind = K::String},
                                      {.name = "prefix", .kind = K::String, .required = false},
                                      {.name = "spec", .kind = K::String},
                                      {.name = "weights", .kind = K::String}};
constexpr AttrSpec kParamAttrs[] = {{.name = "name", .kind = K::String},
                                    {.name = "value", .kind = K::Data}};
constexpr AttrSpec kStackAttrs[] = {{.name = "n", .kind = K::Int, .minInt = 1, .maxInt = kMaxDim}};
constexpr AttrSpec kSizeAttrs[] = {{.name = "size", .kind = K::Int, .minInt = 1, .maxInt = 64}};
constexpr AttrSpec kSpectrumAttrs[] = {
    {.name = "h", .kind = K::Int, .minInt = 1, .maxInt = kMaxDim},
    {.name = "w", .kind = K::Int, .minInt = 1, .maxInt = kMaxDim}};

constexpr AttrSpec kFusedAttrs[] = {{.name = "program", .kind = K::String}};
constexpr AttrSpec kFusedOutputAttrs[] = {
    {.name = "index", .kind = K::Int, .minInt = 1, .maxInt = 64},
    {.name = "reduction", .kind = K::Int, .required = false, .minInt = 0, .maxInt = 1}};
constexpr AttrSpec kIrfftProductAttrs[] = {
    {.name = "op", .kind = K::String, .choices = "mul|div"},
    {.name = "width", .kind = K::Int, .minInt = 1, .maxInt = kMaxDim}};

// Column vocabulary of ops.def.
constexpr uint32_t EW = trait::Elementwise, LIN = trait::Linear, SEP = trait::Separable,
                   RED = trait::Reduction, CTL = trait::Control, SRC = trait::Source,
                   EFF = trait::Effect, COMM = trait::Commutative, STG = trait::StageVarying,
                   NOK = trait::NoKernel;
constexpr RegionRule Any = RegionRule::Any, PreOnly = RegionRule::PreOnly,
                     BodyOnly = RegionRule::BodyOnly, PostOnly = RegionRule::PostOnly;
constexpr Adjoint NO_ADJ{};
constexpr Adjoint adj(Op op) {
  return Adjoint{true, op};
}
#define ADJ(id) adj(Op::id)
using namespace rules;

constexpr OpInfo kTable[] = {
#define PODM_OP(id, name, sig, traits, region, attrs, rule, adjoint, doc)                          \
  OpInfo{Op::id, name, sig, traits, region, std::span<const AttrSpec>(attrs), rule, adjoint, doc},
#include "ir/ops.def"
#undef PODM_OP
};
#undef ADJ

static_assert(std::size(kTable) == kOpCount);

// The table is indexed by Op; this checks that order once at compile time.
constexpr bool tableInOrder() {
  for (size_t i = 0; i < kOpCount; ++i)
    if (static_cast<size_t>(kTable[i].op) != i)
      return false;
  return true;
}
static_assert(tableInOrder());

bool choiceAllowed(std::string_view choices, std::string_view value) {
  while (true) {
    size_t bar = choices.find('|');
    if (choices.substr(0, bar) == value)
      return true;
    if (bar == std::string_view::npos)
      return false;
    choices.remove_prefix(bar + 1);
  }
}

} // namespace

std::string traitNames(uint32_t traits) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {trait::Elementwise, "elementwise"},
      {trait::Linear, "linear"},
      {trait::Separable, "separable"},
      {trait::Reduction, "reduction"},
      {trait::Control, "control"},
      {trait::Source, "source"},
      {trait::Effect, "effect"},
      {trait::Commutative, "commutative"},
      {trait::StageVarying, "stage-varying"},
      {trait::NoKernel, "no-kernel"}};
  std::string out;
  for (auto [bit, name] : kNames)
    if (traits & bit)
      out += (out.empty() ? "" : " ") + std::string(name);
  return out;
}

const AttrSpec* OpInfo::attr(std::string_view attrName) const {
  for (const AttrSpec& s : attrs)
    if (s.name == attrName)
      return &s;
  return nullptr;
}

const OpInfo& opInfo(Op op) {
  size_t i = static_cast<size_t>(op);
  if (i >= kOpCount)
    throw IrError("op code " + std::to_string(i) + " is not in the op table");
  return kTable[i];
}

const OpInfo* findOp(std::string_view name) {
  for (const OpInfo& info : kTable)
    if (info.name == name)
      return &info;
  return nullptr;
}

std::span<const OpInfo> allOps() {
  return kTable;
}

Attrs completeAttrs(const OpInfo& op, const Attrs& attrs) {
  const std::string where = "'" + std::string(op.name) + "': ";
  for (const Attr& a : attrs.all())
    if (!op.attr(a.name)) {
      std::string known;
      for (const AttrSpec& s : op.attrs)
        known += (known.empty() ? "" : ", ") + std::string(s.name);
      throw IrError(where + "unknown attribute '" + a.name + "' (" +
                    (known.empty() ? "the op takes none" : "known: " + known) + ")");
    }
  Attrs out = attrs;
  for (const AttrSpec& s : op.attrs) {
    const AttrValue* v = attrs.find(s.name);
    if (!v) {
      if (s.required)
        throw IrError(where + "missing attribute '" + std::string(s.name) + "' (" +
                      attrKindName(s.kind) + ")");
      switch (s.kind) {
      case K::Int:
        out.set(std::string(s.name), static_cast<int64_t>(s.defaultNumber));
        break;
      case K::Float:
        out.set(std::string(s.name), s.defaultNumber);
        break;
      case K::String:
        out.set(std::string(s.name), std::string(s.defaultText));
        break;
      case K::Floats:
        out.set(std::string(s.name), std::vector<double>{});
        break;
      case K::Named:
        out.set(std::string(s.name), NamedFloats{});
        break;
      case K::Data:
        out.set(std::string(s.name), TensorData{});
        break;
      }
      continue;
    }
    if (kindOf(*v) != s.kind)
      throw IrError(where + "attribute '" + std::string(s.name) + "' must be of kind " +
                    attrKindName(s.kind) + ", got " + attrKindName(kindOf(*v)));
    if (s.kind == K::Int) {
      int64_t i = std::get<int64_t>(*v);
      if (i < s.minInt || i > s.maxInt)
        throw IrError(where + "attribute '" + std::string(s.name) + "' = " + std::to_string(i) +
                      " is outside [" + std::to_string(s.minInt) + ", " + std::to_string(s.maxInt) +
                      "]");
    }
    if (s.kind == K::Float && !std::isfinite(std::get<double>(*v)))
      throw IrError(where + "attribute '" + std::string(s.name) + "' is not finite");
    if (s.kind == K::Floats)
      for (double d : std::get<std::vector<double>>(*v))
        if (!std::isfinite(d))
          throw IrError(where + "attribute '" + std::string(s.name) + "' has a non-finite value");
    if (s.kind == K::Named)
      for (const auto& [argName, d] : std::get<NamedFloats>(*v))
        if (argName.empty() || !std::isfinite(d))
          throw IrError(where + "attribute '" + std::string(s.name) +
                        "' has an empty name or a non-finite value");
    if (s.kind == K::String && !s.choices.empty() &&
        !choiceAllowed(s.choices, std::get<std::string>(*v)))
      throw IrError(where + "attribute '" + std::string(s.name) + "' = \"" +
                    std::get<std::string>(*v) + "\" is not one of " + std::string(s.choices));
  }
  return out;
}

std::optional<std::string_view> operandMismatch(char letter, const Type& t) {
  switch (letter) {
  case 'X':
    return std::nullopt;
  case 'T':
    return t.isTensor() ? std::nullopt : std::optional<std::string_view>("a tensor");
  case 'R':
    return t.isRealTensor() ? std::nullopt : std::optional<std::string_view>("an f32 tensor");
  case 'C':
    return t.isComplexTensor() ? std::nullopt : std::optional<std::string_view>("a c64 tensor");
  case 'S':
    return t.isScalar() ? std::nullopt : std::optional<std::string_view>("an f32 scalar");
  case 'N':
    return t.elem == ElemType::F32 ? std::nullopt
                                   : std::optional<std::string_view>("an f32 tensor or scalar");
  }
  return std::optional<std::string_view>("a valid signature letter");
}

} // namespace podm::ir
