// Construction cases for every standard operator (see op_test_cases.h).
#include "tests/stdlib/linop/op_test_cases.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace podm::stdlib::test {
namespace {

int64_t uniform(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

// Any size, odd ones included; one or two images of one or three channels.
Shape anyShape(std::mt19937_64& rng) {
  return {uniform(rng, 1, 2), uniform(rng, 1, 2) == 1 ? 1 : 3, uniform(rng, 1, 37),
          uniform(rng, 1, 37)};
}

// Sizes that are multiples of m (the operator requires it).
std::function<Shape(std::mt19937_64&)> multipleOf(int64_t m) {
  return [m](std::mt19937_64& rng) {
    return Shape{uniform(rng, 1, 2), uniform(rng, 1, 2), m * uniform(rng, 1, 9),
                 m * uniform(rng, 1, 9)};
  };
}

Tensor kernelTensor(int64_t kh, int64_t kw, uint64_t seed) {
  return randomTensor({1, 1, kh, kw}, seed);
}

// A separable Gaussian: symmetric about its centre on both axes.
Tensor gaussian(int64_t size, double sigma) {
  Tensor k({1, 1, size, size});
  double total = 0.0;
  for (int64_t a = 0; a < size; ++a)
    for (int64_t b = 0; b < size; ++b) {
      double dy = a - size / 2, dx = b - size / 2;
      total += std::exp(-(dy * dy + dx * dx) / (2 * sigma * sigma));
    }
  for (int64_t a = 0; a < size; ++a)
    for (int64_t b = 0; b < size; ++b) {
      double dy = a - size / 2, dx = b - size / 2;
      k.at(a, b) = static_cast<float>(std::exp(-(dy * dy + dx * dx) / (2 * sigma * sigma)) / total);
    }
  return k;
}

LinopStructure flags(bool diagonal, bool circulant, bool orthogonal, bool selfAdjoint) {
  LinopStructure s;
  s.diagonal = diagonal;
  s.circulant = circulant;
  s.orthogonal = orthogonal;
  s.selfAdjoint = selfAdjoint;
  return s;
}

std::vector<OpCase> convCases() {
  std::vector<OpCase> cases;
  for (const char* boundary : {"periodic", "symmetric", "zero"}) {
    bool periodic = std::string(boundary) == "periodic";
    LinopArgs random, even, large, blur;
    random.tensors["kernel"] = kernelTensor(3, 3, 1);
    even.tensors["kernel"] = kernelTensor(4, 5, 2);
    large.tensors["kernel"] = kernelTensor(17, 15, 3); // large enough for the FFT path
    blur.tensors["kernel"] = gaussian(5, 1.2);
    for (LinopArgs* a : {&random, &even, &large, &blur})
      a->strings["boundary"] = boundary;
    std::string b = boundary;
    cases.push_back({"conv " + b + " random 3x3", random, anyShape, flags(0, periodic, 0, 0)});
    cases.push_back({"conv " + b + " random 4x5", even, anyShape, flags(0, periodic, 0, 0)});
    cases.push_back(
        {"conv " + b + " random 17x15", large, multipleOf(7), flags(0, periodic, 0, 0)});
    cases.push_back({"conv " + b + " gaussian 5x5", blur, anyShape, flags(0, periodic, 0, 1)});
  }
  LinopArgs defaults;
  defaults.tensors["kernel"] = gaussian(3, 0.8);
  cases.push_back({"conv default boundary", defaults, anyShape, flags(0, 1, 0, 1)});
  return cases;
}

std::vector<OpCase> factorCases(int64_t s, bool fullSideIsInput) {
  LinopArgs a;
  a.numbers["s"] = static_cast<double>(s);
  // A factor of 1 makes every resampling operator the identity, which it then reports.
  LinopStructure expected = s == 1 ? flags(1, 1, 1, 1) : LinopStructure{};
  return {{"s=" + std::to_string(s), a, fullSideIsInput ? multipleOf(s) : anyShape, expected}};
}

std::vector<OpCase> withFactors(std::initializer_list<int64_t> factors, bool fullSideIsInput) {
  std::vector<OpCase> cases;
  for (int64_t s : factors) {
    auto c = factorCases(s, fullSideIsInput);
    cases.insert(cases.end(), c.begin(), c.end());
  }
  return cases;
}

// dx and dy: a circulant convolution only with the periodic boundary; never self-adjoint.
std::vector<OpCase> differenceCases() {
  std::vector<OpCase> cases;
  for (const char* boundary : {"periodic", "symmetric", "zero"}) {
    LinopArgs a;
    a.strings["boundary"] = boundary;
    const bool periodic = std::string(boundary) == "periodic";
    cases.push_back({std::string(boundary), a, anyShape, flags(0, periodic, 0, 0)});
  }
  cases.push_back({"default boundary", {}, anyShape, flags(0, 1, 0, 0)});
  return cases;
}

std::map<std::string, std::function<std::vector<OpCase>()>> caseTable() {
  return {
      {"identity",
       [] {
         return std::vector<OpCase>{{"identity", {}, anyShape, flags(1, 1, 1, 1)}};
       }},
      {"conv", convCases},
      {"decimate",
       [] {
         return withFactors({1, 2, 3, 4}, true);
       }},
      {"upsample",
       [] {
         return withFactors({1, 2, 3}, false);
       }},
      {"bicubic_down",
       [] {
         return withFactors({1, 2, 3, 4}, true);
       }},
      {"bicubic_up",
       [] {
         return withFactors({1, 2, 3, 4}, false);
       }},
      {"haar",
       [] {
         std::vector<OpCase> cases;
         for (int levels : {1, 2, 3}) {
           LinopArgs a;
           a.numbers["levels"] = levels;
           cases.push_back({"levels=" + std::to_string(levels), a, multipleOf(int64_t{1} << levels),
                            flags(0, 0, 1, 0)});
         }
         return cases;
       }},
      {"dct",
       [] {
         return std::vector<OpCase>{{"dct", {}, anyShape, flags(0, 0, 1, 0)}};
       }},
      {"grad",
       [] {
         LinopArgs neumann, periodic;
         neumann.strings["boundary"] = "neumann";
         periodic.strings["boundary"] = "periodic";
         return std::vector<OpCase>{{"grad neumann", neumann, anyShape, flags(0, 0, 0, 0)},
                                    {"grad periodic", periodic, anyShape, flags(0, 1, 0, 0)},
                                    {"grad default", {}, anyShape, flags(0, 0, 0, 0)}};
       }},
      {"dx", [] { return differenceCases(); }},
      {"dy", [] { return differenceCases(); }},
      {"mask",
       [] {
         // A 0/1 pattern on a fixed plane size (the mask fixes H and W).
         Tensor m({1, 1, 13, 10});
         std::mt19937_64 rng(5);
         for (int64_t i = 0; i < m.numel(); ++i)
           m.data()[i] = static_cast<float>(rng() % 2);
         Tensor full = randomTensor({2, 3, 6, 5}, 6);
         LinopArgs plane, exact;
         plane.tensors["m"] = m;
         exact.tensors["m"] = full;
         return std::vector<OpCase>{{"mask 0/1 plane", plane,
                                     [](std::mt19937_64& r) {
                                       return Shape{uniform(r, 1, 2), uniform(r, 1, 3), 13, 10};
                                     },
                                     flags(1, 0, 0, 1)},
                                    {"mask real full", exact,
                                     [](std::mt19937_64&) {
                                       return Shape{2, 3, 6, 5};
                                     },
                                     flags(1, 0, 0, 1)}};
       }},
      {"pad",
       [] {
         std::vector<OpCase> cases;
         for (const char* mode : {"zero", "replicate", "smooth"}) {
           LinopArgs a;
           a.tensors["kernel"] = kernelTensor(3, 4, 7);
           a.strings["mode"] = mode;
           a.numbers["margin"] = std::string(mode) == "smooth" ? 2 : 0;
           cases.push_back({std::string("pad 3x4 ") + mode, a, anyShape, flags(0, 0, 0, 0)});
         }
         return cases;
       }},
      {"crop",
       [] {
         LinopArgs plain, margin;
         plain.tensors["kernel"] = kernelTensor(5, 2, 8);
         margin.tensors["kernel"] = kernelTensor(3, 3, 9);
         margin.numbers["margin"] = 3;
         // The input must be larger than the border the crop removes.
         auto larger = [](std::mt19937_64& r) {
           return Shape{uniform(r, 1, 2), uniform(r, 1, 2), uniform(r, 9, 37), uniform(r, 9, 37)};
         };
         return std::vector<OpCase>{{"crop 5x2", plain, larger, flags(0, 0, 0, 0)},
                                    {"crop 3x3 margin 3", margin, larger, flags(0, 0, 0, 0)}};
       }},
      {"dct_filters",
       [] {
         std::vector<OpCase> cases;
         for (auto [size, boundary] : std::vector<std::pair<int, const char*>>{
                  {2, "zero"}, {3, "periodic"}, {5, "symmetric"}, {7, "periodic"}}) {
           LinopArgs a;
           a.numbers["size"] = size;
           a.strings["boundary"] = boundary;
           bool periodic = std::string(boundary) == "periodic";
           cases.push_back({"dct_filters " + std::to_string(size) + " " + boundary, a, anyShape,
                            flags(0, periodic, 0, 0)});
         }
         cases.push_back({"dct_filters defaults", {}, anyShape, flags(0, 1, 0, 0)});
         return cases;
       }},
  };
}

} // namespace

std::vector<OpCase> casesFor(const std::string& name) {
  static const auto table = caseTable();
  auto it = table.find(name);
  return it == table.end() ? std::vector<OpCase>{} : it->second();
}

Tensor randomTensor(const Shape& shape, uint64_t seed) {
  Tensor t(shape);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = normal(rng);
  return t;
}

double dot(const Tensor& a, const Tensor& b) {
  double s = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i)
    s += static_cast<double>(a.data()[i]) * static_cast<double>(b.data()[i]);
  return s;
}

double norm(const Tensor& t) {
  return std::sqrt(dot(t, t));
}

double relativeMaxError(const Tensor& a, const Tensor& b) {
  double err = 0.0, scale = 1e-30;
  for (int64_t i = 0; i < a.numel(); ++i) {
    err = std::max(err, std::abs(static_cast<double>(a.data()[i]) - b.data()[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b.data()[i])));
  }
  return err / scale;
}

double adjointMismatch(const LinearOperator& op, const Shape& in, uint64_t seed) {
  const Shape out = op.outputShape(in);
  Tensor x = randomTensor(in, seed);
  Tensor ax(out), aty(in);
  op.apply(x, ax);
  Tensor independent = randomTensor(out, seed + 1);
  Tensor correlated = randomTensor(out, seed + 2);
  for (int64_t i = 0; i < out.numel(); ++i)
    correlated.data()[i] = ax.data()[i] + 0.5f * correlated.data()[i];
  double worst = 0.0;
  for (const Tensor* y : {&independent, &correlated}) {
    op.adjoint(*y, aty);
    double lhs = dot(ax, *y), rhs = dot(x, aty);
    // For the independent y the inner product is typically ||Ax|| ||y|| / sqrt(numel) but can be
    // near zero by chance; that typical size floors the denominator so rounding is not amplified.
    // The correlated y (<Ax, y> ~ ||Ax||^2) needs no floor.
    double typical = norm(ax) * norm(*y) / std::sqrt(static_cast<double>(out.numel()));
    double scale =
        std::max({std::abs(lhs), std::abs(rhs), y == &independent ? typical : 0.0, 1e-300});
    worst = std::max(worst, std::abs(lhs - rhs) / scale);
  }
  return worst;
}

} // namespace podm::stdlib::test
