// The registry of linear operators by their language names (conv, haar, ...). A LinopEntry is the
// operator's one declaration: its parameters (what sema checks a call against), how it maps shapes,
// its matrix structure (what the F-step solver choice reads), how it is lowered to IR ops (and its
// adjoint), and the C++ operator for direct use. Sema, the lowering and the tests all read these
// entries; the standard operators are listed in one explicit table (standard.cpp), and a new
// operator is one file plus one line there (docs/extending.md).
#pragma once

#include "ir/builder.h"
#include "runtime/tensor.h"
#include "stdlib/linop/linop.h"

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podm::stdlib {

enum class LinopParamKind {
  Number,
  String,
  Tensor, // an input of the model (graph value), e.g. a kernel or a mask
  Flag,   // a boolean read by the compiler only (dct_filters' learnable), never by make()
};

// What a Tensor parameter takes: sema checks the model input's kind.
enum class TensorRole { Image, Kernel };

// One parameter of an operator. The order of `params` in an entry is the positional order in the
// language (decimate(4) binds s = 4).
struct LinopParam {
  std::string name;
  double defaultValue = 0.0; // Number parameters that are not required
  bool required = false;
  std::string doc;
  LinopParamKind kind = LinopParamKind::Number;
  std::string defaultString; // String parameters that are not required
  // Checked by sema where a call is written (and by make() when the operator is built).
  bool integer = false;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices; // String: the values allowed (empty: any)
  TensorRole role = TensorRole::Image;

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
  static LinopParam tensor(std::string name, std::string doc, TensorRole role = TensorRole::Image) {
    LinopParam p(std::move(name), 0.0, true, std::move(doc));
    p.kind = LinopParamKind::Tensor;
    p.role = role;
    return p;
  }
  static LinopParam flag(std::string name, std::string doc) {
    LinopParam p(std::move(name), 0.0, false, std::move(doc));
    p.kind = LinopParamKind::Flag;
    return p;
  }
  // A whole number in [lo, hi].
  LinopParam& whole(double lo, double hi) {
    integer = true;
    min = lo;
    max = hi;
    return *this;
  }
  LinopParam& oneOf(std::vector<std::string> values) {
    choices = std::move(values);
    return *this;
  }
};

// How an operator maps the (channels, height, width) of its input (sema's shape inference).
enum class LinopShape {
  Same,        // conv, dct, haar, mask, identity
  DownByParam, // decimate(s), bicubic_down(s): h/s, w/s
  UpByParam,   // upsample(s), bicubic_up(s): h*s, w*s
  Gradient,    // 2 channels per input channel
  FilterBank,  // size^2 - 1 channels per input channel
  ByKernel,    // pad(k) grows, crop(k) shrinks h and w by the kernel's support (known when run)
};

// Whether the operator is a convolution with periodic wrap-around (diagonalized by the DFT).
enum class Circulance { Never, Always, WhenPeriodic /* when its "boundary" is "periodic" */ };

// The matrix structure the F-step solver choice reads; the same for the adjoint.
struct LinopTraits {
  bool orthogonal = false; // W'W = I (haar, dct)
  bool diagonal = false;   // a pointwise product (mask)
  // C C' = I and C'C is a 0/1 diagonal (crop): A'A with C dropped from a chain C K is the
  // circulant K'K that preconditions CG on K'C'C K (the boundary-aware fidelity).
  bool selection = false;
  Circulance circulant = Circulance::Never;
};

// The arguments of a call as the lowering has them: numbers and strings known when the model is
// compiled (defaults filled in), tensor parameters as graph values.
struct LinopIrArgs {
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> strings;
  std::map<std::string, ir::ValueId> tensors;
  bool operator==(const LinopIrArgs&) const = default;
};

// One application of the operator, or of its adjoint, to x (of dims `in`) in a graph under
// construction.
struct LinopApplication {
  ir::Builder& b;
  ir::ValueId x;
  ir::Dims in;
  bool adjoint;
  const LinopIrArgs& args;
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
  LinopShape shape = LinopShape::Same;
  std::string shapeParam; // the factor or size parameter `shape` reads
  LinopTraits traits;
  // The IR nodes computing the operator (application.adjoint: its adjoint) on x; composed of IR ops
  // whose kernels the backends' tables register. Throws std::invalid_argument when x's size does
  // not fit (the lowering reports it at the call). Empty: the operator has no lowering yet.
  std::function<ir::ValueId(const LinopApplication&)> lower;

  // Whether the call with these (complete) arguments is circulant.
  bool circulant(const LinopIrArgs& args) const;

  // Checks `args` against `params` (unknown names, missing required ones, wrong kinds), fills in
  // defaults, and calls make. Throws std::invalid_argument with a message naming the operator.
  LinopPtr create(const LinopArgs& args) const;
};

// An entry with its name, summary, parameters and C++ operator; shape, traits and lowering are set
// on the result (aggregate initialization would have to spell every field).
inline LinopEntry declareLinop(std::string name, std::string summary,
                               std::vector<LinopParam> params,
                               std::function<LinopPtr(const LinopArgs&)> make) {
  LinopEntry e;
  e.name = std::move(name);
  e.summary = std::move(summary);
  e.params = std::move(params);
  e.make = std::move(make);
  return e;
}

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
