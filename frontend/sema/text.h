// Small text helpers the checkers share for their messages.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace podm::sema {

// "a, b, c"
inline std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i ? ", " : "") + names[i];
  return out;
}

// A number as a user wrote it (%g): 0.5, 1e-05, 30.
inline std::string formatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

} // namespace podm::sema
