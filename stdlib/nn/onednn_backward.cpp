// Training execution of a TrainableNetwork on oneDNN: per input shape one plan holding the
// forward steps (forward_training primitives whose activations are all kept) and the backward
// steps (eltwise backward, convolution / inner product backward data and backward weights with
// bias), built once and cached like the inference plans of onednn_exec.cpp.
//
// Layout rule: every activation F[b] between layers is kept in the layout its producer chose
// (usually blocked nChw16c) and its gradient G[b] has exactly the same layout, so reorders appear
// only where a primitive prefers another one. An activation is fused into the layer before it
// as a post-op, and its backward uses the *_use_dst_for_bwd algorithms, so the pre-activation
// values need not be kept. Weights are reordered from the Parameters' plain OIHW storage at the
// start of every forward (an optimizer changes them between steps) and weight gradients are
// reordered back to plain and added into Parameter::grad.
#include "stdlib/nn/trainable_impl.h"

#include <algorithm>
#include <cstring>
#include <dnnl.hpp>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

namespace podm::nn {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

struct Step {
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;
  std::function<void()> custom; // a host loop (replicate padding and its adjoint)
};

struct GradSink {
  memory plain; // the gradient in the parameter's plain layout
  Parameter* param;
};

struct Plan {
  memory input;  // plain copy of the last forward's input (F[0])
  memory output; // the network output in plain layout (before the residual)
  memory dOut;   // plain cotangent of the network output (negated for residual networks)
  memory dIn;    // plain gradient of the input (G[0])
  std::vector<Step> fwd;
  std::vector<Step> bwd;
  size_t bwdInputOnly = 0; // bwd steps from here on only serve the input gradient
  std::vector<std::pair<memory, Parameter*>> userWeights; // plain views of Parameter values
  std::vector<GradSink> grads;
};

using ShapeKey = std::tuple<int64_t, int64_t, int64_t, int64_t>;

bool isActivation(LayerKind k) {
  return k == LayerKind::ReLU || k == LayerKind::ELU || k == LayerKind::LeakyReLU;
}

// The forward algorithm (for post-ops) and its dst-based backward twin, with alpha.
struct Eltwise {
  dnnl::algorithm fwd, bwd;
  float alpha;
};
Eltwise eltwiseOf(const Layer& l) {
  if (l.kind == LayerKind::ELU)
    return {dnnl::algorithm::eltwise_elu, dnnl::algorithm::eltwise_elu_use_dst_for_bwd, l.alpha};
  float a = l.kind == LayerKind::LeakyReLU ? l.alpha : 0.0f;
  return {dnnl::algorithm::eltwise_relu, dnnl::algorithm::eltwise_relu_use_dst_for_bwd, a};
}

void run(dnnl::stream& s, std::vector<Step>& steps, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    Step& step = steps[i];
    if (step.custom) {
      s.wait();
      step.custom();
    } else {
      step.prim.execute(s, step.args);
    }
  }
  s.wait();
}

} // namespace

struct TrainState {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::map<ShapeKey, Plan> plans;
  Plan* last = nullptr; // the plan of the last forward (what backward differentiates)
  Shape lastIn, lastOut;
};

TrainableNetwork::Impl::Impl(NetworkSpec s)
    : spec(s), oracle(std::move(s)), dnnl(makeTrainState()) {
}
TrainableNetwork::Impl::~Impl() = default;

std::unique_ptr<TrainState> makeTrainState() {
  return std::make_unique<TrainState>();
}
size_t trainCachedShapes(const TrainState& state) {
  return state.plans.size();
}

namespace {

class PlanBuilder {
public:
  PlanBuilder(TrainableNetwork::Impl& net, TrainState& st) : net_(net), st_(st) {}

  Plan build(const Shape& in, const Shape& outShape) {
    Plan p;
    int64_t n = in.n, c = in.c, h = in.h, w = in.w;
    p.input = owned({{n, c, h, w}, dt::f32, tag::nchw});
    p.dIn = owned(p.input.get_desc());
    memory F = p.input, G = p.dIn;
    // Backward steps are built per layer in forward order and run in reverse.
    std::vector<std::vector<Step>> bwdUnits;
    size_t firstWeightUnit = SIZE_MAX;
    const auto& layers = net_.spec.layers;
    for (size_t i = 0; i < layers.size(); ++i) {
      const Layer& l = layers[i];
      std::vector<Step> bwd;
      const Layer* act = nullptr;
      if (!isActivation(l.kind) && i + 1 < layers.size() && isActivation(layers[i + 1].kind))
        act = &layers[i + 1];
      memory Fn, Gn;
      if (l.kind == LayerKind::Conv2d || l.kind == LayerKind::Dense) {
        if (firstWeightUnit == SIZE_MAX)
          firstWeightUnit = bwdUnits.size();
        weightLayer(p, i, {n, c, h, w}, act, F, G, Fn, Gn, bwd);
        if (l.kind == LayerKind::Conv2d) {
          Shape o = convOut(l, h, w);
          h = o.h, w = o.w;
        } else {
          h = w = 1;
        }
        c = l.out;
      } else { // a standalone activation (one that does not follow a weight layer)
        activation(p.fwd, l, F, G, Fn, Gn, bwd);
      }
      bwdUnits.push_back(std::move(bwd));
      F = Fn, G = Gn;
      if (act)
        ++i;
    }
    // Output: F in plain layout; the cotangent enters G from plain.
    memory::desc plainOut({outShape.n, outShape.c, outShape.h, outShape.w}, dt::f32, tag::nchw);
    p.output = owned(plainOut);
    p.fwd.push_back(reorderStep(F, p.output));
    p.dOut = owned(plainOut);
    p.bwd.push_back(reorderStep(p.dOut, G));
    // Units before the first weight layer, and that layer's data gradient, only serve dIn.
    p.bwdInputOnly = p.bwd.size();
    for (size_t u = bwdUnits.size(); u-- > 0;) {
      if (u == firstWeightUnit)
        p.bwdInputOnly = p.bwd.size() + dataStart_[u];
      for (Step& s : bwdUnits[u])
        p.bwd.push_back(std::move(s));
    }
    return p;
  }

private:
  memory owned(const memory::desc& d) { return memory(d, st_.engine); }

  static Step reorderStep(const memory& from, const memory& to) {
    return Step{dnnl::reorder(from, to), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, {}};
  }
  // `m` in layout `want`, adding a reorder to `steps` when it differs.
  memory toLayout(std::vector<Step>& steps, const memory& m, const memory::desc& want) {
    if (m.get_desc() == want)
      return m;
    memory out = owned(want);
    steps.push_back(reorderStep(m, out));
    return out;
  }
  memory view(const memory& m, const memory::desc& d) {
    return memory(d, st_.engine, m.get_data_handle());
  }

  static Shape convOut(const Layer& l, int64_t h, int64_t w) {
    int64_t ext = l.dilation * (l.kernel - 1) + 1;
    if (l.padding == Padding::Valid)
      return Shape{1, 1, (h - ext) / l.stride + 1, (w - ext) / l.stride + 1};
    return Shape{1, 1, (h + l.stride - 1) / l.stride, (w + l.stride - 1) / l.stride};
  }

  // Padding amounts (top, left, bottom, right) of a 'same' or replicate convolution, as
  // onednn_exec.cpp computes them; zero for 'valid'.
  struct Pads {
    int64_t top = 0, left = 0, bottom = 0, right = 0;
  };
  static Pads convPadding(const Layer& l, int64_t h, int64_t w, const Shape& o) {
    Pads pads;
    if (l.padding != Padding::Valid) {
      int64_t ext = l.dilation * (l.kernel - 1) + 1;
      int64_t th = std::max<int64_t>((o.h - 1) * l.stride + ext - h, 0);
      int64_t tw = std::max<int64_t>((o.w - 1) * l.stride + ext - w, 0);
      pads.top = th / 2, pads.bottom = th - pads.top, pads.left = tw / 2,
      pads.right = tw - pads.left;
    }
    return pads;
  }

  // Layer i's weights and bias as the forward primitive reads them: the user's OIHW weights
  // reordered into the primitive's layout wm each run, the bias bound in place (zeros without one).
  void bindWeights(Plan& p, size_t i, const memory::dims& wdims, const memory::desc& fW,
                   const memory::desc& bDesc, memory& wm, memory& bm) {
    memory userW(memory::desc(wdims, dt::f32, tag::oihw), st_.engine, DNNL_MEMORY_NONE);
    p.userWeights.push_back({userW, net_.weight[i]});
    wm = owned(fW);
    p.fwd.push_back(reorderStep(userW, wm));
    if (net_.bias[i]) {
      bm = memory(bDesc, st_.engine, DNNL_MEMORY_NONE);
      p.userWeights.push_back({bm, net_.bias[i]});
    } else {
      bm = owned(bDesc);
      std::memset(bm.get_data_handle(), 0, bDesc.get_size());
    }
  }

  // Forward and backward of a convolution or dense layer with an optional fused activation.
  void weightLayer(Plan& p, size_t i, const memory::dims& d, const Layer* act, const memory& F,
                   const memory& G, memory& Fn, memory& Gn, std::vector<Step>& bwd) {
    const Layer& l = net_.spec.layers[i];
    int64_t n = d[0], c = d[1], h = d[2], w = d[3];
    dnnl::primitive_attr attr;
    std::optional<Eltwise> ew;
    if (act) {
      ew = eltwiseOf(*act);
      dnnl::post_ops po;
      po.append_eltwise(1.0f, ew->fwd, ew->alpha, 0.0f);
      attr.set_post_ops(po);
    }
    bool conv = l.kind == LayerKind::Conv2d;
    int64_t sh = h, sw = w;
    Shape o = conv ? convOut(l, h, w) : Shape{1, 1, 1, 1};
    bool replicate = conv && l.padding == Padding::Replicate;
    auto [ph, pw, phr, pwr] = conv ? convPadding(l, h, w, o) : Pads{};
    memory src = F;
    memory::desc plainIn({n, c, h, w}, dt::f32, tag::nchw);
    memory plainSrc, padded;
    int64_t top = ph, left = pw;
    if (replicate) {
      // oneDNN pads with zeros only: pad explicitly in plain layout, then convolve 'valid'.
      plainSrc = toLayout(p.fwd, F, plainIn);
      sh = h + ph + phr, sw = w + pw + pwr;
      padded = owned({{n, c, sh, sw}, dt::f32, tag::nchw});
      p.fwd.push_back(Step{{}, {}, replicatePad(plainSrc, padded, n * c, h, w, sh, sw, top, left)});
      src = padded;
      ph = phr = pw = pwr = 0;
    }
    memory::dims wdims =
        conv ? memory::dims{l.out, l.in, l.kernel, l.kernel} : memory::dims{l.out, c, h, w};
    memory::desc srcAny({n, c, sh, sw}, dt::f32, tag::any);
    memory::desc wAny(wdims, dt::f32, tag::any);
    memory::desc bDesc({l.out}, dt::f32, tag::x);
    memory::desc dstAny = conv ? memory::desc({n, l.out, o.h, o.w}, dt::f32, tag::any)
                               : memory::desc({n, l.out}, dt::f32, tag::nc);
    memory::dims strides = {l.stride, l.stride}, dil = {l.dilation - 1, l.dilation - 1};
    memory::dims padL = {ph, pw}, padR = {phr, pwr};
    const auto fwdProp = dnnl::prop_kind::forward_training;
    const auto direct = dnnl::algorithm::convolution_direct;

    // The forward primitive and the descriptors its backward twins are hinted with.
    memory::desc fSrc, fW, fDst;
    dnnl::primitive fprim;
    dnnl::convolution_forward::primitive_desc cpd;
    dnnl::inner_product_forward::primitive_desc ipd;
    if (conv) {
      cpd = dnnl::convolution_forward::primitive_desc(
          dnnl::convolution_forward::desc(fwdProp, direct, srcAny, wAny, bDesc, dstAny, strides,
                                          dil, padL, padR),
          attr, st_.engine);
      fSrc = cpd.src_desc(), fW = cpd.weights_desc(), fDst = cpd.dst_desc();
      fprim = dnnl::convolution_forward(cpd);
    } else {
      ipd = dnnl::inner_product_forward::primitive_desc(
          dnnl::inner_product_forward::desc(fwdProp, srcAny, wAny, bDesc, dstAny), attr,
          st_.engine);
      fSrc = ipd.src_desc(), fW = ipd.weights_desc(), fDst = ipd.dst_desc();
      fprim = dnnl::inner_product_forward(ipd);
    }
    memory s = toLayout(p.fwd, src, fSrc);
    memory wm, bm;
    bindWeights(p, i, wdims, fW, bDesc, wm, bm);
    memory dst = owned(fDst);
    p.fwd.push_back(
        {fprim,
         {{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, dst}},
         {}});
    // Downstream layers see 4-D data: a dense output N×F is the same storage as N×F×1×1.
    memory::desc next = conv ? fDst : fDst.reshape({n, l.out, 1, 1});
    Fn = conv ? dst : view(dst, next);
    Gn = owned(next);

    // Backward: activation, weights (with bias), then data.
    if (ew) {
      dnnl::eltwise_forward::primitive_desc hint(
          dnnl::eltwise_forward::desc(fwdProp, ew->bwd, next, ew->alpha, 0.0f), st_.engine);
      dnnl::eltwise_backward::primitive_desc epd(
          dnnl::eltwise_backward::desc(ew->bwd, next, next, ew->alpha, 0.0f), st_.engine, hint);
      bwd.push_back({dnnl::eltwise_backward(epd),
                     {{DNNL_ARG_DIFF_DST, Gn}, {DNNL_ARG_DST, Fn}, {DNNL_ARG_DIFF_SRC, Gn}},
                     {}});
    }
    memory gDst = conv ? Gn : view(Gn, fDst);
    memory::desc dstBwd = conv ? memory::desc({n, l.out, o.h, o.w}, dt::f32, tag::any) : fDst;
    memory::desc bwSrc, bwDiffW, bwDiffDst, bdDiffSrc, bdW, bdDiffDst;
    dnnl::primitive bwPrim, bdPrim;
    if (conv) {
      dnnl::convolution_backward_weights::primitive_desc bw(
          dnnl::convolution_backward_weights::desc(direct, srcAny, wAny, bDesc, dstBwd, strides,
                                                   dil, padL, padR),
          st_.engine, cpd);
      dnnl::convolution_backward_data::primitive_desc bd(
          dnnl::convolution_backward_data::desc(direct, srcAny, wAny, dstBwd, strides, dil, padL,
                                                padR),
          st_.engine, cpd);
      bwSrc = bw.src_desc(), bwDiffW = bw.diff_weights_desc(), bwDiffDst = bw.diff_dst_desc();
      bdDiffSrc = bd.diff_src_desc(), bdW = bd.weights_desc(), bdDiffDst = bd.diff_dst_desc();
      bwPrim = dnnl::convolution_backward_weights(bw);
      bdPrim = dnnl::convolution_backward_data(bd);
    } else {
      dnnl::inner_product_backward_weights::primitive_desc bw(
          dnnl::inner_product_backward_weights::desc(srcAny, wAny, bDesc, dstBwd), st_.engine, ipd);
      dnnl::inner_product_backward_data::primitive_desc bd(
          dnnl::inner_product_backward_data::desc(srcAny, wAny, dstBwd), st_.engine, ipd);
      bwSrc = bw.src_desc(), bwDiffW = bw.diff_weights_desc(), bwDiffDst = bw.diff_dst_desc();
      bdDiffSrc = bd.diff_src_desc(), bdW = bd.weights_desc(), bdDiffDst = bd.diff_dst_desc();
      bwPrim = dnnl::inner_product_backward_weights(bw);
      bdPrim = dnnl::inner_product_backward_data(bd);
    }
    memory dw = owned(bwDiffW), db = owned(bDesc);
    bwd.push_back({bwPrim,
                   {{DNNL_ARG_SRC, toLayout(bwd, s, bwSrc)},
                    {DNNL_ARG_DIFF_DST, toLayout(bwd, gDst, bwDiffDst)},
                    {DNNL_ARG_DIFF_WEIGHTS, dw},
                    {DNNL_ARG_DIFF_BIAS, db}},
                   {}});
    p.grads.push_back({toLayout(bwd, dw, memory::desc(wdims, dt::f32, tag::oihw)), net_.weight[i]});
    if (net_.bias[i])
      p.grads.push_back({db, net_.bias[i]});

    dataStart_.push_back(bwd.size());
    // Write straight into G when the primitive's layout is already G's.
    memory dsrc = !replicate && bdDiffSrc == G.get_desc() ? G : owned(bdDiffSrc);
    bwd.push_back({bdPrim,
                   {{DNNL_ARG_DIFF_DST, toLayout(bwd, gDst, bdDiffDst)},
                    {DNNL_ARG_WEIGHTS, toLayout(bwd, wm, bdW)},
                    {DNNL_ARG_DIFF_SRC, dsrc}},
                   {}});
    if (replicate) {
      memory dpad = toLayout(bwd, dsrc, padded.get_desc());
      memory dplain = owned(plainIn);
      bwd.push_back(Step{{}, {}, replicateFold(dpad, dplain, n * c, h, w, sh, sw, top, left)});
      dsrc = dplain;
    }
    if (dsrc.get() != G.get())
      bwd.push_back(reorderStep(dsrc, G));
  }

  void activation(std::vector<Step>& fwd, const Layer& l, const memory& F, const memory& G,
                  memory& Fn, memory& Gn, std::vector<Step>& bwd) {
    Eltwise ew = eltwiseOf(l);
    memory::desc d = F.get_desc();
    dnnl::eltwise_forward::primitive_desc fpd(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, ew.bwd, d, ew.alpha, 0.0f),
        st_.engine);
    Fn = owned(d);
    Gn = owned(d);
    fwd.push_back({dnnl::eltwise_forward(fpd), {{DNNL_ARG_SRC, F}, {DNNL_ARG_DST, Fn}}, {}});
    dnnl::eltwise_backward::primitive_desc bpd(
        dnnl::eltwise_backward::desc(ew.bwd, d, d, ew.alpha, 0.0f), st_.engine, fpd);
    dataStart_.push_back(0);
    bwd.push_back({dnnl::eltwise_backward(bpd),
                   {{DNNL_ARG_DIFF_DST, Gn}, {DNNL_ARG_DST, Fn}, {DNNL_ARG_DIFF_SRC, G}},
                   {}});
  }

  // Replicate padding of `planes` h×w planes into sh×sw planes (image at top, left).
  static std::function<void()> replicatePad(memory from, memory to, int64_t planes, int64_t h,
                                            int64_t w, int64_t sh, int64_t sw, int64_t top,
                                            int64_t left) {
    return [=]() {
      const float* src = static_cast<const float*>(from.get_data_handle());
      float* dst = static_cast<float*>(to.get_data_handle());
      for (int64_t q = 0; q < planes; ++q)
        for (int64_t y = 0; y < sh; ++y) {
          const float* row = src + (q * h + std::clamp<int64_t>(y - top, 0, h - 1)) * w;
          float* out = dst + (q * sh + y) * sw;
          for (int64_t x = 0; x < sw; ++x)
            out[x] = row[std::clamp<int64_t>(x - left, 0, w - 1)];
        }
    };
  }
  // The adjoint: every padded pixel's gradient goes back to the pixel it replicated.
  static std::function<void()> replicateFold(memory from, memory to, int64_t planes, int64_t h,
                                             int64_t w, int64_t sh, int64_t sw, int64_t top,
                                             int64_t left) {
    return [=]() {
      const float* src = static_cast<const float*>(from.get_data_handle());
      float* dst = static_cast<float*>(to.get_data_handle());
      std::fill(dst, dst + planes * h * w, 0.0f);
      for (int64_t q = 0; q < planes; ++q)
        for (int64_t y = 0; y < sh; ++y) {
          float* row = dst + (q * h + std::clamp<int64_t>(y - top, 0, h - 1)) * w;
          const float* in = src + (q * sh + y) * sw;
          for (int64_t x = 0; x < sw; ++x)
            row[std::clamp<int64_t>(x - left, 0, w - 1)] += in[x];
        }
    };
  }

  TrainableNetwork::Impl& net_;
  TrainState& st_;
  std::vector<size_t> dataStart_; // per unit: index of its first data-gradient step
};

} // namespace

void trainForward(TrainableNetwork::Impl& net, const Tensor& in, Tensor& out,
                  const Shape& outShape) {
  TrainState& st = *net.dnnl;
  const Shape& s = in.shape();
  ShapeKey key{s.n, s.c, s.h, s.w};
  auto it = st.plans.find(key);
  if (it == st.plans.end()) {
    try {
      it = st.plans.emplace(key, PlanBuilder(net, st).build(s, outShape)).first;
    } catch (const dnnl::error& e) {
      throw WeightsError(std::string("network: oneDNN could not build the training primitives "
                                     "for input ") +
                         s.str() + ": " + e.what());
    }
  }
  Plan& p = it->second;
  for (auto& [m, param] : p.userWeights)
    m.set_data_handle(param->value.data());
  std::memcpy(p.input.get_data_handle(), in.data(), in.bytes());
  run(st.stream, p.fwd, 0, p.fwd.size());
  const float* y = static_cast<const float*>(p.output.get_data_handle());
  float* o = out.data();
  int64_t count = out.numel();
  if (net.spec.residual) {
    const float* x = in.data();
    for (int64_t k = 0; k < count; ++k)
      o[k] = x[k] - y[k];
  } else {
    std::memcpy(o, y, out.bytes());
  }
  st.last = &p;
  st.lastIn = s;
  st.lastOut = outShape;
}

void trainBackward(TrainableNetwork::Impl& net, const Tensor& dOut, Tensor* dIn) {
  TrainState& st = *net.dnnl;
  if (!st.last)
    throw WeightsError("network: backward without a preceding forward");
  if (dOut.empty() || dOut.dtype() != DType::F32 || !(dOut.shape() == st.lastOut))
    throw WeightsError("network: backward needs a gradient of the output's shape " +
                       st.lastOut.str() + ", got " +
                       (dOut.empty() ? std::string("none") : dOut.shape().str()));
  Plan& p = *st.last;
  float* g = static_cast<float*>(p.dOut.get_data_handle());
  const float* d = dOut.data();
  int64_t count = dOut.numel();
  // A residual output x − net(x) sends −dOut into the network and dOut straight to x.
  float sign = net.spec.residual ? -1.0f : 1.0f;
  for (int64_t k = 0; k < count; ++k)
    g[k] = sign * d[k];
  run(st.stream, p.bwd, 0, dIn ? p.bwd.size() : p.bwdInputOnly);
  for (GradSink& s : p.grads) {
    const float* src = static_cast<const float*>(s.plain.get_data_handle());
    float* dst = s.param->grad.data();
    for (int64_t k = 0; k < s.param->grad.numel(); ++k)
      dst[k] += src[k];
  }
  if (!dIn)
    return;
  if (dIn->empty() || dIn->dtype() != DType::F32 || !(dIn->shape() == st.lastIn))
    *dIn = Tensor(st.lastIn);
  const float* gi = static_cast<const float*>(p.dIn.get_data_handle());
  float* di = dIn->data();
  for (int64_t k = 0; k < dIn->numel(); ++k)
    di[k] = net.spec.residual ? d[k] + gi[k] : gi[k];
}

} // namespace podm::nn
