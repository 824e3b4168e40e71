// Total variation on each 2-D plane of a tensor (every n, c), isotropic or anisotropic, with
// forward differences and Neumann boundary, optionally plus the indicator of a box lo <= u <= hi.
// The prox is computed by FGP, the fast dual projected gradient of Beck & Teboulle (IEEE TIP
// 2009), which builds on Chambolle's dual formulation; with a box it is their constrained FGP
// (the projection onto the box inside every primal evaluation), which is exact for TV + box.
#pragma once

#include "stdlib/prox/prox.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace podm::stdlib {

enum class TvNorm { Isotropic, Anisotropic };

struct TvSolveStats {
  int iterations = 0;
  double relativeDualChange = 0; // at the last iteration
};

// Work buffers for one plane, reused across planes and calls: the dual (p, q), its extrapolation
// (r, s), and per row band (large planes are solved in bands, one thread each) two rows of the
// primal u and the band's first row of u.
struct TvScratch {
  std::vector<float> p, q, r, s, u, bandFirstRows;
  // Zeroes the dual, or with `warm` (and a dual of this size) keeps it as the starting point.
  void resize(int64_t h, int64_t w, int64_t bands = 1, bool warm = false);
};

// The box C = [lo, hi] of TV + χ_C; the default is all of R (plain TV).
struct TvBox {
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
  bool bounded() const { return std::isfinite(lo) || std::isfinite(hi); }
};

// prox of gamma * (TV + χ_box) on one h x w plane:
// out = argmin_{u in box} TV(u) + 1/(2 gamma) ||u - v||^2.
// Stops when ||dual_k - dual_{k-1}|| <= tolerance * ||dual_k|| or after maxIterations.
// `out` may equal `v`. Planes from 128 x 128 are solved in row bands on all cores; `bands` > 0
// sets their number (tests: every band count gives the same iterates). `warmStart`: FGP starts
// from the dual left in `scratch` by the previous call (of the same size) instead of zero.
TvSolveStats tvProxPlane(const float* v, float* out, int64_t h, int64_t w, float gamma, TvNorm norm,
                         int maxIterations, double tolerance, TvScratch& scratch, TvBox box = {},
                         int64_t bands = 0, bool warmStart = false);

// TV(x) of one plane, accumulated in double.
double tvValuePlane(const float* x, int64_t h, int64_t w, TvNorm norm);

class TvProx final : public ProxFunction {
public:
  // warmStart: within one run (runtime/run_scope.h), each call starts FGP from the dual the
  // previous call of this instance ended with; outside runs, and at a run's first call, from 0.
  TvProx(TvNorm norm, int maxIterations, double tolerance, TvBox box = {}, bool warmStart = false)
      : norm_(norm), maxIterations_(maxIterations), tolerance_(tolerance), box_(box),
        warmStart_(warmStart) {}
  // TV(x), or +infinity when x leaves the box.
  double value(const Tensor& x) const override;
  void prox(const Tensor& v, float gamma, Tensor& out) const override;

private:
  TvNorm norm_;
  int maxIterations_;
  double tolerance_;
  TvBox box_;
  bool warmStart_;
  // The dual of every plane from the last call, and the run it was made in. An instance runs in
  // one executor, one call at a time.
  mutable std::vector<TvScratch> planes_;
  mutable uint64_t runId_ = 0;
};

ProxEntry makeTvIsoEntry();
ProxEntry makeTvAnisoEntry();

} // namespace podm::stdlib
