// The device math of the CUDA spectral kernels (runtime/cuda/spectral_math.h), run on the host and
// compared with the CPU backend's kernels and numerics: the spectrum the inverse transforms hand to
// cuFFT's C2R (FFTW's c2r, the same unnormalized transform, stands in for it here), the
// spectrum-energy terms, the min/max step and the SSIM window, each summed both in plain order and
// in the exact order of fft.cu's two-pass reductions (grid-stride threads, block trees, one
// combining block). The cuFFT calls themselves need a GPU; the tensor layout they must produce is
// pinned here by a direct DFT.
#include "ir/builder.h"
#include "numerics/fft.h"
#include "numerics/ssim.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/cuda/spectral_math.h"
#include "runtime/executor.h"
#include "runtime/ir_types.h"

#include <cmath>
#include <complex>
#include <doctest/doctest.h>
#include <limits>
#include <map>
#include <numbers>
#include <random>
#include <string>
#include <vector>

using namespace podm;
namespace sp = podm::cuda::spectral;
using cf = std::complex<float>;
using ir::Op;
using ir::ValueId;

namespace {

// Operand types and values of one op run on the CPU backend; returns output "y".
struct OpRun {
  ir::Graph graph{"spectral_math"};
  ir::Builder b{graph};
  std::map<std::string, Tensor> inputs;

  ValueId input(const Tensor& t, ir::ElemType elem) {
    const std::string name = "in" + std::to_string(inputs.size());
    const Shape& s = t.shape();
    inputs.emplace(name, t);
    return b.input(name, elem == ir::ElemType::F32 ? ir::Type::real({s.n, s.c, s.h, s.w})
                                                   : ir::Type::complex({s.n, s.c, s.h, s.w}));
  }
  Tensor run(ValueId y) {
    b.output("y", y);
    cpu::CpuBackend cpu;
    Executor ex(graph, cpu);
    return ex.run(inputs).outputs.at("y");
  }
};

Tensor randomReal(Shape s, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
  Tensor t(s);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = u(rng);
  return t;
}

Tensor randomComplex(Shape s, std::mt19937& rng) {
  Tensor t(s, DType::C64);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.cdata()[i] = {u(rng), u(rng)};
  return t;
}

Shape halfSpectrumShape(Shape real) {
  return Shape{real.n, real.c, real.h, numerics::halfSpectrumWidth(real.w)};
}

// The half spectra of every plane of `x`, unnormalized (the CPU rfft2).
Tensor spectrumOf(const Tensor& x) {
  const Shape s = x.shape();
  Tensor out(halfSpectrumShape(s), DType::C64);
  const int64_t in = s.h * s.w, half = s.h * numerics::halfSpectrumWidth(s.w);
  for (int64_t p = 0; p < s.n * s.c; ++p)
    numerics::fftForward(x.data() + p * in, out.cdata() + p * half, s.h, s.w);
  return out;
}

// What the inverse launches do, on the host: a scratch spectrum from `element(i)` over all planes
// through c2rInput (the device kernel's loop), then an unnormalized C2R of each plane out of it.
template <class Element>
Tensor inverseFromScratch(Shape real, Element element) {
  const int64_t planes = real.n * real.c, half = real.h * numerics::halfSpectrumWidth(real.w);
  std::vector<cf> scratch(static_cast<size_t>(planes * half));
  for (int64_t i = 0; i < planes * half; ++i)
    scratch[static_cast<size_t>(i)] = sp::c2rInput(i, real.h, real.w, element);
  Tensor out(real);
  for (int64_t p = 0; p < planes; ++p)
    numerics::fftInverse(scratch.data() + p * half, out.data() + p * real.h * real.w, real.h,
                         real.w);
  return out;
}

double maxRelDiff(const Tensor& got, const Tensor& want) {
  REQUIRE(got.numel() == want.numel());
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < want.numel(); ++i)
    scale = std::max(scale, double(std::fabs(want.data()[i])));
  for (int64_t i = 0; i < want.numel(); ++i)
    worst = std::max(worst, std::fabs(double(got.data()[i]) - want.data()[i]));
  return worst / std::max(scale, 1e-30);
}

// fft.cu's reduction order: kReduceBlocks blocks of kReduceBlock threads, each thread combining
// the elements of its grid-stride walk from init, each block a halving tree, then one block that
// starts every thread from its own partial and halves again.
template <class T, class Init, class Term, class Combine>
T gridOrderReduce(int64_t n, Init init, Term term, Combine combine) {
  constexpr int block = sp::kReduceBlock, blocks = sp::kReduceBlocks;
  auto tree = [&](std::vector<T>& lanes) {
    for (int s = block / 2; s > 0; s /= 2)
      for (int t = 0; t < s; ++t)
        lanes[size_t(t)] = combine(lanes[size_t(t)], lanes[size_t(t + s)]);
    return lanes[0];
  };
  std::vector<T> partial(blocks), lanes(block);
  for (int b = 0; b < blocks; ++b) {
    for (int t = 0; t < block; ++t) {
      T acc = init();
      for (int64_t i = int64_t(b) * block + t; i < n; i += int64_t(blocks) * block)
        acc = combine(acc, term(i));
      lanes[size_t(t)] = acc;
    }
    partial[size_t(b)] = tree(lanes);
  }
  for (int t = 0; t < block; ++t) {
    T acc = partial[size_t(t)];
    for (int i = t + block; i < blocks; i += block)
      acc = combine(acc, partial[size_t(i)]);
    lanes[size_t(t)] = acc;
  }
  return tree(lanes);
}

double plus(double a, double b) {
  return a + b;
}

const Shape kPlaneShapes[] = {{1, 1, 8, 8}, {1, 3, 5, 7}, {2, 2, 6, 9}, {1, 2, 1, 5}, {2, 1, 7, 4}};

} // namespace

TEST_CASE("cuda spectral math: the half-spectrum layout rfft2 must produce, by a direct DFT") {
  // cuFFT's batched R2C with default (null) embeddings writes planes of h x (w/2+1) complex values
  // one after the other, as FFTW does: this pins that layout and the unnormalized sign convention
  // against the definition.
  std::mt19937 rng(1);
  for (const Shape& s : kPlaneShapes) {
    CAPTURE(s.h);
    CAPTURE(s.w);
    const Tensor x = randomReal(s, rng);
    OpRun r;
    const Tensor got = r.run(r.b.op(Op::Rfft2, {r.input(x, ir::ElemType::F32)}));
    const int64_t wh = numerics::halfSpectrumWidth(s.w);
    REQUIRE(got.numel() == s.n * s.c * s.h * wh);
    for (int64_t p = 0; p < s.n * s.c; ++p)
      for (int64_t k = 0; k < s.h; ++k)
        for (int64_t l = 0; l < wh; ++l) {
          std::complex<double> sum = 0;
          for (int64_t i = 0; i < s.h; ++i)
            for (int64_t j = 0; j < s.w; ++j) {
              const double phase = -2 * std::numbers::pi *
                                   (double(k * i) / double(s.h) + double(l * j) / double(s.w));
              sum += double(x.data()[p * s.h * s.w + i * s.w + j]) * std::polar(1.0, phase);
            }
          const cf v = got.cdata()[p * s.h * wh + k * wh + l];
          CHECK(std::abs(std::complex<double>(v) - sum) < 1e-5 * double(s.h * s.w));
        }
  }
}

TEST_CASE("cuda spectral math: irfft2's scaled scratch spectrum gives the CPU irfft2") {
  std::mt19937 rng(2);
  for (const Shape& s : kPlaneShapes) {
    CAPTURE(s.h);
    CAPTURE(s.w);
    const Tensor x = randomReal(s, rng);
    const Tensor spectrum = spectrumOf(x);
    const float scale = sp::inverseScale(s.h, s.w);
    CHECK(scale == 1.f / static_cast<float>(s.h * s.w));
    const Tensor host =
        inverseFromScratch(s, [&](int64_t i) { return sp::scaled(spectrum.cdata()[i], scale); });
    OpRun r;
    const Tensor cpu = r.run(
        r.b.op(Op::Irfft2, {r.input(spectrum, ir::ElemType::C64)}, {{"width", int64_t{s.w}}}));
    CHECK(maxRelDiff(host, cpu) < 1e-6);
    CHECK(maxRelDiff(host, x) < 1e-5); // irfft2(rfft2(x)) = x: the 1/(h*w) is in the right place
  }
}

TEST_CASE("cuda spectral math: irfft2_product's fused product gives the CPU irfft2_product") {
  std::mt19937 rng(3);
  for (const Shape& s : kPlaneShapes)
    // Spectra of real planes (Hermitian, as in the graph), and arbitrary c64 values (op_cases.cpp's
    // inputs), where only the Hermitian part of the self-paired columns makes the two agree.
    for (bool hermitian : {true, false}) {
      const Shape half = halfSpectrumShape(s);
      const Tensor a = hermitian ? spectrumOf(randomReal(s, rng)) : randomComplex(half, rng);
      const Tensor bComplex =
          hermitian ? spectrumOf(randomReal(s, rng, 0.5f, 1.5f)) : randomComplex(half, rng);
      Tensor bReal(half); // |K|^2 + rho: nonzero, and symmetric when K is a spectrum
      for (int64_t i = 0; i < bReal.numel(); ++i)
        bReal.data()[i] = std::norm(bComplex.cdata()[i]) + 0.25f;
      const float scale = sp::inverseScale(s.h, s.w);
      for (const char* op : {"mul", "div"})
        for (bool complexB : {false, true}) {
          CAPTURE(s.h);
          CAPTURE(s.w);
          CAPTURE(hermitian);
          CAPTURE(op);
          CAPTURE(complexB);
          const bool divide = std::string(op) == "div";
          const Tensor& b = complexB ? bComplex : bReal;
          const Tensor host = inverseFromScratch(s, [&](int64_t i) -> cf {
            const cf ai = a.cdata()[i];
            if (complexB)
              return divide ? sp::inverseInput<sp::Divide>(ai, b.cdata()[i], scale)
                            : sp::inverseInput<sp::Multiply>(ai, b.cdata()[i], scale);
            return divide ? sp::inverseInput<sp::Divide>(ai, b.data()[i], scale)
                          : sp::inverseInput<sp::Multiply>(ai, b.data()[i], scale);
          });
          OpRun r;
          const ValueId va = r.input(a, ir::ElemType::C64);
          const ValueId vb = r.input(b, complexB ? ir::ElemType::C64 : ir::ElemType::F32);
          const Tensor cpu = r.run(r.b.op(Op::Irfft2Product, {va, vb},
                                          {{"op", std::string(op)}, {"width", int64_t{s.w}}}));
          CHECK(maxRelDiff(host, cpu) < 1e-5);
        }
    }
}

TEST_CASE("cuda spectral math: any correct C2R of the scratch spectrum gives the CPU irfft2") {
  // cuFFT is not FFTW: on a half spectrum that is not Hermitian the two may differ. c2rInput's
  // scratch is Hermitian, so its full-spectrum inverse DFT (the definition, which any correct C2R
  // computes) is real, and it equals the CPU irfft2 of the raw, arbitrary values.
  std::mt19937 rng(8);
  for (const Shape& s : kPlaneShapes) {
    CAPTURE(s.h);
    CAPTURE(s.w);
    const Tensor z = randomComplex(halfSpectrumShape(s), rng);
    const int64_t wh = numerics::halfSpectrumWidth(s.w), half = s.h * wh, plane = s.h * s.w;
    const float scale = sp::inverseScale(s.h, s.w);
    auto element = [&](int64_t j) { return sp::scaled(z.cdata()[j], scale); };
    Tensor direct(s);
    double worstImag = 0;
    for (int64_t p = 0; p < s.n * s.c; ++p) {
      // The full h x w spectrum the scratch half stands for.
      auto full = [&](int64_t k, int64_t l) -> std::complex<double> {
        if (l < wh)
          return sp::c2rInput(p * half + k * wh + l, s.h, s.w, element);
        return std::conj(std::complex<double>(
            sp::c2rInput(p * half + ((s.h - k) % s.h) * wh + (s.w - l), s.h, s.w, element)));
      };
      for (int64_t i = 0; i < s.h; ++i)
        for (int64_t j = 0; j < s.w; ++j) {
          std::complex<double> sum = 0;
          for (int64_t k = 0; k < s.h; ++k)
            for (int64_t l = 0; l < s.w; ++l)
              sum +=
                  full(k, l) *
                  std::polar(1.0, 2 * std::numbers::pi *
                                      (double(k * i) / double(s.h) + double(l * j) / double(s.w)));
          direct.data()[p * plane + i * s.w + j] = static_cast<float>(sum.real());
          worstImag = std::max(worstImag, std::fabs(sum.imag()));
        }
    }
    OpRun r;
    const Tensor cpu =
        r.run(r.b.op(Op::Irfft2, {r.input(z, ir::ElemType::C64)}, {{"width", int64_t{s.w}}}));
    CHECK(worstImag < 1e-6);
    CHECK(maxRelDiff(direct, cpu) < 1e-5);
  }
}

TEST_CASE("cuda spectral math: irfft2_product of spectra is the circular convolution") {
  // The product path end to end against its definition, independent of any FFT library.
  std::mt19937 rng(4);
  for (const Shape& s : kPlaneShapes) {
    CAPTURE(s.h);
    CAPTURE(s.w);
    const Tensor x = randomReal(s, rng), k = randomReal(s, rng);
    const Tensor a = spectrumOf(x), b = spectrumOf(k);
    const float scale = sp::inverseScale(s.h, s.w);
    const Tensor host = inverseFromScratch(s, [&](int64_t i) {
      return sp::inverseInput<sp::Multiply>(a.cdata()[i], b.cdata()[i], scale);
    });
    Tensor direct(s);
    const int64_t plane = s.h * s.w;
    for (int64_t p = 0; p < s.n * s.c; ++p)
      for (int64_t i = 0; i < s.h; ++i)
        for (int64_t j = 0; j < s.w; ++j) {
          double sum = 0;
          for (int64_t m = 0; m < s.h; ++m)
            for (int64_t n = 0; n < s.w; ++n)
              sum += double(x.data()[p * plane + m * s.w + n]) *
                     k.data()[p * plane + ((i - m + s.h) % s.h) * s.w + (j - n + s.w) % s.w];
          direct.data()[p * plane + i * s.w + j] = static_cast<float>(sum);
        }
    CHECK(maxRelDiff(host, direct) < 1e-5);
  }
}

TEST_CASE("cuda spectral math: spectrum_energy terms, in both orders, give the CPU figure") {
  std::mt19937 rng(5);
  for (const Shape& s :
       {Shape{1, 1, 4, 3}, Shape{1, 3, 17, 9}, Shape{2, 3, 160, 129}, Shape{1, 1, 1, 1}}) {
    const Tensor a = randomComplex(s, rng), b = randomComplex(s, rng), c = randomComplex(s, rng);
    const Tensor w = randomReal(s, rng, 0.f, 2.f);
    const int64_t n = a.numel();
    for (bool offset : {false, true}) {
      CAPTURE(n);
      CAPTURE(offset);
      auto term = [&](int64_t i) {
        return offset ? sp::energyTerm(a.cdata()[i], b.cdata()[i], c.cdata()[i], w.data()[i])
                      : sp::energyTerm(a.cdata()[i], b.cdata()[i], w.data()[i]);
      };
      double plain = 0, direct = 0;
      for (int64_t i = 0; i < n; ++i) {
        plain += term(i);
        const std::complex<double> v =
            std::complex<double>(a.cdata()[i]) * std::complex<double>(b.cdata()[i]) +
            (offset ? std::complex<double>(c.cdata()[i]) : 0.0);
        direct += std::norm(v) * w.data()[i];
      }
      const double gpuOrder = gridOrderReduce<double>(
          n, [] { return 0.0; }, term, plus);
      OpRun r;
      std::vector<ValueId> ops = {r.input(a, ir::ElemType::C64), r.input(b, ir::ElemType::C64),
                                  r.input(w, ir::ElemType::F32)};
      if (offset)
        ops.push_back(r.input(c, ir::ElemType::C64));
      const float cpu = r.run(r.b.create(Op::SpectrumEnergy, ops)).data()[0];
      CHECK(static_cast<float>(plain) == doctest::Approx(cpu).epsilon(1e-6));
      CHECK(static_cast<float>(gpuOrder) == doctest::Approx(cpu).epsilon(1e-6));
      CHECK(direct == doctest::Approx(cpu).epsilon(1e-5));
    }
  }
}

TEST_CASE("cuda spectral math: minval / maxval in the reduction order equal the CPU kernels") {
  std::mt19937 rng(6);
  // One element, fewer than a block, more than one grid-stride sweep (256 * 512 threads).
  for (const Shape& s :
       {Shape{1, 1, 1, 1}, Shape{1, 1, 3, 5}, Shape{1, 2, 37, 41}, Shape{1, 3, 300, 250}}) {
    Tensor x = randomReal(s, rng, -3.f, 5.f);
    const int64_t n = x.numel();
    for (bool withNan : {false, true}) {
      if (withNan)
        x.data()[n / 2] = std::numeric_limits<float>::quiet_NaN();
      for (bool largest : {false, true}) {
        CAPTURE(n);
        CAPTURE(withNan);
        CAPTURE(largest);
        auto step = [&](float m, float v) {
          return largest ? sp::extremeStep<true>(m, v) : sp::extremeStep<false>(m, v);
        };
        const float* data = x.data();
        const float gpuOrder = gridOrderReduce<float>(
            n, [&] { return data[0]; }, [&](int64_t i) { return data[i]; }, step);
        float plain = data[0];
        for (int64_t i = 1; i < n; ++i)
          plain = step(plain, data[i]);
        OpRun r;
        const float cpu =
            r.run(r.b.op(largest ? Op::MaxVal : Op::MinVal, {r.input(x, ir::ElemType::F32)}))
                .data()[0];
        if (withNan) {
          CHECK(std::isnan(cpu));
          CHECK(std::isnan(plain));
          CHECK(std::isnan(gpuOrder));
        } else {
          CHECK(plain == cpu);
          CHECK(gpuOrder == cpu);
        }
      }
    }
  }
  // A NaN wins from either side of a step, so any meeting order keeps it.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isnan(sp::extremeStep<true>(nan, 1.f)));
  CHECK(std::isnan(sp::extremeStep<true>(1.f, nan)));
  CHECK(std::isnan(sp::extremeStep<false>(nan, -1.f)));
  CHECK(std::isnan(sp::extremeStep<false>(-1.f, nan)));
}

TEST_CASE("cuda spectral math: the ssim window is numerics' Gaussian, bit for bit") {
  double g[11];
  numerics::ssimGaussian(g);
  const sp::SsimWindow win = sp::ssimWindow();
  for (int i = 0; i < sp::kSsimTaps; ++i)
    CHECK(win.g[i] == g[i]);
}

TEST_CASE("cuda spectral math: ssim per window position gives numerics' and the CPU ssim") {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.f, 0.05f);
  const sp::SsimWindow win = sp::ssimWindow();
  struct Case {
    int64_t h, w, shave;
  };
  for (const Case& c :
       {Case{11, 11, 0}, Case{19, 23, 0}, Case{19, 23, 2}, Case{32, 17, 3}, Case{64, 70, 4}}) {
    CAPTURE(c.h);
    CAPTURE(c.w);
    CAPTURE(c.shave);
    const Tensor a = randomReal(Shape{1, 1, c.h, c.w}, rng, 0.f, 1.f);
    Tensor b = a.clone();
    for (int64_t i = 0; i < b.numel(); ++i)
      b.data()[i] += noise(rng);
    // The builder's geometry: the shaved region's first pixel and its valid window positions.
    const int64_t offset = c.shave * c.w + c.shave;
    const int64_t rows = sp::ssimValid(c.h - 2 * c.shave), cols = sp::ssimValid(c.w - 2 * c.shave);
    auto term = [&](int64_t i) {
      return sp::ssimAt(a.data() + offset, b.data() + offset, c.w, i / cols, i % cols, win,
                        sp::kSsimDataRange);
    };
    double sum = 0;
    for (int64_t i = 0; i < rows * cols; ++i)
      sum += term(i);
    const double plainMean = sum / double(rows * cols);
    const double gpuMean = gridOrderReduce<double>(
                               rows * cols, [] { return 0.0; }, term, plus) /
                           double(rows * cols);

    numerics::SsimScratch scratch;
    const int64_t regionH = c.h - 2 * c.shave, regionW = c.w - 2 * c.shave;
    scratch.resize(regionH, regionW);
    const double reference = numerics::ssimMean(a.data() + offset, c.w, b.data() + offset, c.w,
                                                regionH, regionW, 1.0, scratch);
    OpRun r;
    const ValueId va = r.input(a, ir::ElemType::F32), vb = r.input(b, ir::ElemType::F32);
    const float cpu = r.run(r.b.op(Op::Ssim, {va, vb}, {{"shave", c.shave}})).data()[0];

    CHECK(reference > 0.1); // a figure far from zero, so the relative checks mean something
    CHECK(plainMean == doctest::Approx(reference).epsilon(1e-12));
    CHECK(gpuMean == doctest::Approx(reference).epsilon(1e-12));
    CHECK(static_cast<float>(gpuMean) == doctest::Approx(cpu).epsilon(1e-6));
  }
}
