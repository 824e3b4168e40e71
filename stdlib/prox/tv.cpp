// FGP for the TV prox. With D = (D_y, D_x) the forward differences (zero across the last row /
// column, i.e. Neumann boundary) and P the dual unit ball (pointwise |(p,q)| <= 1 for isotropic,
// |p|, |q| <= 1 for anisotropic TV),
//   prox_{gamma TV}(v) = v - gamma D^T (p*, q*),  (p*, q*) = argmin_{P} ||v - gamma D^T (p, q)||^2.
// The dual objective has a gradient with Lipschitz constant 8 gamma^2 (||D||^2 <= 8), so FGP takes
// projected steps of 1/(8 gamma) along D u with Nesterov extrapolation and adaptive restart.
// With a box C (lo <= u <= hi), the constrained problem argmin_{u in C} TV(u) + ||u - v||^2/(2
// gamma) has the same dual with the primal map u = P_C(v - gamma D^T (p, q)) (Beck & Teboulle 2009,
// Sec. IV, FGP with P_C): each primal row is projected right after it is computed, and the dual
// objective keeps its Lipschitz bound (P_C is non-expansive), so step and stopping rule stay.
// Accuracy: the relative-dual-change rule is a stopping heuristic, not a bound. Measured against
// 20000 iterations, the default 100 iterations / 1e-5 leave a relative prox-objective gap of
// ~1e-8 at gamma = 0.05, ~5e-5 at gamma = 0.5 and ~5e-3 at gamma = 2 on unit-variance noise
// (128 x 128): heavy smoothing needs more `iters`.
// Each iteration is one sweep over contiguous rows computing u = v - gamma D^T (r, s) one row
// ahead of the dual update, projection and extrapolation in place: four plane buffers and two
// rows of u. Large planes are swept in row bands on all cores (tvProxPlane).
// The per-pixel math of an FGP step (D^T, the primal and its box projection, the dual step with
// its projection and extrapolation, the momentum and the stopping value) is runtime/prox_math.h's,
// shared with the CUDA kernels, which run the same iteration one kernel per phase.
#include "stdlib/prox/tv.h"

#include "numerics/fft.h"
#include "runtime/prox_math.h"
#include "runtime/run_scope.h"
#include "stdlib/prox/prox_util.h"

#include <algorithm>
#include <barrier>
#include <cmath>
#include <thread>

namespace podm::stdlib {

void TvScratch::resize(int64_t h, int64_t w, int64_t bands, bool warm) {
  const auto plane = static_cast<size_t>(h * w);
  if (warm && p.size() == plane && q.size() == plane) {
    r = p; // the extrapolation restarts at the dual
    s = q;
  } else {
    for (std::vector<float>* buffer : {&p, &q, &r, &s})
      buffer->assign(plane, 0.0f);
  }
  u.assign(static_cast<size_t>(2 * w * bands), 0.0f);
  bandFirstRows.assign(static_cast<size_t>(w * bands), 0.0f);
}

namespace {

// One row of u = v - gamma * D^T (p, q), with D^T (p, q)_ij = p_{i-1,j} - p_ij + q_{i,j-1} - q_ij;
// pAbove is null on the first row. The dual's last row of p and last column of q stay zero.
void primalRow(const float* vRow, const float* pAbove, const float* pRow, const float* qRow,
               float* outRow, int64_t w, float gamma, TvBox box) {
  using namespace proxmath;
  outRow[0] = tvPrimal(vRow[0],
                       tvDivergenceFirstColumn(pAbove ? pAbove[0] : 0.0f, pRow[0], qRow[0]), gamma);
  if (pAbove) {
    for (int64_t j = 1; j < w; ++j)
      outRow[j] = tvPrimal(vRow[j], tvDivergence(pAbove[j], pRow[j], qRow[j - 1], qRow[j]), gamma);
  } else {
    for (int64_t j = 1; j < w; ++j)
      outRow[j] = tvPrimal(vRow[j], tvDivergenceFirstRow(pRow[j], qRow[j - 1], qRow[j]), gamma);
  }
  // Clamping to an unbounded box changes nothing; the test only saves the pass.
  if (box.bounded())
    for (int64_t j = 0; j < w; ++j)
      outRow[j] = clampToBox(outRow[j], box.lo, box.hi);
}

// One projected gradient step from the extrapolated point (r, s), the projection onto the dual
// ball, and the extrapolation for the next step, all in place. Returns the squared change of the
// dual and its squared norm.
struct DualUpdate {
  double change2 = 0, norm2 = 0;
  // <(r, s) - dual_k, dual_k - dual_{k-1}>: positive when the momentum points uphill.
  double restartSignal = 0;
};

// One row of the dual update. The last row has no vertical difference and the last column no
// horizontal one; their dual components stay zero. The last column is peeled off so that the
// main loop is branch-free and vectorizes. The six rows are distinct buffers (restrict spares
// the compiler a run-time overlap check that it otherwise resolves to the scalar loop).
template <TvNorm norm, bool lastRow>
DualUpdate updateDualRow(const float* __restrict uRow, const float* __restrict uBelow,
                         float* __restrict pRow, float* __restrict qRow, float* __restrict rRow,
                         float* __restrict sRow, int64_t w, float step, float momentum) {
  using namespace proxmath;
  constexpr bool isotropic = norm == TvNorm::Isotropic;
  float change2 = 0, norm2 = 0, restartSignal = 0;
#pragma omp simd reduction(+ : change2, norm2, restartSignal)
  for (int64_t j = 0; j < w - 1; ++j) {
    float a = lastRow ? 0.0f : tvDualTarget(rRow[j], step, uBelow[j], uRow[j]);
    float b = tvDualTarget(sRow[j], step, uRow[j + 1], uRow[j]);
    TvDualStep d = tvDualStep<isotropic>(a, b, pRow[j], qRow[j], rRow[j], sRow[j], momentum);
    change2 += d.change2;
    norm2 += d.norm2;
    restartSignal += d.restartSignal;
  }
  const int64_t j = w - 1;
  float a = lastRow ? 0.0f : tvDualTarget(rRow[j], step, uBelow[j], uRow[j]);
  TvDualStep d = tvDualStep<isotropic>(a, 0.0f, pRow[j], qRow[j], rRow[j], sRow[j], momentum);
  return {double(change2) + d.change2, double(norm2) + d.norm2,
          double(restartSignal) + d.restartSignal};
}

// Rows [begin, end) of one FGP iteration, fused row by row: u's row i+1 is computed from the old
// (r, s) just before dual row i is updated (which needs u rows i and i+1 and overwrites r row i,
// which u row i+1 needed). `uFirst` is u's row `begin`, computed beforehand from the dual as it
// stood; `uAfter` u's row `end` likewise (nullptr when `end` is the last row). The rows between
// live in a two-row ring, so the band is streamed once per iteration.
template <TvNorm norm>
DualUpdate sweepRows(const float* v, float* p, float* q, float* r, float* s, float* uRing,
                     const float* uFirst, const float* uAfter, int64_t begin, int64_t end,
                     int64_t w, float gamma, float step, float momentum, TvBox box) {
  DualUpdate totals;
  const float* uRow = uFirst;
  for (int64_t i = begin; i < end; ++i) {
    const int64_t row = i * w;
    float* next = uRing + ((i - begin) % 2) * w;
    DualUpdate rowTotals;
    if (i + 1 < end) {
      primalRow(v + row + w, r + row, r + row + w, s + row + w, next, w, gamma, box);
      rowTotals = updateDualRow<norm, false>(uRow, next, p + row, q + row, r + row, s + row, w,
                                             step, momentum);
      uRow = next;
    } else if (uAfter) {
      rowTotals = updateDualRow<norm, false>(uRow, uAfter, p + row, q + row, r + row, s + row, w,
                                             step, momentum);
    } else {
      rowTotals = updateDualRow<norm, true>(uRow, nullptr, p + row, q + row, r + row, s + row, w,
                                            step, momentum);
    }
    totals.change2 += rowTotals.change2;
    totals.restartSignal += rowTotals.restartSignal;
    totals.norm2 += rowTotals.norm2;
  }
  return totals;
}

// Planes from this size are solved in row bands, one thread each: FGP streams the plane about a
// hundred times per call, so the threads start once per call and meet at two barriers per
// iteration (measured in bench/, docs/performance.md).
constexpr int64_t kThreadedTvPixels = 128 * 128;

int64_t bandsFor(int64_t h, int64_t w) {
  if (h * w < kThreadedTvPixels)
    return 1;
  const int64_t cores = numerics::fftThreadsFor(numerics::kThreadedPixels);
  return std::max<int64_t>(1, std::min(cores, h / 8));
}

} // namespace

// The bands share the dual planes; a band's sweep reads only its own rows, plus u's first row of
// the band below, which that band's thread computes between the iterations (from p, q when the
// momentum restarted, since r, s are being reset to them then). Every thread sums the bands'
// reductions in the same order, so all take the same restart and stopping decisions.
TvSolveStats tvProxPlane(const float* v, float* out, int64_t h, int64_t w, float gamma, TvNorm norm,
                         int maxIterations, double tolerance, TvScratch& scratch, TvBox box,
                         int64_t bandCount, bool warmStart) {
  const int64_t bands = bandCount > 0 ? std::min(bandCount, h) : bandsFor(h, w);
  scratch.resize(h, w, bands, warmStart);
  float *p = scratch.p.data(), *q = scratch.q.data(), *r = scratch.r.data(), *s = scratch.s.data();
  const float step = proxmath::tvStep(gamma);
  std::vector<DualUpdate> partial(static_cast<size_t>(bands));
  std::barrier sync(bands);
  TvSolveStats stats;
  auto solveBand = [&](int64_t band) {
    const int64_t begin = h * band / bands, end = h * (band + 1) / bands;
    float* uFirst = scratch.bandFirstRows.data() + band * w;
    const float* uAfter = band + 1 < bands ? uFirst + w : nullptr;
    float* ring = scratch.u.data() + band * 2 * w;
    proxmath::TvControl control;
    for (int k = 0; k < maxIterations; ++k) {
      const float momentum = control.nextMomentum();
      const bool restarted = control.restarted;
      const float* rr = restarted ? p : r;
      const float* ss = restarted ? q : s;
      primalRow(v + begin * w, begin > 0 ? rr + (begin - 1) * w : nullptr, rr + begin * w,
                ss + begin * w, uFirst, w, gamma, box);
      // Adaptive restart (O'Donoghue & Candes 2015): drop the momentum once it points uphill.
      // It costs one reduction and makes small and strongly smoothed planes converge several
      // times faster; FGP's worst-case O(1/k^2) rate is unaffected.
      if (restarted) {
        std::copy(p + begin * w, p + end * w, r + begin * w);
        std::copy(q + begin * w, q + end * w, s + begin * w);
      }
      if (bands > 1)
        sync.arrive_and_wait();
      partial[size_t(band)] =
          norm == TvNorm::Isotropic
              ? sweepRows<TvNorm::Isotropic>(v, p, q, r, s, ring, uFirst, uAfter, begin, end, w,
                                             gamma, step, momentum, box)
              : sweepRows<TvNorm::Anisotropic>(v, p, q, r, s, ring, uFirst, uAfter, begin, end, w,
                                               gamma, step, momentum, box);
      if (bands > 1)
        sync.arrive_and_wait();
      DualUpdate update;
      for (const DualUpdate& d : partial) {
        update.change2 += d.change2;
        update.norm2 += d.norm2;
        update.restartSignal += d.restartSignal;
      }
      const double change = control.finish(update.change2, update.norm2, update.restartSignal);
      if (band == 0)
        stats = {k + 1, change};
      if (change <= tolerance)
        break;
    }
    for (int64_t i = begin; i < end; ++i)
      primalRow(v + i * w, i > 0 ? p + (i - 1) * w : nullptr, p + i * w, q + i * w, out + i * w, w,
                gamma, box);
  };
  // The final primal rows read p's row above, which the band above finished before the last
  // barrier; `out` may be `v`, whose rows each band reads only for its own rows from then on.
  std::vector<std::thread> workers;
  for (int64_t band = 1; band < bands; ++band)
    workers.emplace_back(solveBand, band);
  solveBand(0);
  for (std::thread& worker : workers)
    worker.join();
  return stats;
}

double tvValuePlane(const float* x, int64_t h, int64_t w, TvNorm norm) {
  double total = 0;
  for (int64_t i = 0; i < h; ++i) {
    const float* row = x + i * w;
    const float* below = i + 1 < h ? x + (i + 1) * w : nullptr;
    for (int64_t j = 0; j < w; ++j) {
      double dy = below ? static_cast<double>(below[j]) - row[j] : 0.0;
      double dx = j + 1 < w ? static_cast<double>(row[j + 1]) - row[j] : 0.0;
      total +=
          norm == TvNorm::Isotropic ? std::sqrt(dy * dy + dx * dx) : std::fabs(dy) + std::fabs(dx);
    }
  }
  return total;
}

double TvProx::value(const Tensor& x) const {
  detail::requireRealTensor(norm_ == TvNorm::Isotropic ? "tv_iso" : "tv_aniso", x);
  const Shape& shape = x.shape();
  if (box_.bounded())
    for (int64_t i = 0; i < x.numel(); ++i)
      if (!(x.data()[i] >= box_.lo && x.data()[i] <= box_.hi))
        return detail::kInfinity;
  double total = 0;
  for (int64_t plane = 0; plane < shape.n * shape.c; ++plane)
    total += tvValuePlane(x.data() + plane * shape.plane(), shape.h, shape.w, norm_);
  return total;
}

void TvProx::prox(const Tensor& v, float gamma, Tensor& out) const {
  detail::prepareProxOutput(norm_ == TvNorm::Isotropic ? "tv_iso" : "tv_aniso", v, out);
  const Shape& shape = v.shape();
  const uint64_t run = currentRunId();
  const auto planes = static_cast<size_t>(shape.n * shape.c);
  // Consecutive calls in a run (the stages) have nearby inputs, so the last dual is a far better
  // start than zero; a new run, or a call outside any run, starts from zero and so repeats.
  const bool warm = warmStart_ && run != 0 && run == runId_ && planes_.size() == planes;
  runId_ = run;
  planes_.resize(planes);
  for (size_t plane = 0; plane < planes; ++plane) {
    const int64_t offset = int64_t(plane) * shape.plane();
    tvProxPlane(v.data() + offset, out.data() + offset, shape.h, shape.w, gamma, norm_,
                maxIterations_, tolerance_, planes_[plane], box_, 0, warm);
  }
  if (!warmStart_ || run == 0)
    planes_.clear(); // nothing to carry: keep no planes alive
}

namespace {

ProxEntry makeTvEntry(TvNorm norm) {
  const bool isotropic = norm == TvNorm::Isotropic;
  return {.name = isotropic ? "tv_iso" : "tv_aniso",
          .summary = std::string(isotropic ? "isotropic TV sum sqrt(dx^2 + dy^2)"
                                           : "anisotropic TV sum |dx| + |dy|") +
                     " on each 2-D plane (forward differences, Neumann boundary), plus the "
                     "indicator of lo <= u <= hi when `lo` or `hi` is given; prox by FGP (with "
                     "the projection onto the box: Beck & Teboulle's constrained FGP), stopping "
                     "after `iters` iterations or when the relative change of the dual is <= "
                     "`tol` (default 1e-5)",
          .params = {{.name = "iters",
                      .defaultValue = proxmath::kTvDefaultIterations,
                      .required = false,
                      .min = 1,
                      .max = 1e6,
                      .doc = "maximum FGP iterations"},
                     {.name = "tol",
                      .defaultValue = proxmath::kTvDefaultTolerance,
                      .required = false,
                      .min = 0,
                      .max = 1,
                      .doc = "stop when ||dual change|| <= tol * ||dual||"},
                     {.name = "warm",
                      .defaultValue = proxmath::kTvDefaultWarmStart ? 1.0 : 0.0,
                      .required = false,
                      .min = 0,
                      .max = 1,
                      .doc = "1: each stage starts FGP from the dual of the previous stage of "
                             "the run (far fewer iterations); 0: from zero every call"},
                     {.name = "lo",
                      .defaultValue = detail::kNoDefault,
                      .required = false,
                      .min = -detail::kInfinity,
                      .max = detail::kInfinity,
                      .doc = "lower bound of the box (none: unbounded below)"},
                     {.name = "hi",
                      .defaultValue = detail::kNoDefault,
                      .required = false,
                      .min = -detail::kInfinity,
                      .max = detail::kInfinity,
                      .doc = "upper bound of the box, hi >= lo (none: unbounded above)"}},
          .traits = {.convex = true, .separable = false, .indicator = false, .iterative = true},
          .make = [norm](const ProxArgs& args) -> std::unique_ptr<ProxFunction> {
            auto iterations = static_cast<int>(detail::integerArgument(args, "iters"));
            TvBox box;
            if (args.count("lo"))
              box.lo = static_cast<float>(detail::argument(args, "lo"));
            if (args.count("hi"))
              box.hi = static_cast<float>(detail::argument(args, "hi"));
            if (box.lo > box.hi)
              detail::throwBadArgument("lo = " + detail::formatNumber(box.lo) +
                                       " must not exceed hi = " + detail::formatNumber(box.hi));
            const bool warm = detail::integerArgument(args, "warm") != 0;
            return std::make_unique<TvProx>(norm, iterations, detail::argument(args, "tol"), box,
                                            warm);
          }};
}

} // namespace

ProxEntry makeTvIsoEntry() {
  return makeTvEntry(TvNorm::Isotropic);
}
ProxEntry makeTvAnisoEntry() {
  return makeTvEntry(TvNorm::Anisotropic);
}

} // namespace podm::stdlib
