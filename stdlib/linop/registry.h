// The registry of linear operators by their language names (conv, haar, ...), with the parameter
// specs the front end checks calls against. The standard operators are listed in one explicit table
// (standard.cpp); a user operator is one file defining a LinopEntry plus one add() call.
#pragma once

#include "runtime/tensor.h"
#include "stdlib/linop/linop.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podm::stdlib {

enum class LinopParamKind { Number, String, Tensor };

// One parameter of an operator. The order of `params` in an entry is the positional order in the
// language (decimate(4) binds s = 4).
struct LinopParam {
  std::string name;
  double defaultValue = 0.0; // Number parameters that are not required
  bool required = false;
  std::string doc;
  LinopParamKind kind = LinopParamKind::Number;
  std::string defaultString; // String parameters that are not required

  LinopParam() = default;
  // A number parameter: {"s", 0, true, "factor"}.
  LinopParam(std::string name, double defaultValue, bool required, std::string doc)
      : name(std::move(name)), defaultValue(defaultValue), required(required), doc(std::move(doc)) {
  }
  static LinopParam text(std::string name, std::string defaultString, bool required,
                         std::string doc) {
    LinopParam p(std::move(name), 0.0, required, std::move(doc));
    p.kind = LinopParamKind::String;
    p.defaultString = std::move(defaultString);
    return p;
  }
  // Tensor parameters are always required.
  static LinopParam tensor(std::string name, std::string doc) {
    LinopParam p(std::move(name), 0.0, true, std::move(doc));
    p.kind = LinopParamKind::Tensor;
    return p;
  }
};

struct LinopArgs {
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> strings;
  std::map<std::string, Tensor> tensors;
};

struct LinopEntry {
  std::string name;
  std::string summary;
  std::vector<LinopParam> params;
  // Builds the operator from arguments already checked and completed by create(); throws
  // std::invalid_argument for values out of range.
  std::function<LinopPtr(const LinopArgs&)> make;

  // Checks `args` against `params` (unknown names, missing required ones, wrong kinds), fills in
  // defaults, and calls make. Throws std::invalid_argument with a message naming the operator.
  LinopPtr create(const LinopArgs& args) const;
};

class LinopRegistry {
public:
  // Throws std::invalid_argument if the name is taken or the entry has no make.
  void add(LinopEntry entry);
  const LinopEntry* find(std::string_view name) const;
  // In registration order.
  std::vector<const LinopEntry*> all() const;

private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<LinopEntry>> entries_; // unique_ptr: pointers handed out stay valid
};

// The process-wide registry, holding the standard operators from first use on.
LinopRegistry& linopRegistry();

// Adds the standard operators (standard.cpp) to a registry.
void registerStandardLinops(LinopRegistry& registry);

// For make functions: the integer value of a Number parameter, which must be a whole number in
// [lo, hi]; throws std::invalid_argument naming the operator and parameter otherwise.
int64_t integerArg(const LinopArgs& args, const std::string& op, const std::string& param,
                   int64_t lo, int64_t hi);

} // namespace podm::stdlib
