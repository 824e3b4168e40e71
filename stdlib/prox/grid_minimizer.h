// Exact minimisation of a 1-D prox objective h(u) + (u - v)^2 / (2 gamma) over a fixed set of
// points u_k, for many v at once. Used by the brute-force property check; internal.
#pragma once

#include <vector>

namespace podm::stdlib::detail {

// Expanding the square, h(u_k) + (u_k - v)^2/(2 gamma) = (b_k - 2 u_k v + v^2)/(2 gamma) with
// b_k = 2 gamma h(u_k) + u_k^2: a family of lines in v. Their lower envelope (built once, in
// O(K log K)) gives the minimising point for any v by binary search, so a 200001-point grid can be
// queried for thousands of v. The objective at the chosen point and its envelope neighbours is
// then recomputed directly, so the result is always the exact objective at a real point.
class GridMinimizer {
public:
  // points: (u_k, h(u_k)); points with infinite h are outside dom h and ignored.
  GridMinimizer(std::vector<std::pair<double, double>> points, double gamma);
  // min_k h(u_k) + (u_k - v)^2 / (2 gamma); +infinity if no point is in dom h.
  double minimum(double v) const;

private:
  struct Line {
    double u, h, slope, intercept;
  };
  double objective(const Line& line, double v) const {
    return line.h + (line.u - v) * (line.u - v) / (2 * gamma_);
  }
  double gamma_;
  std::vector<Line> hull_;
  std::vector<double> breakpoints_; // hull_[i] is minimal on [breakpoints_[i-1], breakpoints_[i]]
};

} // namespace podm::stdlib::detail
