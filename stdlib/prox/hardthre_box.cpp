// HardThre(Proj_[lo,hi](.)) of PODM Sec. 5.2, computed as an exact prox.
//
// Per entry there are two candidates: 0, or c = clamp(v, lo, hi) (the nearest nonzero-allowed
// value). Choosing c instead of 0 lowers (u - v)^2 by gain = v^2 - (v - c)^2 = c (2v - c).
//  - count s: the projection onto Omega keeps the s entries with the largest positive gains.
//    For unclamped entries gain = v^2, i.e. "the s largest magnitudes after projection" as in the
//    paper. A clamped entry's gain differs from c^2, so ranking by |c| is exact only for boxes
//    symmetric about 0, and then only with ties among clamped entries broken by |v|. With lo = -1,
//    hi = 3, v = (-5, 2), s = 1 the paper's formula keeps 2 (squared distance 25) while the
//    projection keeps -1 (squared distance 20). We rank by gain.
//  - threshold t: keeping costs t^2/2 in g, so an entry survives when gain >= gamma t^2; for
//    unclamped entries that is |c| >= t sqrt(gamma).
// When 0 is outside [lo, hi] the set still allows zeros (the sparse entries), which is how the
// paper uses it with lo = min(o) > 0; then gain may be negative and such entries stay 0.
// The per-element math (clamp, gain, the threshold test) is runtime/prox_math.h's, shared with the
// CUDA kernels.
#include "stdlib/prox/hardthre_box.h"

#include "runtime/prox_math.h"
#include "stdlib/prox/prox_util.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace podm::stdlib {

HardThreBoxProx HardThreBoxProx::withCount(float lo, float hi, int64_t count) {
  return HardThreBoxProx(lo, hi, count, 0.0f);
}

HardThreBoxProx HardThreBoxProx::withThreshold(float lo, float hi, float threshold) {
  return HardThreBoxProx(lo, hi, -1, threshold);
}

std::optional<ProxTraits> HardThreBoxProx::boundTraits() const {
  if (usesCount())
    return ProxTraits{.convex = false, .separable = false, .indicator = true};
  return ProxTraits{.convex = false, .separable = true, .indicator = false};
}

double HardThreBoxProx::value(const Tensor& x) const {
  detail::requireRealTensor("hardthre_box", x);
  const Shape& shape = x.shape();
  const int64_t sampleSize = shape.c * shape.h * shape.w;
  const float* data = x.data();
  int64_t totalNonzeros = 0;
  for (int64_t sample = 0; sample < shape.n; ++sample) {
    const float* entries = data + sample * sampleSize;
    int64_t nonzeros = 0;
    bool inside = true;
    for (int64_t i = 0; i < sampleSize; ++i) {
      bool nonzero = entries[i] != 0.0f;
      nonzeros += nonzero;
      inside &= !nonzero || (entries[i] >= lo_ && entries[i] <= hi_);
    }
    if (!inside || (usesCount() && nonzeros > count_))
      return detail::kInfinity;
    totalNonzeros += nonzeros;
  }
  if (usesCount())
    return 0.0;
  const double t = threshold_;
  return 0.5 * t * t * static_cast<double>(totalNonzeros);
}

void HardThreBoxProx::prox(const Tensor& v, float gamma, Tensor& out) const {
  detail::prepareProxOutput("hardthre_box", v, out);
  if (usesCount())
    proxWithCount(v, out);
  else
    proxWithThreshold(v, gamma, out);
}

void HardThreBoxProx::proxWithThreshold(const Tensor& v, float gamma, Tensor& out) const {
  const float minimumGain = proxmath::hardThreBoxMinimumGain(gamma, threshold_);
  const float* in = v.data();
  float* result = out.data();
  const int64_t n = v.numel();
  for (int64_t i = 0; i < n; ++i)
    result[i] = proxmath::hardThreBoxWithThreshold(in[i], lo_, hi_, minimumGain);
}

void HardThreBoxProx::proxWithCount(const Tensor& v, Tensor& out) const {
  const Shape& shape = v.shape();
  const int64_t sampleSize = shape.c * shape.h * shape.w;
  std::vector<float> gains(static_cast<size_t>(sampleSize));
  std::vector<float> ranked(static_cast<size_t>(sampleSize));
  for (int64_t sample = 0; sample < shape.n; ++sample) {
    const float* in = v.data() + sample * sampleSize;
    float* result = out.data() + sample * sampleSize;
    // A NaN gain would break the ordering nth_element relies on; it ranks last.
    for (int64_t i = 0; i < sampleSize; ++i)
      gains[i] = proxmath::hardThreBoxRankingGain(in[i], lo_, hi_);
    // Entries with gain above the s-th largest are kept; ties at it are kept in index order until
    // exactly s survive, so the sparsity budget is met exactly.
    float cutoff = 0.0f;
    int64_t tiesToKeep = sampleSize;
    if (count_ < sampleSize) {
      std::copy(gains.begin(), gains.end(), ranked.begin());
      if (count_ == 0) {
        tiesToKeep = 0;
        cutoff = *std::max_element(ranked.begin(), ranked.end());
      } else {
        auto nth = ranked.begin() + (count_ - 1);
        std::nth_element(ranked.begin(), nth, ranked.end(), std::greater<float>());
        cutoff = *nth;
        int64_t above = std::count_if(ranked.begin(), nth, [&](float g) { return g > cutoff; });
        tiesToKeep = count_ - above;
      }
    } else {
      cutoff = -detail::kInfinity;
    }
    for (int64_t i = 0; i < sampleSize; ++i) {
      float gain = gains[i];
      bool keep = proxmath::hardThreBoxAboveCutoff(gain, cutoff);
      if (proxmath::hardThreBoxAtCutoff(gain, cutoff) && tiesToKeep > 0) {
        keep = true;
        --tiesToKeep;
      }
      result[i] = proxmath::hardThreBoxRankedOutput(in[i], lo_, hi_, keep);
    }
  }
}

// Both variants: the kept entries equal Proj_[lo,hi](v), so the derivative is the mask of the
// entries that are kept and lie strictly inside the box (the kept set is locally constant away
// from the threshold and rank ties).
void HardThreBoxProx::vjp(const Tensor& v, float gamma, const Tensor& dOut, Tensor& dV) const {
  detail::prepareProxVjp("hardthre_box", v, dOut, dV);
  Tensor out;
  prox(v, gamma, out);
  for (int64_t i = 0; i < v.numel(); ++i) {
    const float x = v.data()[i];
    const bool pass = out.data()[i] != 0.0f && x > lo_ && x < hi_;
    dV.data()[i] = pass ? dOut.data()[i] : 0.0f;
  }
}

ProxEntry makeHardThreBoxEntry() {
  return {
      .name = "hardthre_box",
      .summary = "PODM Sec. 5.2 prior: nonzeros in [lo, hi] and either at most `count` nonzeros "
                 "per sample (indicator; exact projection HardThre(Proj_[lo,hi])) or an l0 "
                 "penalty threshold^2/2 per nonzero (zeroes |Proj v| < threshold*sqrt(gamma))",
      .params = {{.name = "lo",
                  .defaultValue = detail::kNoDefault,
                  .required = true,
                  .min = -detail::kInfinity,
                  .max = detail::kInfinity,
                  .doc = "lower bound of the nonzero entries"},
                 {.name = "hi",
                  .defaultValue = detail::kNoDefault,
                  .required = true,
                  .min = -detail::kInfinity,
                  .max = detail::kInfinity,
                  .doc = "upper bound of the nonzero entries, hi >= lo"},
                 {.name = "count",
                  .defaultValue = detail::kNoDefault,
                  .required = false,
                  .min = 0,
                  .max = 9007199254740992.0, // 2^53: every whole number below is exact
                  .doc = "sparsity s: keep at most s nonzeros per sample; give count or threshold"},
                 {.name = "threshold",
                  .defaultValue = detail::kNoDefault,
                  .required = false,
                  .min = 0,
                  .max = detail::kInfinity,
                  .doc = "hard threshold t at gamma = 1 (l0 weight t^2/2); give count or "
                         "threshold"}},
      .traits = {.convex = false, .separable = false, .indicator = false},
      .make = [](const ProxArgs& args) -> std::unique_ptr<ProxFunction> {
        double lo = detail::argument(args, "lo");
        double hi = detail::argument(args, "hi");
        if (lo > hi)
          detail::throwBadArgument("lo = " + detail::formatNumber(lo) +
                                   " must not exceed hi = " + detail::formatNumber(hi));
        bool hasCount = args.count("count") > 0;
        bool hasThreshold = args.count("threshold") > 0;
        if (hasCount == hasThreshold)
          detail::throwBadArgument(
              hasCount ? "give either count or threshold, not both"
                       : "give either count (sparsity level) or threshold (hard threshold)");
        auto flo = static_cast<float>(lo);
        auto fhi = static_cast<float>(hi);
        if (hasCount)
          return std::make_unique<HardThreBoxProx>(
              HardThreBoxProx::withCount(flo, fhi, detail::integerArgument(args, "count")));
        return std::make_unique<HardThreBoxProx>(HardThreBoxProx::withThreshold(
            flo, fhi, static_cast<float>(detail::argument(args, "threshold"))));
      }};
}

} // namespace podm::stdlib
