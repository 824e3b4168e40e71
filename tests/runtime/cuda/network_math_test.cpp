// The CUDA network node's arithmetic and plan on the host: network_math.h's per-element functions
// (the ones network.cu's threads call) against numerics' padding (and its adjoint, the trainer's
// border gradient), finite differences of the activations and the CPU's ELU, and network_plan.h's
// steps (borders cuDNN cannot do, strides, dense layers, buffer routing) run by the host runner of
// the same plan (network_host_run.h). The whole networks against the CPU's oneDNN ones are in
// tests/stdlib/nn/network_layers_test.cpp.
#include "network_host_run.h"
#include "numerics/conv.h"
#include "numerics/pad.h"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <random>

using namespace podm;
using namespace podm::cuda;

namespace {

std::vector<float> randomFloats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v)
    x = u(rng);
  return v;
}

double maxRelError(const std::vector<float>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    num = std::max(num, std::abs(double(got[i]) - want[i]));
    den = std::max(den, std::abs(want[i]));
  }
  REQUIRE(den > 0);
  return num / den;
}

NetLayer convLayer(int64_t in, int64_t out, int64_t k, int64_t dilation = 1, int64_t stride = 1,
                   NetPadding padding = NetPadding::Same) {
  NetLayer l;
  l.kind = NetLayerKind::Conv;
  l.in = in;
  l.out = out;
  l.kernel = k;
  l.dilation = dilation;
  l.stride = stride;
  l.padding = padding;
  return l;
}

// y = bias + sum_i w[o, i] (correlation) x_i, each plane through numerics' true convolution
// with the flipped kernel on a zero (or, bordered first, replicate) extension, then ELU.
std::vector<double> numericsConvElu(const std::vector<float>& x, const NetDims& in,
                                    const std::vector<float>& w, const std::vector<float>& bias,
                                    int64_t out, int64_t k, bool replicate) {
  const int64_t r = k / 2;
  const int64_t ph = in.h + 2 * r, pw = in.w + 2 * r;
  std::vector<double> y(static_cast<size_t>(in.n * out * in.h * in.w));
  std::vector<float> padded(static_cast<size_t>(ph * pw)), conv(padded.size());
  numerics::Padding2d border(in.h, in.w, numerics::PadSides{r, r, r, r},
                             replicate ? numerics::PadMode::Replicate : numerics::PadMode::Zero);
  for (int64_t b = 0; b < in.n; ++b)
    for (int64_t o = 0; o < out; ++o) {
      std::vector<double> acc(static_cast<size_t>(in.h * in.w), bias[size_t(o)]);
      for (int64_t i = 0; i < in.c; ++i) {
        border.apply(x.data() + (b * in.c + i) * in.plane(), padded.data(), 1);
        std::vector<float> flipped =
            numerics::flippedKernel(w.data() + (o * in.c + i) * k * k, k, k);
        numerics::conv2d(padded.data(), conv.data(), 1, ph, pw, flipped.data(), k, k,
                         numerics::Boundary::Zero, numerics::ConvMethod::Direct);
        for (int64_t yy = 0; yy < in.h; ++yy)
          for (int64_t xx = 0; xx < in.w; ++xx)
            acc[size_t(yy * in.w + xx)] += conv[size_t((yy + r) * pw + xx + r)];
      }
      for (size_t p = 0; p < acc.size(); ++p) {
        double v = acc[p];
        y[size_t((b * out + o) * in.plane()) + p] = v > 0 ? v : std::expm1(v);
      }
    }
  return y;
}

} // namespace

TEST_CASE("network math: activations follow oneDNN's eltwise definitions") {
  for (float v = -6.0f; v <= 6.0f; v += 0.37f) {
    CAPTURE(v);
    CHECK(netmath::activate(v, netmath::kNone, 0.3f) == v);
    CHECK(netmath::activate(v, netmath::kReLU, 0.0f) == (v > 0 ? v : 0.0f));
    CHECK(netmath::activate(v, netmath::kLeakyReLU, 0.1f) == (v > 0 ? v : 0.1f * v));
    // The CPU's elu op (runtime/cpu/learnable_kernels.cpp) is a > 0 ? a : expm1(a).
    CHECK(netmath::activate(v, netmath::kELU, 1.0f) == doctest::Approx(v > 0 ? v : std::expm1(v)));
    CHECK(netmath::activate(v, netmath::kELU, 0.5f) ==
          doctest::Approx(v > 0 ? v : 0.5 * std::expm1(double(v))).epsilon(1e-6));
  }
  // The codes are NetActivation's.
  CHECK(int(NetActivation::None) == netmath::kNone);
  CHECK(int(NetActivation::ReLU) == netmath::kReLU);
  CHECK(int(NetActivation::LeakyReLU) == netmath::kLeakyReLU);
  CHECK(int(NetActivation::ELU) == netmath::kELU);
}

namespace {

// Borders of every kind: one side only, symmetric, wider than the plane, rows only.
struct PadCase {
  int64_t planes, h, w, top, bottom, left, right;
};
const PadCase kPadCases[] = {
    {1, 5, 7, 0, 1, 0, 1}, {3, 4, 4, 1, 1, 2, 2}, {2, 1, 9, 2, 0, 3, 1}, {2, 6, 3, 3, 3, 0, 0}};

} // namespace

TEST_CASE("network math: borders are numerics' zero and replicate padding") {
  for (PadCase c : kPadCases)
    for (bool replicate : {false, true}) {
      CAPTURE(c.h);
      CAPTURE(c.w);
      CAPTURE(replicate);
      const std::vector<float> x = randomFloats(c.planes * c.h * c.w, 7);
      numerics::Padding2d pad(c.h, c.w, numerics::PadSides{c.top, c.left, c.bottom, c.right},
                              replicate ? numerics::PadMode::Replicate : numerics::PadMode::Zero);
      std::vector<float> want(size_t(c.planes * pad.paddedH() * pad.paddedW()));
      pad.apply(x.data(), want.data(), c.planes);
      const int64_t ph = c.h + c.top + c.bottom, pw = c.w + c.left + c.right;
      REQUIRE(ph == pad.paddedH());
      REQUIRE(pw == pad.paddedW());
      for (int64_t i = 0; i < int64_t(want.size()); ++i)
        REQUIRE(netmath::padAt(x.data(), i, c.h, c.w, ph, pw, c.top, c.left, replicate) ==
                want[size_t(i)]);
    }
}

TEST_CASE("network math: the border gradient is numerics' padding adjoint") {
  for (PadCase c : kPadCases)
    for (bool replicate : {false, true}) {
      CAPTURE(c.h);
      CAPTURE(c.w);
      CAPTURE(replicate);
      numerics::Padding2d pad(c.h, c.w, numerics::PadSides{c.top, c.left, c.bottom, c.right},
                              replicate ? numerics::PadMode::Replicate : numerics::PadMode::Zero);
      const int64_t ph = pad.paddedH(), pw = pad.paddedW();
      const std::vector<float> g = randomFloats(c.planes * ph * pw, 9);
      std::vector<float> want(size_t(c.planes * c.h * c.w));
      pad.adjoint(g.data(), want.data(), c.planes);
      for (int64_t i = 0; i < int64_t(want.size()); ++i)
        REQUIRE(netmath::padGradAt(g.data(), i, c.h, c.w, ph, pw, c.top, c.left, replicate) ==
                doctest::Approx(want[size_t(i)]).epsilon(1e-6));
    }
}

TEST_CASE("network math: activation gradients from the output are the derivative") {
  // d/dz act(z) by central differences in double, against activationGrad(1, act(z)).
  for (int act : {netmath::kNone, netmath::kReLU, netmath::kLeakyReLU, netmath::kELU})
    for (float z : {-2.0f, -0.3f, 0.25f, 1.5f}) {
      CAPTURE(act);
      CAPTURE(z);
      const float alpha = act == netmath::kELU ? 1.0f : 0.2f;
      const double h = 1e-3;
      const double slope = (double(netmath::activate(float(z + h), act, alpha)) -
                            double(netmath::activate(float(z - h), act, alpha))) /
                           (2 * h);
      const float y = netmath::activate(z, act, alpha);
      CHECK(netmath::activationGrad(1.0f, y, act, alpha) == doctest::Approx(slope).epsilon(2e-3));
      CHECK(netmath::activationGrad(3.0f, y, act, alpha) ==
            doctest::Approx(3 * netmath::activationGrad(1.0f, y, act, alpha)));
    }
}

TEST_CASE("network math: nearest upsampling and input concatenation") {
  const std::vector<float> x = randomFloats(2 * 3 * 5, 3); // 2 planes of 3 x 5
  for (int64_t f : {1, 2, 3}) {
    const int64_t uh = 3 * f, uw = 5 * f;
    for (int64_t q = 0; q < 2; ++q)
      for (int64_t y = 0; y < uh; ++y)
        for (int64_t xx = 0; xx < uw; ++xx)
          REQUIRE(netmath::upsampleAt(x.data(), (q * uh + y) * uw + xx, 3, 5, f) ==
                  x[size_t((q * 3 + y / f) * 5 + xx / f)]);
  }
  // Batch of 2: cur has 3 channels, the input 2, planes of 4 pixels.
  const std::vector<float> cur = randomFloats(2 * 3 * 4, 4), in = randomFloats(2 * 2 * 4, 5);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t ch = 0; ch < 5; ++ch)
      for (int64_t p = 0; p < 4; ++p) {
        const float want =
            ch < 3 ? cur[size_t((b * 3 + ch) * 4 + p)] : in[size_t((b * 2 + ch - 3) * 4 + p)];
        REQUIRE(netmath::concatAt(cur.data(), in.data(), (b * 5 + ch) * 4 + p, 3, 2, 4) == want);
      }
}

TEST_CASE("network math: a 'same' convolution with ELU equals numerics' convolution") {
  for (bool replicate : {false, true})
    for (int64_t k : {3, 5})
      for (NetDims in : {NetDims{1, 2, 7, 9}, NetDims{2, 2, 5, 4}, NetDims{1, 2, 1, 6}}) {
        CAPTURE(replicate);
        CAPTURE(k);
        CAPTURE(in.str());
        NetLayer l = convLayer(2, 3, k, 1, 1, replicate ? NetPadding::Replicate : NetPadding::Same);
        l.activation = NetActivation::ELU;
        l.alpha = 1.0f;
        const std::vector<float> w = randomFloats(3 * 2 * k * k, uint32_t(k));
        const std::vector<float> bias = randomFloats(3, 9);
        l.weight = w.data();
        l.bias = bias.data();
        const NetPlan plan = planNetwork({l}, 2, false, in);
        // Replicate borders are a step of their own; zero borders are cuDNN's padding.
        REQUIRE(plan.steps.size() == (replicate ? 2u : 1u));
        const std::vector<float> x = randomFloats(in.numel(), 11);
        const std::vector<float> got = hostrun::run(plan, {l}, x);
        CHECK(maxRelError(got, numericsConvElu(x, in, w, bias, 3, k, replicate)) < 1e-5);
      }
}

TEST_CASE("network plan: borders cuDNN cannot pad, strides, valid and dense layers") {
  // Odd kernel at stride 1: symmetric zero padding, no step of its own.
  NetPlan p = planNetwork({convLayer(1, 4, 3, 2)}, 1, false, NetDims{1, 1, 10, 11});
  REQUIRE(p.steps.size() == 1);
  CHECK(p.steps[0].padH == 2);
  CHECK(p.steps[0].padW == 2);
  CHECK(p.out == NetDims{1, 4, 10, 11});

  // Even kernel: 'same' puts the odd pixel after, which cuDNN cannot, so a border step first.
  p = planNetwork({convLayer(1, 2, 4)}, 1, false, NetDims{1, 1, 9, 10});
  REQUIRE(p.steps.size() == 2);
  CHECK(p.steps[0].kind == NetStepKind::Pad);
  CHECK(p.steps[0].top == 1);
  CHECK(p.steps[0].bottom == 2);
  CHECK(!p.steps[0].replicate);
  CHECK(p.steps[0].dst == NetDims{1, 1, 12, 13});
  CHECK(p.steps[1].padH == 0);
  CHECK(p.out == NetDims{1, 2, 9, 10});

  // Stride 2 on 16: output 8, total border (8-1)*2 + 3 - 16 = 1, all of it after.
  p = planNetwork({convLayer(1, 2, 3, 1, 2)}, 1, false, NetDims{1, 1, 16, 15});
  REQUIRE(p.steps.size() == 2);
  CHECK(p.steps[0].top == 0);
  CHECK(p.steps[0].bottom == 1);
  CHECK(p.steps[0].left == 1); // 15: (8-1)*2 + 3 - 15 = 2, one on each side
  CHECK(p.steps[0].right == 1);
  CHECK(p.out == NetDims{1, 2, 8, 8});

  // Valid: no padding; a 1x1 replicate convolution needs no border either.
  p = planNetwork({convLayer(1, 2, 3, 2, 1, NetPadding::Valid)}, 1, false, NetDims{2, 1, 9, 8});
  REQUIRE(p.steps.size() == 1);
  CHECK(p.out == NetDims{2, 2, 5, 4});
  p = planNetwork({convLayer(1, 2, 1, 1, 1, NetPadding::Replicate)}, 1, false, NetDims{1, 1, 4, 4});
  CHECK(p.steps.size() == 1);

  // Dense layers are convolutions whose filter covers their whole input.
  NetLayer dense;
  dense.kind = NetLayerKind::Dense;
  dense.in = 2 * 3 * 4;
  dense.out = 5;
  p = planNetwork({dense}, 7, false, NetDims{2, 2, 3, 4}); // a dense first layer takes any C
  REQUIRE(p.steps.size() == 1);
  CHECK(p.steps[0].kh == 3);
  CHECK(p.steps[0].kw == 4);
  CHECK(p.out == NetDims{2, 5, 1, 1});
}

TEST_CASE("network plan: two ping-pong buffers whatever the depth, the last step writes out") {
  std::vector<NetLayer> layers;
  for (int i = 0; i < 7; ++i)
    layers.push_back(convLayer(i == 0 ? 1 : 8, i == 6 ? 1 : 8, 3));
  NetPlan p = planNetwork(layers, 1, true, NetDims{1, 1, 6, 5});
  REQUIRE(p.steps.size() == 7);
  CHECK(p.steps[0].from == NetSlot::Input);
  for (size_t k = 0; k + 1 < p.steps.size(); ++k) {
    CHECK(p.steps[k].to != p.steps[k].from);
    CHECK(p.steps[k].to != NetSlot::Output);
    CHECK(p.steps[k + 1].from == p.steps[k].to);
  }
  CHECK(p.steps.back().to == NetSlot::Output);
  CHECK(p.bufferFloats[0] == 8 * 30);
  CHECK(p.bufferFloats[1] == 8 * 30);
  CHECK(p.residual);

  // No layers: the identity, one copy.
  p = planNetwork({}, 1, false, NetDims{1, 1, 3, 3});
  REQUIRE(p.steps.size() == 1);
  CHECK(p.steps[0].kind == NetStepKind::Copy);
}

TEST_CASE("network plan: upsampling, input concatenation and the residual on the host") {
  // conv 1->2 (1x1, ReLU) -> concat input -> conv 3->1 (1x1) -> x - net(x), against loops.
  NetLayer a = convLayer(1, 2, 1);
  a.activation = NetActivation::ReLU;
  NetLayer cat;
  cat.kind = NetLayerKind::ConcatInput;
  cat.in = 2;
  cat.out = 3;
  NetLayer b = convLayer(3, 1, 1);
  const std::vector<float> wa = {0.5f, -1.5f}, ba = {0.1f, 0.2f}, wb = {1.0f, 2.0f, -3.0f},
                           bb = {0.25f};
  a.weight = wa.data(), a.bias = ba.data(), b.weight = wb.data(), b.bias = bb.data();
  const NetDims in{2, 1, 3, 4};
  const std::vector<float> x = randomFloats(in.numel(), 21);
  const NetPlan plan = planNetwork({a, cat, b}, 1, true, in);
  const std::vector<float> got = hostrun::run(plan, {a, cat, b}, x);
  std::vector<double> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double h0 = std::max(0.0, 0.5 * x[i] + 0.1), h1 = std::max(0.0, -1.5 * x[i] + 0.2);
    want[i] = x[i] - (h0 + 2.0 * h1 - 3.0 * x[i] + 0.25);
  }
  CHECK(maxRelError(got, want) < 1e-6);

  // Upsampling, then a standalone activation.
  NetLayer up;
  up.kind = NetLayerKind::Upsample;
  up.factor = 2;
  NetLayer act;
  act.kind = NetLayerKind::Activation;
  act.activation = NetActivation::LeakyReLU;
  act.alpha = 0.2f;
  const NetPlan p2 = planNetwork({up, act}, 1, false, in);
  CHECK(p2.out == NetDims{2, 1, 6, 8});
  const std::vector<float> u = hostrun::run(p2, {up, act}, x);
  for (int64_t q = 0; q < 2; ++q)
    for (int64_t y = 0; y < 6; ++y)
      for (int64_t xx = 0; xx < 8; ++xx) {
        const float v = x[size_t((q * 3 + y / 2) * 4 + xx / 2)];
        REQUIRE(u[size_t((q * 6 + y) * 8 + xx)] == (v > 0 ? v : 0.2f * v));
      }
}

TEST_CASE("network plan: inputs that do not fit the network are refused, naming the layer") {
  CHECK_THROWS_WITH_AS(planNetwork({convLayer(1, 2, 3)}, 1, false, NetDims{1, 3, 8, 8}),
                       doctest::Contains("3 channels"), std::runtime_error);
  CHECK_THROWS_WITH_AS(
      planNetwork({convLayer(1, 1, 3), convLayer(2, 1, 3)}, 1, false, NetDims{1, 1, 8, 8}),
      doctest::Contains("layer 1"), std::runtime_error);
  CHECK_THROWS_WITH_AS(
      planNetwork({convLayer(1, 1, 5, 2, 1, NetPadding::Valid)}, 1, false, NetDims{1, 1, 8, 8}),
      doctest::Contains("kernel extent 9"), std::runtime_error);
  CHECK_THROWS_WITH_AS(planNetwork({convLayer(1, 2, 3)}, 1, true, NetDims{1, 1, 8, 8}),
                       doctest::Contains("residual"), std::runtime_error);
}
