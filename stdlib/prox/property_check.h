// The property checks every prox must pass, built-in or plugin: one library function shared by the
// doctest suite and `podm test-prox`, so a user's plugin is held to exactly the standard library's
// bar. The checks and their tolerances are described in property_check.cpp.
#pragma once

#include "stdlib/prox/prox.h"

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace podm::stdlib {

enum class CheckStatus { Passed, Failed, Skipped };

struct PropertyCheck {
  std::string name;   // "optimality", "brute-force-1d", ...
  CheckStatus status; // Skipped: does not apply to this prox (e.g. non-expansiveness if nonconvex)
  std::string detail; // the worst case seen, or why it failed / was skipped
};

struct PropertyReport {
  std::string proxName;
  ProxArgs args;
  std::vector<PropertyCheck> checks;

  bool passed() const; // no check failed
  const PropertyCheck* find(std::string_view checkName) const;
  // One line per check: "PASS optimality: ...".
  std::string str() const;
};

inline constexpr uint64_t kDefaultPropertySeed = 20181203;

// Runs every applicable check on `entry` bound to `args` (validated as the registry would). A prox
// that cannot be constructed, throws, or returns NaN fails the report rather than escaping it.
PropertyReport checkProxProperties(const ProxEntry& entry, const ProxArgs& args, uint64_t seed);

// checkProxProperties plus a readable report on `out`; 0 when every check passed, 1 otherwise.
int runProxPropertyTests(const ProxEntry& entry, const ProxArgs& args, std::ostream& out,
                         uint64_t seed = kDefaultPropertySeed);

} // namespace podm::stdlib
