// Vectorizable elementwise loops and double-accumulating reductions.
#include "numerics/elementwise.h"

namespace podm::numerics {
namespace {

// Independent partial sums: without -ffast-math the compiler may not reorder a single running
// sum, so the lanes are written out and it vectorizes across them instead.
constexpr int kLanes = 8;

template <typename Term>
double reduce(int64_t n, Term term) {
  double lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k)
      lanes[k] += term(i + k);
  double total = 0.0;
  for (int k = 0; k < kLanes; ++k)
    total += lanes[k];
  for (; i < n; ++i)
    total += term(i);
  return total;
}

} // namespace

void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] += a * x[i];
}

void axpby(float a, const float* x, float b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = a * x[i] + b * y[i];
}

void scale(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = a * x[i];
}

void add(const float* x, const float* y, float* z, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    z[i] = x[i] + y[i];
}

void sub(const float* x, const float* y, float* z, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    z[i] = x[i] - y[i];
}

void mul(const float* x, const float* y, float* z, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    z[i] = x[i] * y[i];
}

void clamp(const float* x, float lo, float hi, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i] < lo ? lo : x[i];
    y[i] = v > hi ? hi : v;
  }
}

double dot(const float* x, const float* y, int64_t n) {
  return reduce(n,
                [&](int64_t i) { return static_cast<double>(x[i]) * static_cast<double>(y[i]); });
}

double sum(const float* x, int64_t n) {
  return reduce(n, [&](int64_t i) { return static_cast<double>(x[i]); });
}

double squaredNorm(const float* x, int64_t n) {
  return reduce(n, [&](int64_t i) {
    double v = x[i];
    return v * v;
  });
}

} // namespace podm::numerics
