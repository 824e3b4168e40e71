// The prox-function interface of the standard library: a prox function g with bound parameters
// (value and proximal map), the table entry that describes it to the compiler (name, parameters,
// properties, factory), and the registry the compiler, the CLI and plugins share.
//
// Conventions every implementation follows (the property checks in property_check.h enforce them):
//  - prox(v, gamma, out) computes argmin_u g(u) + 1/(2 gamma) ||u - v||^2 on f32 tensors; the
//    weight lambda of `lambda * g` in a model is folded into gamma by the caller.
//  - the caller passes `out` with v's shape (the standard proxes also allocate an empty `out`);
//    `out` may be the very same storage as `v`.
//  - value(x) is +infinity outside the domain (indicators), finite at every prox output.
#pragma once

#include "ir/builder.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podm::stdlib {

// Bumped whenever a type below changes layout, so an old plugin is refused instead of crashing.
// A plugin exports `extern "C" int podm_plugin_abi_version()` returning this constant.
inline constexpr int kProxPluginAbiVersion = 3; // 2: ProxFunction::vjp; 3: lowerElementwise

// Marks a plugin entry point: C linkage, visible even when the plugin hides its other symbols.
#define PODM_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

// One named numeric parameter of a prox, as written in a model file (`lp(x, p = 0.8)`).
// Arguments are checked against the closed interval [min, max]; a factory may reject more (open
// ends, integrality, relations between arguments). An optional parameter whose defaultValue is NaN
// has no default: it is absent from the factory's arguments unless the model gives it.
struct ProxParam {
  std::string name;
  double defaultValue;
  bool required;
  double min;
  double max;
  std::string doc;
};

// Properties the compiler and the property checks rely on.
//  separable: g(u) = sum_i h(u_i) for one scalar function h, so prox acts elementwise.
//  indicator: g only takes the values 0 and +infinity, so prox is a projection and gamma is moot.
//  iterative: prox is computed by an iterative solver to a tolerance, not in closed form.
struct ProxTraits {
  bool convex = false;
  bool separable = false;
  bool indicator = false;
  bool iterative = false;
};

using ProxArgs = std::map<std::string, double>;

// g, with its parameters bound.
class ProxFunction {
public:
  virtual ~ProxFunction() = default;
  // g(x); +infinity outside the set for indicators.
  virtual double value(const Tensor& x) const = 0;
  // out = argmin_u g(u) + 1/(2*gamma) ||u - v||^2  (gamma > 0). out may alias v.
  virtual void prox(const Tensor& v, float gamma, Tensor& out) const = 0;
  // Training: dV = (d prox(v) / d v)^T dOut, the derivative almost everywhere (at the kinks of a
  // piecewise map, the one-sided value the implementation documents). dV gets v's shape (an empty
  // dV is allocated). The default throws std::runtime_error: no derivative rule.
  virtual void vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const;
  // Traits of this instance when they depend on its arguments (hardthre_box with `count` is an
  // indicator, with `threshold` it is separable); nullopt means "the entry's traits".
  virtual std::optional<ProxTraits> boundTraits() const { return std::nullopt; }
};

struct ProxEntry {
  std::string name;
  std::string summary;
  std::vector<ProxParam> params;
  // What holds for every choice of arguments; an instance may refine it (boundTraits).
  ProxTraits traits;
  // Receives arguments already checked against `params`, with defaults filled in. Throws
  // std::invalid_argument (message without the prox name; the registry prefixes it) on bad ones.
  std::function<std::unique_ptr<ProxFunction>(const ProxArgs&)> make;
  // Optional: the prox as elementwise graph ops for arguments known when compiling (`args`,
  // checked, defaults filled in) and the step node `gamma` (γλ), so the fusion pass merges it with
  // its neighbours instead of making it a memory pass of its own. Absent: a `prox` node.
  std::function<ir::ValueId(ir::Builder& b, ir::ValueId v, ir::ValueId gamma, const ProxArgs& args)>
      lowerElementwise = {}; // defaulted: entries (and plugins) that omit it compile unchanged
};

// The traits the property checks and the compiler should use for one bound instance.
ProxTraits effectiveTraits(const ProxEntry& entry, const ProxFunction& bound);

// entry.make with argument checking: unknown, missing, non-finite or out-of-range arguments throw
// std::invalid_argument with a message naming the prox and the parameter.
std::unique_ptr<ProxFunction> makeProx(const ProxEntry& entry, const ProxArgs& args);

// The message makeProx would throw for these arguments, or "" when they are acceptable: the
// compile-time check sema runs on a prox call (it includes the factory's own rules, such as
// hardthre_box's "count or threshold" and whole-number counts).
std::string proxArgumentError(const ProxEntry& entry, const ProxArgs& args);

class ProxRegistry {
public:
  // Throws std::invalid_argument on a duplicate name, an empty name or a missing factory.
  void add(ProxEntry entry);
  // nullptr when absent.
  const ProxEntry* find(std::string_view name) const;
  // Sorted by name. The pointers stay valid while the registry lives (entries are never removed).
  std::vector<const ProxEntry*> all() const;
  // makeProx on the named entry; an unknown name throws std::invalid_argument listing the known
  // names (and the closest one).
  std::unique_ptr<ProxFunction> make(std::string_view name, const ProxArgs& args) const;

private:
  std::map<std::string, ProxEntry, std::less<>> entries_;
};

// The process-wide registry, with the standard proxes registered on first use. Plugins are added
// to it before compiling or running a model; it is not synchronised against concurrent add().
ProxRegistry& proxRegistry();

// The explicit table of standard proxes (standard.cpp): one line per prox.
void registerStandardProxes(ProxRegistry& registry);

} // namespace podm::stdlib
