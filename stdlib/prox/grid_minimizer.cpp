// The lower envelope of lines with decreasing slopes (the "convex hull trick").
#include "stdlib/prox/grid_minimizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace podm::stdlib::detail {

GridMinimizer::GridMinimizer(std::vector<std::pair<double, double>> points, double gamma)
    : gamma_(gamma) {
  std::erase_if(points, [](const auto& point) { return !std::isfinite(point.second); });
  // Ascending u means descending slope -2u; for equal u only the lowest h can be minimal.
  if (!std::is_sorted(points.begin(), points.end()))
    std::sort(points.begin(), points.end());
  auto crossing = [](const Line& a, const Line& b) {
    return (b.intercept - a.intercept) / (a.slope - b.slope);
  };
  for (size_t k = 0; k < points.size(); ++k) {
    if (k > 0 && points[k].first == points[k - 1].first)
      continue;
    const auto [u, h] = points[k];
    Line line{u, h, -2 * u, 2 * gamma * h + u * u};
    // The last hull line is never minimal if the new line undercuts it before it takes over
    // from the line below it.
    while (hull_.size() >= 2 && crossing(hull_[hull_.size() - 2], line) <=
                                    crossing(hull_[hull_.size() - 2], hull_.back()))
      hull_.pop_back();
    hull_.push_back(line);
  }
  for (size_t i = 0; i + 1 < hull_.size(); ++i)
    breakpoints_.push_back(crossing(hull_[i], hull_[i + 1]));
}

double GridMinimizer::minimum(double v) const {
  if (hull_.empty())
    return std::numeric_limits<double>::infinity();
  auto index = static_cast<size_t>(std::lower_bound(breakpoints_.begin(), breakpoints_.end(), v) -
                                   breakpoints_.begin());
  double best = objective(hull_[index], v);
  // Rounding in the crossings can misplace v by one segment; the neighbours settle it exactly.
  if (index > 0)
    best = std::min(best, objective(hull_[index - 1], v));
  if (index + 1 < hull_.size())
    best = std::min(best, objective(hull_[index + 1], v));
  return best;
}

} // namespace podm::stdlib::detail
