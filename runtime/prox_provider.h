// The hook through which `prox` nodes reach the prox functions of the standard library without
// the runtime depending on stdlib (docs/architecture.md: stdlib depends on runtime, not the
// reverse). The CLI installs a provider that adapts stdlib::proxRegistry(); tests install their
// own.
#pragma once

#include "runtime/tensor.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podm {

// prox_{gamma g}(v) for one bound function g. `out` has v's shape; it may be v's storage.
class ProxOperator {
public:
  virtual ~ProxOperator() = default;
  virtual void apply(const Tensor& v, float gamma, Tensor& out) const = 0;
  // Training (runtime/autodiff): dV = (d prox(v) / d v)^T dOut, the derivative where it exists
  // (almost everywhere for the standard proxes). The default throws std::runtime_error: the
  // function has no derivative rule.
  virtual void vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const;
};

// Named arguments as stored on the node (sorted by name).
using ProxArgList = std::vector<std::pair<std::string, double>>;

class ProxProvider {
public:
  virtual ~ProxProvider() = default;
  // Binds `name` with `args`; throws std::exception with a message (unknown name, bad argument).
  virtual std::unique_ptr<ProxOperator> make(std::string_view name,
                                             const ProxArgList& args) const = 0;
  // Whether `name` binds the standard library's built-in prox of that name, whose math a backend
  // may run on its own (runtime/prox_math.h), rather than code only this provider knows (a user
  // plugin, a test's function). The default, false, keeps every prox on the provider's host code.
  virtual bool builtin(std::string_view /*name*/) const { return false; }
};

// The process default, used when an executor is given none. Not owned; the installer keeps it
// alive. Install once at startup (not synchronised against concurrent executors).
void setDefaultProxProvider(const ProxProvider* provider);
const ProxProvider* defaultProxProvider();

} // namespace podm
