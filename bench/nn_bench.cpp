// Network benchmark: the 7-layer 64-channel dilated denoiser (IRCNN / PODM prior) through
// podm::nn::Network against the same oneDNN primitives chained by hand in the same run (any
// layouts, ReLU post-ops, weights pre-reordered, reorders only at entry and exit, the residual
// subtraction) — the ratio is the overhead of podm's wrapper; GFLOP/s says how close both are to
// the machine. Usage: podm_bench_nn [sizes...] (default 256 512).
#include "bench/harness.h"
#include "stdlib/nn/network.h"

#include <cstdlib>
#include <dnnl.hpp>
#include <random>

using namespace podm;
using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

// The baseline: the denoiser written directly against oneDNN.
struct HandChained {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  std::vector<std::pair<dnnl::primitive, std::unordered_map<int, memory>>> steps;
  memory userIn, userOut;
  int64_t count;

  HandChained(int64_t size, const nn::TensorMap& w, const std::vector<int64_t>& dil) {
    int64_t n = 1, c = 1;
    count = size * size;
    userIn = memory({{n, 1, size, size}, dt::f32, tag::nchw}, eng, DNNL_MEMORY_NONE);
    userOut = memory({{n, 1, size, size}, dt::f32, tag::nchw}, eng, DNNL_MEMORY_NONE);
    memory cur = userIn;
    for (size_t i = 0; i < dil.size(); ++i) {
      int64_t out = i + 1 == dil.size() ? 1 : 64, d = dil[i];
      dnnl::primitive_attr attr;
      if (i + 1 != dil.size()) {
        dnnl::post_ops po;
        po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        attr.set_post_ops(po);
      }
      dnnl::convolution_forward::desc desc(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
          {{n, c, size, size}, dt::f32, tag::any}, {{out, c, 3, 3}, dt::f32, tag::any},
          {{out}, dt::f32, tag::x}, {{n, out, size, size}, dt::f32, tag::any}, {1, 1},
          {d - 1, d - 1}, {d, d}, {d, d});
      dnnl::convolution_forward::primitive_desc pd(desc, attr, eng);
      if (cur.get_desc() != pd.src_desc()) {
        memory m(pd.src_desc(), eng);
        steps.push_back({dnnl::reorder(cur, m), {{DNNL_ARG_FROM, cur}, {DNNL_ARG_TO, m}}});
        cur = m;
      }
      std::string p = "conv" + std::to_string(i);
      // oneDNN memory objects take non-const handles; the weights are only read.
      auto& wt = const_cast<std::vector<float>&>(w.at(p + ".weight").data);
      auto& bs = const_cast<std::vector<float>&>(w.at(p + ".bias").data);
      memory uw({{out, c, 3, 3}, dt::f32, tag::oihw}, eng, wt.data());
      memory wm(pd.weights_desc(), eng);
      dnnl::reorder(uw, wm).execute(strm, uw, wm);
      memory bm(pd.bias_desc(), eng);
      memory ub({{out}, dt::f32, tag::x}, eng, bs.data());
      dnnl::reorder(ub, bm).execute(strm, ub, bm);
      strm.wait();
      // The last conv writes straight into the caller's buffer when the layouts agree (a
      // 1-channel NHWC output is plain NCHW), as Network does.
      bool last = i + 1 == dil.size();
      memory dst =
          last && pd.dst_desc() == userOut.get_desc() ? userOut : memory(pd.dst_desc(), eng);
      steps.push_back({dnnl::convolution_forward(pd),
                       {{DNNL_ARG_SRC, cur},
                        {DNNL_ARG_WEIGHTS, wm},
                        {DNNL_ARG_BIAS, bm},
                        {DNNL_ARG_DST, dst}}});
      cur = dst;
      c = out;
    }
    if (cur.get_data_handle() != userOut.get_data_handle() || cur.get_desc() != userOut.get_desc())
      steps.push_back(
          {dnnl::reorder(cur, userOut), {{DNNL_ARG_FROM, cur}, {DNNL_ARG_TO, userOut}}});
  }

  void run(const float* x, float* y) {
    userIn.set_data_handle(const_cast<float*>(x));
    userOut.set_data_handle(y);
    for (auto& [prim, args] : steps)
      prim.execute(strm, args);
    strm.wait();
    for (int64_t i = 0; i < count; ++i)
      y[i] = x[i] - y[i];
  }
};

} // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes;
  for (int i = 1; i < argc; ++i)
    sizes.push_back(std::atoll(argv[i]));
  if (sizes.empty())
    sizes = {256, 512};
  const std::vector<int64_t> dil = {1, 2, 3, 4, 3, 2, 1};
  nn::Network net(nn::residual(nn::dilatedCnn(7, 64, dil)));
  nn::TensorMap w;
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 0.05f);
  for (const nn::TensorInfo& t : net.expectedWeights()) {
    nn::HostTensor h{t.shape, std::vector<float>(size_t(nn::checkedNumel(t.shape)))};
    for (float& v : h.data)
      v = g(rng);
    w[t.name] = std::move(h);
  }
  net.bind(w);
  std::printf("%-34s %6s %10s %10s %7s %10s %10s\n", "7-layer 64-ch dilated denoiser", "size",
              "podm ms", "hand ms", "ratio", "podm GF/s", "hand GF/s");
  for (int64_t s : sizes) {
    Tensor x(Shape{1, 1, s, s}), y, yb(Shape{1, 1, s, s});
    for (int64_t i = 0; i < x.numel(); ++i)
      x.data()[i] = float(i % 251) / 251.0f;
    HandChained hand(s, w, dil);
    bench::PairTiming t = bench::timePair([&] { net.forward(x, y); },
                                          [&] { hand.run(x.data(), yb.data()); }, 3000.0, 2, 5, 50);
    double maxDiff = 0;
    for (int64_t i = 0; i < x.numel(); ++i)
      maxDiff = std::max(maxDiff, double(std::abs(y.data()[i] - yb.data()[i])));
    double gf = net.flops(x.shape()) * 1e-9;
    std::printf("%-34s %5lld² %10.2f %10.2f %7.3f %10.1f %10.1f   (max |diff| %.1e)\n",
                "Network::forward vs hand-chained", static_cast<long long>(s), t.candidateMs,
                t.baselineMs, t.ratio(), gf / (t.candidateMs * 1e-3), gf / (t.baselineMs * 1e-3),
                maxDiff);
    std::fflush(stdout);
  }
  return 0;
}
