// Kernels, degradations and synthetic images (see degrade.h).
#include "runtime/io/degrade.h"

#include "runtime/cpu/kernels/bicubic.h"
#include "runtime/cpu/kernels/resample.h"
#include "runtime/io/atomic_file.h"
#include "runtime/io/image.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>
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
};

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
    double x = half + t * dx, y = half + t * dy;
    int x0 = int(std::floor(x)), y0 = int(std::floor(y));
    double fx = x - x0, fy = y - y0;
    acc[size_t(y0 * size + x0)] += (1 - fx) * (1 - fy);
    acc[size_t(y0 * size + x0 + 1)] += fx * (1 - fy);
    acc[size_t((y0 + 1) * size + x0)] += (1 - fx) * fy;
    acc[size_t((y0 + 1) * size + x0 + 1)] += fx * fy;
  }
  // Trim all-zero borders symmetrically so the centre stays at (kh/2, kw/2).
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
  return normalised(std::move(k), "motion kernel");
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

Tensor blur(const Tensor& image, const Tensor& kernel, cpu::Boundary boundary) {
  requireImage(image, "blur");
  const Shape& s = image.shape();
  Tensor out(s);
  cpu::conv2d(image.data(), out.data(), s.c, s.h, s.w, kernel.data(), kernel.shape().h,
              kernel.shape().w, boundary);
  return out;
}

Tensor decimate(const Tensor& image, int s) {
  requireImage(image, "decimate");
  if (s < 1)
    throw std::invalid_argument("decimate: factor must be >= 1");
  const Shape& sh = image.shape();
  Tensor out(Shape{1, sh.c, cpu::decimatedLength(sh.h, s), cpu::decimatedLength(sh.w, s)});
  cpu::decimate(image.data(), out.data(), sh.c, sh.h, sh.w, s);
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
  cpu::BicubicResize2d resize(sh.h, sh.w, sh.h / s, sh.w / s, 1.0 / s);
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
