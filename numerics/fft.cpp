// FFTW plan cache and the 2-D transforms of fft.h.
#include "numerics/fft.h"

#include <chrono>
#include <climits>
#include <cstdlib>
#include <fftw3.h>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

namespace podm::numerics {
namespace {

enum class PlanKind : uint8_t { RealToComplex, ComplexToReal, Dct2, Dct3InPlace };

struct PlanKey {
  PlanKind kind;
  int64_t h, w;
  // FFTW plans made on SIMD-aligned arrays may only run on SIMD-aligned arrays; planes inside a
  // tensor start at multiples of h*w floats, which need not be aligned, so those get their own
  // FFTW_UNALIGNED plan.
  bool aligned;
  auto operator<=>(const PlanKey&) const = default;
};

class PlanCache {
public:
  PlanCache() {
    fftwf_init_threads();
    // Lets code outside this cache (another library in the process) plan concurrently with us.
    fftwf_make_planner_thread_safe();
  }
  ~PlanCache() {
    for (auto& [key, plan] : plans_)
      fftwf_destroy_plan(plan);
  }
  PlanCache(const PlanCache&) = delete;
  PlanCache& operator=(const PlanCache&) = delete;

  fftwf_plan get(const PlanKey& key) {
    {
      std::shared_lock lock(mutex_);
      auto it = plans_.find(key);
      if (it != plans_.end())
        return it->second;
    }
    std::unique_lock lock(mutex_);
    auto it = plans_.find(key);
    if (it != plans_.end())
      return it->second;
    fftwf_plan plan = make(key);
    plans_.emplace(key, plan);
    return plan;
  }

  size_t size() {
    std::shared_lock lock(mutex_);
    return plans_.size();
  }

  FftPlanStats stats() {
    std::shared_lock lock(mutex_);
    return stats_;
  }

  // Wisdom goes through the cache's lock so that it never races a planner call of ours, and
  // after the constructor has initialised FFTW's threads (threaded wisdom needs them).
  std::string exportWisdom() {
    std::unique_lock lock(mutex_);
    char* text = fftwf_export_wisdom_to_string();
    std::string out = text ? text : "";
    std::free(text);
    return out;
  }
  bool importWisdom(const std::string& text) {
    std::unique_lock lock(mutex_);
    return fftwf_import_wisdom_from_string(text.c_str()) != 0;
  }

private:
  fftwf_plan make(const PlanKey& key) {
    const auto start = std::chrono::steady_clock::now();
    const unsigned base = key.h * key.w >= kMeasurePixels ? FFTW_MEASURE : FFTW_ESTIMATE;
    fftwf_plan plan = nullptr;
    if (base == FFTW_MEASURE && (plan = make(key, FFTW_MEASURE | FFTW_WISDOM_ONLY)))
      ++stats_.fromWisdom;
    else if ((plan = make(key, base)))
      ++(base == FFTW_MEASURE ? stats_.measured : stats_.estimated);
    stats_.planSeconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!plan)
      throw std::runtime_error("fft: FFTW could not plan a " + std::to_string(key.h) + "x" +
                               std::to_string(key.w) + " transform");
    return plan;
  }

  // One planner call; nullptr when FFTW cannot plan (or, under FFTW_WISDOM_ONLY, has no wisdom).
  static fftwf_plan make(const PlanKey& key, unsigned flags) {
    if (key.h <= 0 || key.w <= 0 || key.h > INT_MAX || key.w > INT_MAX)
      throw std::invalid_argument("fft: plane size " + std::to_string(key.h) + "x" +
                                  std::to_string(key.w) + " is not supported");
    const int h = static_cast<int>(key.h), w = static_cast<int>(key.w);
    const int64_t pixels = key.h * key.w;
    if (!key.aligned)
      flags |= FFTW_UNALIGNED;
    fftwf_plan_with_nthreads(fftThreadsFor(pixels));
    // FFTW_MEASURE overwrites the arrays it plans on, so plan on private ones; execution later uses
    // the new-array interface with the caller's pointers.
    const size_t complexCount = static_cast<size_t>(key.h * halfSpectrumWidth(key.w));
    float* real = fftwf_alloc_real(static_cast<size_t>(pixels));
    float* real2 = fftwf_alloc_real(static_cast<size_t>(pixels));
    fftwf_complex* spectrum = fftwf_alloc_complex(complexCount);
    fftwf_plan plan = nullptr;
    switch (key.kind) {
    case PlanKind::RealToComplex:
      plan = fftwf_plan_dft_r2c_2d(h, w, real, spectrum, flags);
      break;
    case PlanKind::ComplexToReal:
      plan = fftwf_plan_dft_c2r_2d(h, w, spectrum, real, flags);
      break;
    case PlanKind::Dct2:
      plan = fftwf_plan_r2r_2d(h, w, real, real2, FFTW_REDFT10, FFTW_REDFT10, flags);
      break;
    case PlanKind::Dct3InPlace:
      plan = fftwf_plan_r2r_2d(h, w, real, real, FFTW_REDFT01, FFTW_REDFT01, flags);
      break;
    }
    fftwf_free(real);
    fftwf_free(real2);
    fftwf_free(spectrum);
    return plan;
  }

  std::shared_mutex mutex_;
  std::map<PlanKey, fftwf_plan> plans_;
  FftPlanStats stats_;
};

PlanCache& planCache() {
  static PlanCache cache;
  return cache;
}

bool simdAligned(const void* p) {
  return fftwf_alignment_of(static_cast<float*>(const_cast<void*>(p))) == 0;
}

} // namespace

namespace {

// Plane p of a tensor starts p*h*w floats after the first, which is aligned (arena and tensor
// buffers are): later planes need the unaligned plans unless h*w keeps them aligned.
void preparePlans(PlanKind a, PlanKind b, int64_t planes, int64_t h, int64_t w) {
  const bool unalignedToo = planes > 1 && (h * w * int64_t{sizeof(float)}) % 64 != 0;
  for (PlanKind kind : {a, b}) {
    planCache().get({kind, h, w, true});
    if (unalignedToo)
      planCache().get({kind, h, w, false});
  }
}

} // namespace

void fftPrepare(int64_t planes, int64_t h, int64_t w) {
  preparePlans(PlanKind::RealToComplex, PlanKind::ComplexToReal, planes, h, w);
}

void dctPrepare(int64_t planes, int64_t h, int64_t w) {
  preparePlans(PlanKind::Dct2, PlanKind::Dct3InPlace, planes, h, w);
}

int fftThreadsFor(int64_t pixels) {
  if (pixels < kThreadedPixels)
    return 1;
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

size_t fftPlanCacheSize() {
  return planCache().size();
}

FftPlanStats fftPlanStats() {
  return planCache().stats();
}

std::string fftExportWisdom() {
  return planCache().exportWisdom();
}

bool fftImportWisdom(const std::string& text) {
  return planCache().importWisdom(text);
}

std::string fftWisdomKey() {
  // "-omp": plans measured with FFTW's pthreads build (before 2026-12) time differently.
  return std::string(fftwf_version) + "-omp-t" + std::to_string(fftThreadsFor(kThreadedPixels));
}

void fftForward(const float* in, std::complex<float>* out, int64_t h, int64_t w) {
  bool aligned = simdAligned(in) && simdAligned(out);
  fftwf_plan plan = planCache().get({PlanKind::RealToComplex, h, w, aligned});
  // r2c out of place never writes its input, whatever the signature says.
  fftwf_execute_dft_r2c(plan, const_cast<float*>(in), reinterpret_cast<fftwf_complex*>(out));
}

void fftInverse(std::complex<float>* in, float* out, int64_t h, int64_t w) {
  bool aligned = simdAligned(in) && simdAligned(out);
  fftwf_plan plan = planCache().get({PlanKind::ComplexToReal, h, w, aligned});
  fftwf_execute_dft_c2r(plan, reinterpret_cast<fftwf_complex*>(in), out);
}

void dct2Unnormalized(const float* in, float* out, int64_t h, int64_t w) {
  bool aligned = simdAligned(in) && simdAligned(out);
  fftwf_plan plan = planCache().get({PlanKind::Dct2, h, w, aligned});
  fftwf_execute_r2r(plan, const_cast<float*>(in), out);
}

void dct3UnnormalizedInPlace(float* data, int64_t h, int64_t w) {
  fftwf_plan plan = planCache().get({PlanKind::Dct3InPlace, h, w, simdAligned(data)});
  fftwf_execute_r2r(plan, data, data);
}

} // namespace podm::numerics
