// Kernels, degradations and synthetic images (see degrade.h).
#include "runtime/io/degrade.h"

#include "numerics/bicubic.h"
#include "numerics/resample.h"
#include "runtime/io/atomic_file.h"
#include "runtime/io/image.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numbers>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace podm::io {
namespace {

// splitmix64: tiny, full-period, and specified exactly (unlike std::normal_distribution, whose
// output differs between standard libraries), so seeds reproduce across platforms.
struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; } // [0,1)
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  double normal() { // Box-Muller; the second value is discarded to keep the stream simple
    double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  }
  // A stream of its own for one use of a seed. Rng(seed) and Rng(seed + 1) walk the same counter
  // one step apart, so the mask and the Poisson noise start at a hash of (seed, tag) instead: far
  // from the Gaussian noise of the same seed, which stays as it always was.
  static Rng stream(uint64_t seed, uint64_t tag) { return Rng(Rng(seed ^ tag).next()); }
};

constexpr uint64_t kMaskStream = 0x6d61736b;    // "mask"
constexpr uint64_t kPoissonStream = 0x706f6973; // "pois"
constexpr uint64_t kShakeStream = 0x7368616b;   // "shak"

// Knuth: count uniforms until their product falls below e^-lambda. Exact; its cost grows with
// lambda, so it serves small means only.
int64_t poissonKnuth(Rng& rng, double lambda) {
  const double limit = std::exp(-lambda);
  double product = rng.uniform();
  int64_t k = 0;
  while (product > limit) {
    product *= rng.uniform();
    ++k;
  }
  return k;
}

// PTRS, Hormann (1993), "The transformed rejection method for generating Poisson random
// variables": exact, about 1.1 pairs of uniforms per sample whatever the mean (>= 10). The
// constants are the paper's (numpy's generator uses the same).
int64_t poissonPtrs(Rng& rng, double lambda) {
  const double slam = std::sqrt(lambda), loglam = std::log(lambda);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const double invAlpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = rng.uniform() - 0.5, v = rng.uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr)
      return static_cast<int64_t>(k);
    if (k < 0 || (us < 0.013 && v > us))
      continue;
    if (std::log(v) + std::log(invAlpha) - std::log(a / (us * us) + b) <=
        -lambda + k * loglam - std::lgamma(k + 1))
      return static_cast<int64_t>(k);
  }
}

Tensor normalised(Tensor k, const std::string& what) {
  double sum = 0;
  float* d = k.data();
  for (int64_t i = 0; i < k.numel(); ++i) {
    if (!std::isfinite(d[i]) || d[i] < 0)
      throw IoError(what + ": kernel entries must be finite and non-negative");
    sum += d[i];
  }
  if (sum <= 0)
    throw IoError(what + ": kernel sums to zero");
  for (int64_t i = 0; i < k.numel(); ++i)
    d[i] = float(d[i] / sum);
  return k;
}

void requireImage(const Tensor& t, const char* what) {
  if (t.empty() || t.shape().n != 1)
    throw std::invalid_argument(std::string(what) + ": expected a 1xCxHxW image, got " +
                                t.shape().str());
}

// A kernel from bilinear splats accumulated on a size x size grid (centre at size/2): all-zero
// borders trimmed symmetrically so the centre stays at (kh/2, kw/2), then normalised.
Tensor trimmedKernel(const std::vector<double>& acc, int size, const std::string& what) {
  const int half = size / 2;
  auto rowZero = [&](int y) {
    return std::all_of(&acc[size_t(y * size)], &acc[size_t(y * size + size)],
                       [](double v) { return v < 1e-12; });
  };
  auto colZero = [&](int x) {
    for (int y = 0; y < size; ++y)
      if (acc[size_t(y * size + x)] >= 1e-12)
        return false;
    return true;
  };
  int ty = 0, tx = 0;
  while (ty < half && rowZero(ty) && rowZero(size - 1 - ty))
    ++ty;
  while (tx < half && colZero(tx) && colZero(size - 1 - tx))
    ++tx;
  Tensor k = Tensor::image(size - 2 * ty, size - 2 * tx);
  for (int y = ty; y < size - ty; ++y)
    for (int x = tx; x < size - tx; ++x)
      k.at(y - ty, x - tx) = float(acc[size_t(y * size + x)]);
  return normalised(std::move(k), what);
}

// Adds a unit sample at (x, y), split bilinearly over the four neighbouring cells.
void splat(std::vector<double>& acc, int size, double x, double y) {
  const int x0 = int(std::floor(x)), y0 = int(std::floor(y));
  const double fx = x - x0, fy = y - y0;
  acc[size_t(y0 * size + x0)] += (1 - fx) * (1 - fy);
  acc[size_t(y0 * size + x0 + 1)] += fx * (1 - fy);
  acc[size_t((y0 + 1) * size + x0)] += (1 - fx) * fy;
  acc[size_t((y0 + 1) * size + x0 + 1)] += fx * fy;
}

} // namespace

Tensor gaussianKernel(int size, double sigma) {
  if (size < 1 || size > 255 || !(sigma > 0))
    throw std::invalid_argument("gaussian kernel: size must be in 1..255 and sigma > 0");
  Tensor k = Tensor::image(size, size);
  double c = (size - 1) / 2.0; // fspecial centres even sizes between pixels
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      k.at(y, x) = float(std::exp(-((x - c) * (x - c) + (y - c) * (y - c)) / (2 * sigma * sigma)));
  return normalised(std::move(k), "gaussian kernel");
}

Tensor motionKernel(double length, double angleDegrees) {
  if (!(length >= 1) || length > 255)
    throw std::invalid_argument("motion kernel: length must be in 1..255");
  double a = angleDegrees * std::numbers::pi / 180.0;
  double dx = std::cos(a), dy = -std::sin(a); // image rows grow downwards
  int half = int(std::ceil((length - 1) / 2.0)) + 1;
  int size = 2 * half + 1;
  std::vector<double> acc(size_t(size * size), 0.0);
  int steps = std::max(2, int(std::ceil(length * 16)));
  for (int i = 0; i <= steps; ++i) {
    double t = -(length - 1) / 2.0 + (length - 1) * i / steps;
    splat(acc, size, half + t * dx, half + t * dy);
  }
  return trimmedKernel(acc, size, "motion kernel");
}

Tensor shakeKernel(int size, uint64_t seed) {
  if (size < 3 || size > 255 || size % 2 == 0)
    throw std::invalid_argument("shake kernel: size must be odd and in 3..255");
  Rng rng = Rng::stream(seed, kShakeStream);
  // The camera's path: a unit-speed walk whose velocity is pulled towards the start (centripetal),
  // kicked by Gaussian jitter and, rarely, turned round (Boracchi & Foi's trajectory model, TIP
  // 2012). The constants of each path are drawn too, so paths range from straight to tangled.
  constexpr int kSteps = 2000;
  const double anxiety = rng.uniform(0.0, 0.1), centripetal = rng.uniform(0.0, 0.7);
  const double jitter = rng.uniform(0.0, 10.0), bigShakes = rng.uniform(0.0, 0.2);
  const double step = 1.0 / (kSteps - 1);
  const double angle = rng.uniform(0.0, 2 * std::numbers::pi);
  std::vector<double> px(kSteps, 0.0), py(kSteps, 0.0);
  double vx = std::cos(angle) * step, vy = std::sin(angle) * step;
  for (int t = 0; t + 1 < kSteps; ++t) {
    double kx = 0, ky = 0;
    if (rng.uniform() < bigShakes * anxiety) { // reverse, give or take half a radian
      const double turn = std::numbers::pi + rng.uniform(-0.5, 0.5);
      kx = 2 * (vx * std::cos(turn) - vy * std::sin(turn));
      ky = 2 * (vx * std::sin(turn) + vy * std::cos(turn));
    }
    const double nx = rng.normal(), ny = rng.normal();
    vx += kx + anxiety * (jitter * nx - centripetal * px[size_t(t)]) * step;
    vy += ky + anxiety * (jitter * ny - centripetal * py[size_t(t)]) * step;
    const double speed = std::hypot(vx, vy);
    if (speed > 0) {
      vx *= step / speed;
      vy *= step / speed;
    }
    px[size_t(t) + 1] = px[size_t(t)] + vx;
    py[size_t(t) + 1] = py[size_t(t)] + vy;
  }
  // The exposure covers a random part of the path, then the path is scaled so that its extent
  // is a random fraction of the kernel and centred on its mean position (the blur's centroid
  // at the kernel's centre keeps the restored image in register).
  const int last = int(rng.uniform(0.3, 1.0) * (kSteps - 1));
  double lox = px[0], hix = px[0], loy = py[0], hiy = py[0], mx = 0, my = 0;
  for (int t = 0; t <= last; ++t) {
    lox = std::min(lox, px[size_t(t)]), hix = std::max(hix, px[size_t(t)]);
    loy = std::min(loy, py[size_t(t)]), hiy = std::max(hiy, py[size_t(t)]);
    mx += px[size_t(t)], my += py[size_t(t)];
  }
  mx /= last + 1, my /= last + 1;
  const int half = size / 2;
  // The farthest point from the mean must land inside the grid with a cell to spare for the splat.
  const double reach = std::max({mx - lox, hix - mx, my - loy, hiy - my, 1e-9});
  const double scale = rng.uniform(0.35, 1.0) * (half - 1) / reach;
  std::vector<double> acc(size_t(size * size), 0.0);
  for (int t = 0; t <= last; ++t)
    splat(acc, size, half + (px[size_t(t)] - mx) * scale, half + (py[size_t(t)] - my) * scale);
  return trimmedKernel(acc, size, "shake kernel");
}

Tensor readKernel(const std::string& path) {
  FileFormat f = sniffFormat(path);
  if (f != FileFormat::Unknown) {
    Tensor img = readImage(path);
    if (img.shape().c != 1)
      throw IoError(path + ": a kernel image must be gray, not " + std::to_string(img.shape().c) +
                    " channels");
    return normalised(img, path);
  }
  std::string text = readFileBytes(path);
  std::vector<std::vector<float>> rows;
  std::istringstream in(text);
  int lineNo = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineNo;
    std::replace_if(
        line.begin(), line.end(), [](char ch) { return ch == ',' || ch == '\t' || ch == '\r'; },
        ' ');
    std::istringstream ls(line);
    std::vector<float> row;
    std::string tok;
    while (ls >> tok) {
      char* end = nullptr;
      float v = std::strtof(tok.c_str(), &end);
      if (end != tok.c_str() + tok.size())
        throw IoError(path + ":" + std::to_string(lineNo) + ": not a number: '" + tok + "'");
      row.push_back(v);
    }
    if (row.empty())
      continue;
    if (!rows.empty() && row.size() != rows.front().size())
      throw IoError(path + ":" + std::to_string(lineNo) + ": row has " +
                    std::to_string(row.size()) + " values, the first row has " +
                    std::to_string(rows.front().size()));
    rows.push_back(std::move(row));
    if (rows.size() > 1024)
      throw IoError(path + ": kernel has more than 1024 rows");
  }
  if (rows.empty())
    throw IoError(path + ": no kernel values (expected one row of numbers per line)");
  Tensor k = Tensor::image(int64_t(rows.size()), int64_t(rows.front().size()));
  for (size_t y = 0; y < rows.size(); ++y)
    for (size_t x = 0; x < rows[y].size(); ++x)
      k.at(int64_t(y), int64_t(x)) = rows[y][x];
  // "nan", "inf" and out-of-range numbers parse; say where they are, as for image files.
  requireFinite(k, path);
  return normalised(std::move(k), path);
}

void writeKernelText(const std::string& path, const Tensor& kernel) {
  std::ostringstream out;
  out.precision(9);
  for (int64_t y = 0; y < kernel.shape().h; ++y) {
    for (int64_t x = 0; x < kernel.shape().w; ++x)
      out << (x ? " " : "") << kernel.at(y, x);
    out << "\n";
  }
  writeFileAtomic(path, out.str());
}

Tensor blur(const Tensor& image, const Tensor& kernel, numerics::Boundary boundary) {
  requireImage(image, "blur");
  const Shape& s = image.shape();
  Tensor out(s);
  numerics::conv2d(image.data(), out.data(), s.c, s.h, s.w, kernel.data(), kernel.shape().h,
                   kernel.shape().w, boundary);
  return out;
}

Tensor decimate(const Tensor& image, int s) {
  requireImage(image, "decimate");
  if (s < 1)
    throw std::invalid_argument("decimate: factor must be >= 1");
  const Shape& sh = image.shape();
  Tensor out(
      Shape{1, sh.c, numerics::decimatedLength(sh.h, s), numerics::decimatedLength(sh.w, s)});
  numerics::decimate(image.data(), out.data(), sh.c, sh.h, sh.w, s);
  return out;
}

Tensor modcrop(const Tensor& image, int s) {
  requireImage(image, "modcrop");
  const Shape& sh = image.shape();
  int64_t h = sh.h / s * s, w = sh.w / s * s;
  if (h == 0 || w == 0)
    throw std::invalid_argument("modcrop: image smaller than the factor");
  Tensor out(Shape{1, sh.c, h, w});
  for (int64_t c = 0; c < sh.c; ++c)
    for (int64_t y = 0; y < h; ++y)
      std::copy_n(image.data() + (c * sh.h + y) * sh.w, w, out.data() + (c * h + y) * w);
  return out;
}

Tensor bicubicDownscale(const Tensor& image, int s) {
  requireImage(image, "bicubic");
  const Shape& sh = image.shape();
  if (s < 1 || sh.h % s || sh.w % s)
    throw std::invalid_argument("bicubic: image size must be a multiple of the factor");
  numerics::BicubicResize2d resize(sh.h, sh.w, sh.h / s, sh.w / s, 1.0 / s);
  Tensor out(Shape{1, sh.c, sh.h / s, sh.w / s});
  resize.apply(image.data(), out.data(), sh.c);
  return out;
}

Tensor addGaussianNoise(const Tensor& image, double sigma, uint64_t seed) {
  Tensor out = image.clone();
  Rng rng(seed);
  float* d = out.data();
  for (int64_t i = 0; i < out.numel(); ++i)
    d[i] = float(d[i] + sigma * rng.normal());
  return out;
}

Tensor addPoissonNoise(const Tensor& image, double peak, uint64_t seed) {
  if (!(peak > 0) || !std::isfinite(peak))
    throw std::invalid_argument("Poisson noise: the peak must be a positive number");
  Tensor out = image.clone();
  Rng rng = Rng::stream(seed, kPoissonStream);
  float* d = out.data();
  for (int64_t i = 0; i < out.numel(); ++i) {
    const double lambda = d[i] > 0 ? peak * d[i] : 0.0; // NaN and negatives: no photons
    const int64_t k = lambda < 10 ? poissonKnuth(rng, lambda) : poissonPtrs(rng, lambda);
    d[i] = float(double(k) / peak);
  }
  return out;
}

Tensor randomMask(int64_t h, int64_t w, double fraction, uint64_t seed) {
  if (h <= 0 || w <= 0 || !(fraction >= 0 && fraction <= 1))
    throw std::invalid_argument(
        "random mask: the size must be positive and the fraction in [0, 1]");
  const int64_t n = h * w, keep = std::llround(fraction * double(n));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  Rng rng = Rng::stream(seed, kMaskStream);
  // The modulo's bias is below n / 2^64: nothing at image sizes.
  for (int64_t i = 0; i < keep; ++i)
    std::swap(order[size_t(i)], order[size_t(i + int64_t(rng.next() % uint64_t(n - i)))]);
  Tensor mask = Tensor::image(h, w);
  for (int64_t i = 0; i < keep; ++i)
    mask.data()[order[size_t(i)]] = 1;
  return mask;
}

Tensor readMask(const std::string& path) {
  Tensor mask = readImage(path);
  if (mask.shape().c != 1)
    throw IoError(path + ": a mask must be a gray image (nonzero = kept), not " +
                  std::to_string(mask.shape().c) + " channels");
  float* d = mask.data();
  for (int64_t i = 0; i < mask.numel(); ++i)
    d[i] = d[i] > 0 || d[i] < 0 ? 1.0f : 0.0f; // NaN: dropped
  return mask;
}

double maskFractionFromSpec(const std::string& spec) {
  if (spec.rfind("random:", 0) != 0)
    return 0;
  const std::string text = spec.substr(7);
  char* end = nullptr;
  const double fraction = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(fraction > 0 && fraction <= 1))
    throw std::invalid_argument("--mask random:FRACTION needs a fraction of kept pixels in (0, 1], "
                                "not '" +
                                text + "'");
  return fraction;
}

Tensor applyMask(const Tensor& image, const Tensor& mask) {
  requireImage(image, "mask");
  const Shape& s = image.shape();
  if (mask.shape() != Shape{1, 1, s.h, s.w})
    throw std::invalid_argument("mask: the mask is " + mask.shape().str() + ", the image " +
                                s.str());
  Tensor out = image.clone();
  float* d = out.data();
  for (int64_t c = 0; c < s.c; ++c)
    for (int64_t i = 0; i < s.h * s.w; ++i)
      d[c * s.h * s.w + i] *= mask.data()[i];
  return out;
}

Tensor flippedKernel(const Tensor& kernel) {
  const Shape& k = kernel.shape();
  Tensor out(k);
  std::vector<float> f = numerics::flippedKernel(kernel.data(), k.h, k.w);
  std::copy(f.begin(), f.end(), out.data());
  return out;
}

Tensor degrade(const Tensor& image, const Degradation& d, Tensor* maskUsed) {
  Tensor out = image;
  if (!d.kernel.empty())
    out = blur(out,
               d.orientation == numerics::KernelOrientation::Correlation ? flippedKernel(d.kernel)
                                                                         : d.kernel,
               d.boundary);
  if (d.scale > 1 && d.downscale == Degradation::Downscale::Decimate)
    out = decimate(out, d.scale);
  if (d.scale > 1 && d.downscale == Degradation::Downscale::Bicubic)
    out = bicubicDownscale(out, d.scale);
  const Shape& s = out.shape();
  Tensor mask;
  if (!d.mask.empty()) {
    if (d.mask.shape() != Shape{1, 1, s.h, s.w})
      throw IoError(d.maskName + ": the mask is " + std::to_string(d.mask.shape().h) + "x" +
                    std::to_string(d.mask.shape().w) + " but the image to mask is " +
                    std::to_string(s.h) + "x" + std::to_string(s.w) +
                    (d.scale > 1 ? " (after downscaling)" : ""));
    mask = d.mask;
  } else if (d.maskFraction > 0) {
    mask = randomMask(s.h, s.w, d.maskFraction, d.seed);
  }
  if (!mask.empty())
    out = applyMask(out, mask);
  if (d.poissonPeak > 0)
    out = addPoissonNoise(out, d.poissonPeak, d.seed);
  if (d.noise255 > 0)
    out = addGaussianNoise(out, d.noise255 / 255.0, d.seed);
  if (!mask.empty() && d.noise255 > 0)
    out = applyMask(out, mask); // dropped pixels are not observed: no noise on them
  if (maskUsed)
    *maskUsed = mask;
  return out;
}

Tensor kernelFromSpec(const std::string& spec) {
  std::vector<std::string> p;
  std::stringstream ss(spec);
  for (std::string part; std::getline(ss, part, ':');)
    p.push_back(part);
  auto number = [&](const std::string& text, double& out) {
    char* end = nullptr;
    out = std::strtod(text.c_str(), &end);
    return !text.empty() && end == text.c_str() + text.size() && std::isfinite(out);
  };
  double x = 0, y = 0;
  if (p.size() != 3 || !number(p[1], x) || !number(p[2], y))
    throw std::invalid_argument(
        "--blur expects gaussian:SIZE:SIGMA, motion:LEN:ANGLE or shake:SIZE:SEED, not '" + spec +
        "'");
  if (p[0] == "gaussian") {
    if (x != std::floor(x))
      throw std::invalid_argument("gaussian kernel size must be an integer");
    return gaussianKernel(int(x), y);
  }
  if (p[0] == "motion")
    return motionKernel(x, y);
  if (p[0] == "shake") {
    if (x != std::floor(x) || y != std::floor(y) || y < 0 || y > 0x1p53)
      throw std::invalid_argument("shake kernel size and seed must be integers, the seed in "
                                  "0..2^53");
    return shakeKernel(int(x), uint64_t(y));
  }
  throw std::invalid_argument("unknown blur '" + p[0] + "' (gaussian, motion or shake)");
}

const char* syntheticNames() {
  return "scene, scene-rgb";
}

Tensor syntheticImage(const std::string& name, int64_t h, int64_t w, uint64_t seed) {
  if (name != "scene" && name != "scene-rgb")
    throw std::invalid_argument("unknown synthetic image '" + name +
                                "' (known: " + syntheticNames() + ")");
  if (h < 8 || w < 8 || h > 8192 || w > 8192)
    throw std::invalid_argument("synthetic image size must be between 8x8 and 8192x8192");
  int64_t c = name == "scene-rgb" ? 3 : 1;
  Rng rng(seed);
  double scale = double(std::min(h, w));
  Tensor out(Shape{1, c, h, w});
  float* d = out.data();
  int64_t plane = h * w;

  // Background: a tilted gradient per channel plus one slow wave.
  for (int64_t ch = 0; ch < c; ++ch) {
    double a = rng.uniform(0.25, 0.55), gx = rng.uniform(-0.25, 0.25),
           gy = rng.uniform(-0.25, 0.25);
    double fx = rng.uniform(0.5, 1.5), fy = rng.uniform(0.5, 1.5), ph = rng.uniform(0, 6.28);
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        double u = double(x) / w, v = double(y) / h;
        d[ch * plane + y * w + x] =
            float(a + gx * u + gy * v + 0.08 * std::sin(6.283 * (fx * u + fy * v) + ph));
      }
  }
  // Band-limited texture: random sinusoids between 6 and 40 cycles per image side.
  struct Wave {
    double kx, ky, ph, amp;
  };
  std::vector<Wave> waves;
  for (int i = 0; i < 24; ++i) {
    double f = rng.uniform(6, 40), th = rng.uniform(0, std::numbers::pi);
    waves.push_back({f * std::cos(th) / scale, f * std::sin(th) / scale, rng.uniform(0, 6.28),
                     0.012 * rng.uniform(0.5, 1.0)});
  }
  std::vector<float> texture(static_cast<size_t>(plane));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      double t = 0;
      for (const Wave& wv : waves)
        t += wv.amp * std::sin(2 * std::numbers::pi * (wv.kx * x + wv.ky * y) + wv.ph);
      texture[size_t(y * w + x)] = float(t);
    }
  // Shapes with antialiased edges: coverage = clamp(0.5 - signed distance, 0, 1).
  int shapes = 9;
  for (int i = 0; i < shapes; ++i) {
    int kind = int(rng.next() % 4); // disk, rotated rectangle, triangle, striped disk
    double cx = rng.uniform(0.1, 0.9) * w, cy = rng.uniform(0.1, 0.9) * h;
    double r = rng.uniform(0.06, 0.2) * scale, r2 = rng.uniform(0.3, 1.0) * r;
    double th = rng.uniform(0, std::numbers::pi);
    double cs = std::cos(th), sn = std::sin(th);
    double tri[3][2];
    for (int k = 0; k < 3; ++k) {
      double ang = th + k * 2.0943951 + rng.uniform(-0.3, 0.3);
      tri[k][0] = cx + r * std::cos(ang);
      tri[k][1] = cy + r * std::sin(ang);
    }
    double stripeFreq = rng.uniform(0.15, 0.35); // cycles per pixel: fine detail
    double colour[3];
    for (double& v : colour)
      v = rng.uniform(0.05, 0.95);
    double textured = rng.uniform() < 0.5 ? 1.0 : 0.0;
    int64_t x0 = std::max<int64_t>(0, int64_t(cx - r - 2)),
            x1 = std::min<int64_t>(w, int64_t(cx + r + 3));
    int64_t y0 = std::max<int64_t>(0, int64_t(cy - r - 2)),
            y1 = std::min<int64_t>(h, int64_t(cy + r + 3));
    for (int64_t y = y0; y < y1; ++y)
      for (int64_t x = x0; x < x1; ++x) {
        double px = x + 0.5 - cx, py = y + 0.5 - cy, dist;
        if (kind == 0 || kind == 3) {
          dist = std::hypot(px, py) - r;
        } else if (kind == 1) {
          double u = cs * px + sn * py, v = -sn * px + cs * py;
          dist = std::max(std::abs(u) - r, std::abs(v) - r2);
        } else {
          dist = -1e9;
          for (int k = 0; k < 3; ++k) { // max over the three edge half-planes (inside: negative)
            double ax = tri[k][0], ay = tri[k][1], bx = tri[(k + 1) % 3][0],
                   by = tri[(k + 1) % 3][1];
            double ex = bx - ax, ey = by - ay, len = std::hypot(ex, ey);
            double side = ((x + 0.5 - ax) * ey - (y + 0.5 - ay) * ex) / len;
            double ox = tri[(k + 2) % 3][0], oy = tri[(k + 2) % 3][1];
            if (((ox - ax) * ey - (oy - ay) * ex) > 0)
              side = -side; // orient so the opposite vertex is inside
            dist = std::max(dist, side);
          }
        }
        double cover = std::clamp(0.5 - dist, 0.0, 1.0);
        if (cover <= 0)
          continue;
        double mod = kind == 3
                         ? 0.18 * std::sin(2 * std::numbers::pi * stripeFreq * (cs * px + sn * py))
                         : 0.0;
        for (int64_t ch = 0; ch < c; ++ch) {
          float& p = d[ch * plane + y * w + x];
          double v = colour[c == 1 ? 0 : ch] + mod + textured * 3 * texture[size_t(y * w + x)];
          p = float((1 - cover) * p + cover * v);
        }
      }
  }
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < plane; ++i) {
      float& p = d[ch * plane + i];
      p = std::clamp(p + texture[size_t(i)], 0.0f, 1.0f);
    }
  return out;
}

} // namespace podm::io
