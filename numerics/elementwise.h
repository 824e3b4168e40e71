// Elementwise arithmetic and reductions over contiguous float arrays: the glue between the linear
// operators, prox steps and the optimality check. Loops are written so that -O3 vectorizes them;
// reductions accumulate in double (the optimality check compares norms of small differences of
// large images, where float accumulation loses the digits that matter).
#pragma once

#include <cstdint>

namespace podm::numerics {

// In-out arguments may alias inputs element for element (y = x is allowed), never with an offset.
void axpy(float a, const float* x, float* y, int64_t n);             // y += a x
void axpby(float a, const float* x, float b, float* y, int64_t n);   // y = a x + b y
void scale(float a, const float* x, float* y, int64_t n);            // y = a x
void add(const float* x, const float* y, float* z, int64_t n);       // z = x + y
void sub(const float* x, const float* y, float* z, int64_t n);       // z = x - y
void mul(const float* x, const float* y, float* z, int64_t n);       // z = x .* y
void clamp(const float* x, float lo, float hi, float* y, int64_t n); // y = min(max(x, lo), hi)

double dot(const float* x, const float* y, int64_t n); // sum x .* y
double sum(const float* x, int64_t n);
double squaredNorm(const float* x, int64_t n); // sum x .^ 2

} // namespace podm::numerics
