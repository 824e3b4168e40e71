// The arithmetic of the CUDA transform kernels (runtime/cuda/transform_math.h), run on the host
// the way transform.cu and transform_kernels.cpp run it on the device -- the same tables, the same
// passes, the same per-element functions, the DCT's two products through a host model of cuBLAS's
// column-major sgemm -- and compared with numerics/, which the CPU backend calls.
#include "numerics/bicubic.h"
#include "numerics/conv.h"
#include "numerics/dct.h"
#include "numerics/dct_filters.h"
#include "runtime/cuda/transform_math.h"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <random>
#include <vector>

using namespace podm;
using namespace podm::cuda::transform;

namespace {

std::vector<float> randomValues(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v)
    x = dist(rng);
  return v;
}

// max |got - want| over max |want|.
double relativeError(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(got[i]) - want[i]));
    scale = std::max(scale, std::abs(static_cast<double>(want[i])));
  }
  return scale > 0.0 ? diff / scale : diff;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i)
    sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

// transform.cu's separable launch on the host: the same passes, the same scratch, one call of
// the per-element function for each element a thread would write.
std::vector<float> separableOnHost(const ResizeTables& t, int64_t planes, int64_t inH, int64_t inW,
                                   int64_t outH, int64_t outW, const std::vector<float>& in) {
  auto widthPass = [&](const float* src, float* dst, int64_t lines, int64_t srcW) {
    for (int64_t line = 0; line < lines; ++line)
      for (int64_t o = 0; o < outW; ++o)
        dst[line * outW + o] = gatherAlongRow(t.width.view(), src + line * srcW, o);
  };
  auto heightPass = [&](const float* src, float* dst, int64_t w) {
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t o = 0; o < outH; ++o)
        for (int64_t j = 0; j < w; ++j)
          dst[(p * outH + o) * w + j] =
              gatherAlongColumn(t.height.view(), src + p * inH * w, w, o, j);
  };
  std::vector<float> scratch(
      static_cast<size_t>(planes * (t.widthFirst ? inH * outW : outH * inW)));
  std::vector<float> out(static_cast<size_t>(planes * outH * outW));
  if (t.widthFirst) {
    widthPass(in.data(), scratch.data(), planes * inH, inW);
    heightPass(scratch.data(), out.data(), outW);
  } else {
    heightPass(in.data(), scratch.data(), inW);
    widthPass(scratch.data(), out.data(), planes * outH, inW);
  }
  return out;
}

// cuBLAS's sgemmStridedBatched (alpha 1, beta 0) by its definition: column-major C = op(A) op(B).
void gemmOnHost(const PlaneProduct& p, const float* a, const float* b, float* c, int batch) {
  for (int q = 0; q < batch; ++q) {
    const float* aq = a + q * p.strideA;
    const float* bq = b + q * p.strideB;
    float* cq = c + q * p.strideC;
    for (int i = 0; i < p.m; ++i)
      for (int j = 0; j < p.n; ++j) {
        float sum = 0.0f;
        for (int l = 0; l < p.k; ++l) {
          const float av = p.transposeA ? aq[l + i * p.lda] : aq[i + l * p.lda];
          const float bv = p.transposeB ? bq[j + l * p.ldb] : bq[l + j * p.ldb];
          sum += av * bv;
        }
        cq[i + j * p.ldc] = sum;
      }
  }
}

// transform_kernels.cpp's DCT launch on the host.
std::vector<float> dctOnHost(const std::vector<float>& in, int planes, int h, int w, bool inverse) {
  const std::vector<float> mh = dctMatrix(h), mw = dctMatrix(w);
  const DctProducts products = dctProducts(h, w, inverse);
  std::vector<float> scratch(in.size()), out(in.size());
  gemmOnHost(products.first, mw.data(), in.data(), scratch.data(), planes);
  gemmOnHost(products.second, scratch.data(), mh.data(), out.data(), planes);
  return out;
}

// transform.cu's filter-bank launches on the host.
std::vector<float> filterBankOnHost(const std::vector<float>& x, int64_t planes, int64_t h,
                                    int64_t w, int64_t size, Edge edge) {
  const std::vector<float> filters = numerics::dctBasisFilters(size);
  const int64_t count = numerics::dctFilterCount(size), plane = h * w;
  std::vector<float> y(static_cast<size_t>(planes * count * plane));
  for (int64_t e = 0; e < static_cast<int64_t>(y.size()); ++e) {
    const int64_t outPlane = e / plane, pixel = e % plane;
    const int64_t p = outPlane / count, f = outPlane % count;
    y[static_cast<size_t>(e)] =
        filterBankElement(x.data() + p * plane, h, w, filters.data() + f * size * size, size, edge,
                          pixel / w, pixel % w);
  }
  return y;
}

std::vector<float> filterBankAdjointOnHost(const std::vector<float>& y, int64_t planes, int64_t h,
                                           int64_t w, int64_t size, Edge edge) {
  const std::vector<float> filters = numerics::dctBasisFilters(size);
  const int64_t count = numerics::dctFilterCount(size), plane = h * w;
  const ConvTapTable rows = convTransposeTable(h, size, edge);
  const ConvTapTable cols = convTransposeTable(w, size, edge);
  std::vector<float> x(static_cast<size_t>(planes * plane));
  for (int64_t e = 0; e < static_cast<int64_t>(x.size()); ++e) {
    const int64_t p = e / plane, pixel = e % plane;
    x[static_cast<size_t>(e)] =
        filterBankAdjointElement(y.data() + p * count * plane, h, w, filters.data(), count, size,
                                 rows.view(), cols.view(), pixel / w, pixel % w);
  }
  return x;
}

struct ResizeCase {
  int64_t planes, h, w;
  double scale;
  bool antialias;
};

} // namespace

TEST_CASE("cuda transform math: bicubic resize and its adjoint match numerics") {
  const ResizeCase cases[] = {
      {2, 8, 8, 2.0, true},       {3, 7, 5, 2.0, true},    {2, 9, 6, 3.0, true},
      {2, 5, 11, 4.0, true},      {2, 16, 12, 0.5, true},  {3, 17, 13, 0.5, true},
      {2, 18, 21, 1.0 / 3, true}, {2, 24, 19, 0.25, true}, {2, 23, 30, 0.7, true},
      {2, 10, 7, 1.5, true},      {2, 17, 13, 0.5, false}, {2, 1, 6, 2.0, true},
      {2, 3, 4, 0.25, true}};
  unsigned seed = 1;
  for (const ResizeCase& c : cases) {
    CAPTURE(c.h);
    CAPTURE(c.w);
    CAPTURE(c.scale);
    CAPTURE(c.antialias);
    const numerics::BicubicResize2d cpu(c.h, c.w, c.scale, c.antialias);
    const int64_t oh = cpu.outH(), ow = cpu.outW();

    const std::vector<float> x = randomValues(static_cast<size_t>(c.planes * c.h * c.w), seed++);
    std::vector<float> want(static_cast<size_t>(c.planes * oh * ow));
    cpu.apply(x.data(), want.data(), c.planes);
    const ResizeTables forward = resizeTables(c.h, c.w, oh, ow, c.scale, c.antialias, false);
    const std::vector<float> y = separableOnHost(forward, c.planes, c.h, c.w, oh, ow, x);
    CHECK(relativeError(y, want) < 1e-5);

    // The adjoint op's operand is the forward's output, its result the forward's input.
    const std::vector<float> v = randomValues(want.size(), seed++);
    std::vector<float> wantAdjoint(x.size());
    cpu.adjoint(v.data(), wantAdjoint.data(), c.planes);
    const ResizeTables adjoint = resizeTables(oh, ow, c.h, c.w, c.scale, c.antialias, true);
    CHECK(forward.widthFirst == cpu.widthFirst());
    CHECK(adjoint.widthFirst == !cpu.widthFirst());
    const std::vector<float> u = separableOnHost(adjoint, c.planes, oh, ow, c.h, c.w, v);
    CHECK(relativeError(u, wantAdjoint) < 1e-5);
    CHECK(std::abs(dot(y, v) - dot(x, u)) < 1e-5 * std::max(1.0, std::abs(dot(y, v))));
  }
}

TEST_CASE("cuda transform math: the DCT as two column-major products matches numerics") {
  struct Shape {
    int planes, h, w;
  };
  const Shape shapes[] = {{2, 8, 8}, {3, 7, 5}, {2, 5, 12}, {2, 16, 9}, {2, 33, 20}, {2, 1, 7}};
  unsigned seed = 100;
  for (const Shape& s : shapes) {
    CAPTURE(s.h);
    CAPTURE(s.w);
    const std::vector<float> x = randomValues(static_cast<size_t>(s.planes * s.h * s.w), seed++);
    std::vector<float> want(x.size());
    numerics::dctForward(x.data(), want.data(), s.planes, s.h, s.w);
    const std::vector<float> y = dctOnHost(x, s.planes, s.h, s.w, false);
    CHECK(relativeError(y, want) < 1e-5);

    std::vector<float> wantInverse(x.size());
    numerics::dctInverse(x.data(), wantInverse.data(), s.planes, s.h, s.w);
    CHECK(relativeError(dctOnHost(x, s.planes, s.h, s.w, true), wantInverse) < 1e-5);
    CHECK(relativeError(dctOnHost(y, s.planes, s.h, s.w, true), x) < 1e-5);
  }
}

TEST_CASE("cuda transform math: the DCT matrix is orthonormal and builds numerics' filters") {
  for (int64_t n : {1, 2, 5, 8, 13}) {
    const std::vector<float> m = dctMatrix(n);
    for (int64_t a = 0; a < n; ++a)
      for (int64_t b = 0; b < n; ++b) {
        double sum = 0.0;
        for (int64_t i = 0; i < n; ++i)
          sum += static_cast<double>(m[static_cast<size_t>(a * n + i)]) *
                 m[static_cast<size_t>(b * n + i)];
        CHECK(sum == doctest::Approx(a == b ? 1.0 : 0.0).epsilon(1e-6).scale(1.0));
      }
  }
  for (int64_t k : {3, 5}) {
    const std::vector<float> filters = numerics::dctBasisFilters(k);
    for (int64_t f = 0; f < numerics::dctFilterCount(k); ++f) {
      const int64_t u = (f + 1) / k, v = (f + 1) % k;
      for (int64_t a = 0; a < k; ++a)
        for (int64_t b = 0; b < k; ++b)
          CHECK(filters[static_cast<size_t>((f * k + a) * k + b)] ==
                doctest::Approx(dctMatrixEntry(u, a, k) * dctMatrixEntry(v, b, k)).epsilon(1e-6));
    }
  }
}

TEST_CASE("cuda transform math: extendedIndex is numerics'") {
  for (auto boundary :
       {numerics::Boundary::Periodic, numerics::Boundary::Symmetric, numerics::Boundary::Zero})
    for (int64_t n : {1, 2, 3, 7})
      for (int64_t i = -20; i <= 20; ++i)
        CHECK(extendedIndex(i, n, edgeOf(boundary)) == numerics::extendedIndex(i, n, boundary));
}

TEST_CASE("cuda transform math: the DCT filter bank and its adjoint match numerics") {
  struct Case {
    int64_t planes, h, w, size;
  };
  const Case cases[] = {{2, 8, 8, 3}, {2, 7, 5, 3}, {3, 9, 12, 5}, {2, 6, 11, 5},
                        {2, 3, 4, 5}, {2, 1, 6, 3}, {2, 7, 6, 2},  {2, 13, 10, 4}};
  unsigned seed = 200;
  for (const Case& c : cases)
    for (auto boundary :
         {numerics::Boundary::Periodic, numerics::Boundary::Symmetric, numerics::Boundary::Zero})
      for (auto method : {numerics::ConvMethod::Direct, numerics::ConvMethod::Fft}) {
        CAPTURE(c.h);
        CAPTURE(c.w);
        CAPTURE(c.size);
        CAPTURE(numerics::boundaryName(boundary));
        CAPTURE(static_cast<int>(method));
        const numerics::DctFilterBank2d bank(c.size, c.h, c.w, boundary, method);
        const int64_t count = bank.filterCount(), plane = c.h * c.w;
        const std::vector<float> x = randomValues(static_cast<size_t>(c.planes * plane), seed++);
        std::vector<float> want(static_cast<size_t>(c.planes * count * plane));
        bank.apply(x.data(), want.data(), c.planes);
        const std::vector<float> y =
            filterBankOnHost(x, c.planes, c.h, c.w, c.size, edgeOf(boundary));
        CHECK(relativeError(y, want) < 1e-5);

        const std::vector<float> v = randomValues(want.size(), seed++);
        std::vector<float> wantAdjoint(x.size());
        bank.adjoint(v.data(), wantAdjoint.data(), c.planes);
        const std::vector<float> u =
            filterBankAdjointOnHost(v, c.planes, c.h, c.w, c.size, edgeOf(boundary));
        CHECK(relativeError(u, wantAdjoint) < 1e-5);
        CHECK(std::abs(dot(y, v) - dot(x, u)) < 1e-5 * std::max(1.0, std::abs(dot(y, v))));
      }
}
