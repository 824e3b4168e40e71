// Small helpers shared by the standard prox implementations: output preparation, argument
// validation for factories, and number formatting for messages. Not part of the public interface.
#pragma once

#include "stdlib/prox/prox.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace podm::stdlib::detail {

inline constexpr double kInfinity = std::numeric_limits<double>::infinity();
inline constexpr double kNoDefault = std::numeric_limits<double>::quiet_NaN();

// Shortest readable form of an argument value for diagnostics ("0.8", "1e-05", "inf").
std::string formatNumber(double value);

// Checks that v is a real tensor and gives `out` v's shape: an empty `out` is allocated, any other
// shape is the caller's bug and throws (silently reallocating would break planned buffers).
void prepareProxOutput(std::string_view proxName, const Tensor& v, Tensor& out);

// Checks v and dOut (real, same shape) for vjp() and prepares dV like prepareProxOutput.
void prepareProxVjp(std::string_view proxName, const Tensor& v, const Tensor& dOut, Tensor& dV);

// Checks that x can be evaluated by value(): a real tensor.
void requireRealTensor(std::string_view proxName, const Tensor& x);

// The value of a required or defaulted argument (the registry has already validated presence).
double argument(const ProxArgs& args, const std::string& name);

// An argument that must be a whole number (iteration counts, sparsity levels).
int64_t integerArgument(const ProxArgs& args, const std::string& name);

// An out-of-range argument that the [min, max] check of the registry cannot express.
[[noreturn]] void throwBadArgument(const std::string& message);

} // namespace podm::stdlib::detail
