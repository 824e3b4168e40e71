// Shared by the lowering tests: model text -> checked model -> graph -> run on the CPU backend,
// plus random problem data and plain-loop reference operators (periodic convolution).
#pragma once

#include "compiler/lower/lower.h"
#include "engine/catalogue.h"
#include "engine/stdlib_prox_provider.h"
#include "frontend/parse/parse.h"
#include "frontend/sema/sema.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "stdlib/nn/network.h"
#include "stdlib/nn/safetensors.h"

#include <cmath>
#include <doctest/doctest.h>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>

namespace podm::testing {

struct Compiled {
  std::unique_ptr<SourceFile> file;
  std::unique_ptr<DiagnosticEngine> diags;
  std::unique_ptr<ast::Model> model;
  std::optional<sema::CheckedModel> checked;
};

// Parses and checks `text`; fails the test with the diagnostics when sema rejects it.
inline Compiled check(const std::string& text) {
  Compiled c;
  c.file = std::make_unique<SourceFile>("test.podm", text);
  c.diags = std::make_unique<DiagnosticEngine>(*c.file);
  auto parsed = parseModel(*c.file, *c.diags);
  if (parsed) {
    c.model = std::make_unique<ast::Model>(std::move(*parsed));
    c.checked = sema::check(*c.model, engine::languageCatalogue(), *c.diags);
  }
  if (!c.checked) {
    std::ostringstream out;
    c.diags->print(out);
    FAIL("model rejected by sema:\n" << out.str());
  }
  return c;
}

inline lower::LowerResult lowerText(const std::string& text,
                                    const std::map<std::string, lower::InputShape>& shapes) {
  Compiled c = check(text);
  lower::LowerOptions options;
  options.shapes = shapes;
  return lower::lowerModel(*c.model, *c.checked, options);
}

inline RunResult runGraph(const ir::Graph& g, const std::map<std::string, Tensor>& inputs) {
  engine::installStdlibProxProvider();
  cpu::CpuBackend cpu;
  Executor ex(g, cpu);
  // The graph reads only the inputs the model uses.
  std::map<std::string, Tensor> used;
  for (const auto& [name, t] : inputs)
    if (g.findInput(name))
      used.emplace(name, t);
  return ex.run(used);
}

// Random weights N(0, stddev) for `spec`, written as safetensors to `path`.
inline void writeRandomWeights(const nn::NetworkSpec& spec, const std::string& path,
                               std::mt19937& rng, float stddev = 0.3f) {
  nn::Network net(spec);
  nn::TensorMap weights;
  std::normal_distribution<float> n(0.f, stddev);
  for (const nn::TensorInfo& info : net.expectedWeights()) {
    nn::HostTensor t;
    t.shape = info.shape;
    t.data.resize(static_cast<size_t>(nn::checkedNumel(info.shape)));
    for (float& v : t.data)
      v = n(rng);
    weights[info.name] = t;
  }
  nn::writeSafetensors(path, weights);
}

inline Tensor randomImage(int64_t h, int64_t w, std::mt19937& rng, float lo = 0, float hi = 1) {
  std::uniform_real_distribution<float> u(lo, hi);
  Tensor t = Tensor::image(h, w);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = u(rng);
  return t;
}

// A nonnegative kernel with unit sum (a blur).
inline Tensor randomKernel(int64_t size, std::mt19937& rng) {
  Tensor k = randomImage(size, size, rng, 0.05f, 1.f);
  double s = 0;
  for (int64_t i = 0; i < k.numel(); ++i)
    s += k.data()[i];
  for (int64_t i = 0; i < k.numel(); ++i)
    k.data()[i] = static_cast<float>(k.data()[i] / s);
  return k;
}

using Image = std::vector<double>; // row-major h x w

// True periodic convolution with the kernel origin at (kh/2, kw/2) (numerics/conv.h).
inline Image convPeriodic(const Image& x, int64_t h, int64_t w, const Tensor& k, bool adjoint) {
  const int64_t kh = k.shape().h, kw = k.shape().w;
  Image y(x.size(), 0.0);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      double s = 0;
      for (int64_t a = 0; a < kh; ++a)
        for (int64_t b = 0; b < kw; ++b) {
          int64_t di = adjoint ? a - kh / 2 : kh / 2 - a, dj = adjoint ? b - kw / 2 : kw / 2 - b;
          int64_t ii = ((i + di) % h + h) % h, jj = ((j + dj) % w + w) % w;
          s += k.at(a, b) * x[ii * w + jj];
        }
      y[i * w + j] = s;
    }
  return y;
}

inline Image toImage(const Tensor& t) {
  return Image(t.data(), t.data() + t.numel());
}

inline double relativeError(const Tensor& got, const Image& want) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    num += (got.data()[i] - want[i]) * (got.data()[i] - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

} // namespace podm::testing
