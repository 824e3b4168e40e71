// Representative arguments for the proxes that need them, shared by the property sweep and the
// mutation tests. A prox with several regimes gets several rows; a registered prox with a required
// parameter and no row here fails the sweep (it is constructed with no arguments).
#pragma once

#include "stdlib/prox/prox.h"

#include <map>
#include <string>
#include <vector>

inline std::vector<podm::stdlib::ProxArgs> proxTestArguments(const std::string& name) {
  static const std::multimap<std::string, podm::stdlib::ProxArgs> table = {
      {"lp", {{"p", 0.5}}},
      {"lp", {{"p", 0.8}}},
      {"lp", {{"p", 0.05}}},
      {"box", {{"lo", -0.5}, {"hi", 1.0}}},
      {"box", {{"lo", 0.3}, {"hi", 0.3}}},
      {"hardthre_box", {{"lo", -2.0}, {"hi", 2.0}, {"count", 40}}},
      {"hardthre_box", {{"lo", -1.0}, {"hi", 3.0}, {"count", 20}}}, // asymmetric box
      {"hardthre_box", {{"lo", 0.25}, {"hi", 2.0}, {"count", 10}}}, // 0 outside [lo, hi]
      {"hardthre_box", {{"lo", -1.0}, {"hi", 2.0}, {"threshold", 0.3}}},
      {"hardthre_box", {{"lo", 0.25}, {"hi", 2.0}, {"threshold", 0.5}}},
      {"tv_iso", {}},
      {"tv_aniso", {}},
      // TV + box (constrained FGP); boxes that clip part of the test data, not most of it, so
      // that a wrong gamma still shows.
      {"tv_iso", {{"lo", -1.5}, {"hi", 2.0}}},
      {"tv_aniso", {{"lo", -1.5}, {"hi", 2.0}}},
      {"tv_iso", {{"lo", 0.0}}}, // TV + nonneg
      {"tv_aniso", {{"hi", 1.5}}},
      {"elastic_net", {{"ratio", 0.5}}},
  };
  std::vector<podm::stdlib::ProxArgs> rows;
  auto [begin, end] = table.equal_range(name);
  for (auto it = begin; it != end; ++it)
    rows.push_back(it->second);
  if (rows.empty())
    rows.push_back({});
  return rows;
}
