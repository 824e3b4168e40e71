// Network execution on the CPU with oneDNN. Per input shape, a plan is built once and cached:
// convolutions and dense layers with format_tag::any (oneDNN picks blocked layouts such as
// nChw16c, which then flow from layer to layer without reorders), the activation after a
// convolution fused as an eltwise post-op, weights reordered into the primitive's layout once at
// plan time, and reorders only where the user's NCHW input enters and the output leaves.
// Intermediate activations live in two buffers shared by every network of the process (see
// SharedActivations), so a schedule of 25 denoisers costs two activation buffers, not fifty.
#include "numerics/scratch.h"
#include "stdlib/nn/network_impl.h"

#include <algorithm>
#include <cstdlib>
#include <dnnl.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <new>
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
  std::function<void()> custom; // a host loop instead of a primitive (replicate padding)

  Step() = default;
  Step(dnnl::primitive p, std::unordered_map<int, memory> a)
      : prim(std::move(p)), args(std::move(a)) {}
};

struct Plan {
  memory userIn, userOut;
  std::vector<Step> steps;
  // Every intermediate memory with the slot (0 or 1) of the two activation buffers it alternates
  // between (see PlanBuilder::fresh), the bytes each slot needs, and the storage bound last.
  std::vector<std::pair<memory, int>> slotted;
  size_t slotBytes[2] = {0, 0};
  void* boundTo[2] = {nullptr, nullptr};
};

// The two activation buffers, shared by all networks. A run switches networks stage by stage (the
// PODM authors' schedule uses 25 denoisers over 30 stages); buffers owned per network and shape
// made peak memory grow by two 64-channel planes per distinct network, and every first use of a
// network paid the page faults of fresh buffers. Networks run one at a time on the buffers (the
// lock), and oneDNN threads each primitive across the cores anyway.
class SharedActivations {
public:
  static SharedActivations& instance() {
    static SharedActivations arena;
    return arena;
  }
  std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mutex_); }
  size_t bytes() {
    std::lock_guard<std::mutex> hold(mutex_);
    return bytes_[0] + bytes_[1];
  }
  // Slot `k` with at least `bytes`; grows (never shrinks) under the lock. Throws std::bad_alloc.
  void* slot(int k, size_t bytes) {
    if (bytes > bytes_[k]) {
      buffers_[k].reset(numerics::allocateBuffer((bytes + 63) / 64 * 64, 64));
      bytes_[k] = bytes;
    }
    return buffers_[k].get();
  }

private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::mutex mutex_;
  std::unique_ptr<void, Free> buffers_[2];
  size_t bytes_[2] = {0, 0};
};

using ShapeKey = std::tuple<int64_t, int64_t, int64_t, int64_t>;

bool isActivation(LayerKind k) {
  return k == LayerKind::ReLU || k == LayerKind::ELU || k == LayerKind::LeakyReLU;
}

// oneDNN's eltwise algorithm and alpha for an activation layer.
std::pair<dnnl::algorithm, float> eltwiseOf(const Layer& l) {
  switch (l.kind) {
  case LayerKind::ELU:
    return {dnnl::algorithm::eltwise_elu, l.alpha};
  case LayerKind::LeakyReLU:
    return {dnnl::algorithm::eltwise_relu, l.alpha};
  default:
    return {dnnl::algorithm::eltwise_relu, 0.0f};
  }
}

} // namespace

struct DnnlState {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::map<ShapeKey, Plan> plans;
};

Network::Impl::Impl() : dnnl(makeDnnlState()) {
}
Network::Impl::~Impl() = default;

std::unique_ptr<DnnlState> makeDnnlState() {
  return std::make_unique<DnnlState>();
}
size_t dnnlSharedActivationBytes() {
  return SharedActivations::instance().bytes();
}

bool dnnlHasBf16() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

void dnnlClear(DnnlState& state) {
  state.plans.clear();
}
size_t dnnlCachedShapes(const DnnlState& state) {
  return state.plans.size();
}

namespace {

class PlanBuilder {
public:
  PlanBuilder(Network::Impl& net, DnnlState& st) : net_(net), st_(st) {}

  Plan build(const Shape& in, const Shape& outShape) {
    Plan p;
    const memory::dims inDims = {in.n, in.c, in.h, in.w};
    p.userIn = memory({inDims, dt::f32, tag::nchw}, st_.engine, DNNL_MEMORY_NONE);
    memory cur = p.userIn;
    bool curIsInput = true;
    int64_t c = in.c, h = in.h, w = in.w, n = in.n;
    bool flat = false; // after a dense layer the data is a 2-D N×F memory
    const auto& layers = net_.spec.layers;
    for (size_t i = 0; i < layers.size(); ++i) {
      const Layer& l = layers[i];
      if (flat && l.kind != LayerKind::Dense && !isActivation(l.kind)) {
        cur = reshaped(cur, {n, c, 1, 1});
        flat = false;
      }
      // The activation (after an optional folded batch norm) that this layer can absorb.
      size_t next = i + 1;
      if (next < layers.size() && layers[next].kind == LayerKind::BatchNorm)
        ++next;
      const Layer* fused = nullptr;
      if ((l.kind == LayerKind::Conv2d || l.kind == LayerKind::Dense) && next < layers.size() &&
          isActivation(layers[next].kind))
        fused = &layers[next];
      dnnl::primitive_attr attr;
      if (fused) {
        dnnl::post_ops po;
        auto [alg, alpha] = eltwiseOf(*fused);
        po.append_eltwise(1.0f, alg, alpha, 0.0f);
        attr.set_post_ops(po);
      }
      switch (l.kind) {
      case LayerKind::Conv2d:
        cur = convolution(p, i, attr, cur, n, c, h, w);
        break;
      case LayerKind::Dense: {
        memory::desc srcAny = flat ? memory::desc({n, c}, dt::f32, tag::any)
                                   : memory::desc({n, c, h, w}, dt::f32, tag::any);
        memory::desc wts = flat ? memory::desc({l.out, c}, dt::f32, tag::any)
                                : memory::desc({l.out, c, h, w}, dt::f32, tag::any);
        memory::desc bias({l.out}, dt::f32, tag::x);
        memory::desc dst({n, l.out}, dt::f32, tag::nc);
        dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_inference, srcAny, wts, bias,
                                            dst);
        dnnl::inner_product_forward::primitive_desc pd(d, attr, st_.engine);
        memory s = toLayout(p, cur, pd.src_desc());
        memory wm =
            flat ? weights(net_.params[i].weight, {l.out, c}, tag::oi, pd.weights_desc())
                 : weights(net_.params[i].weight, {l.out, c, h, w}, tag::oihw, pd.weights_desc());
        memory bm = weights(net_.params[i].bias, {l.out}, tag::x, pd.bias_desc());
        memory out = fresh(pd.dst_desc());
        p.steps.push_back({dnnl::inner_product_forward(pd),
                           {{DNNL_ARG_SRC, s},
                            {DNNL_ARG_WEIGHTS, wm},
                            {DNNL_ARG_BIAS, bm},
                            {DNNL_ARG_DST, out}}});
        cur = out;
        c = l.out, h = w = 1;
        flat = true;
        break;
      }
      case LayerKind::ReLU:
      case LayerKind::ELU:
      case LayerKind::LeakyReLU: {
        auto [alg, alpha] = eltwiseOf(l);
        dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, cur.get_desc(),
                                      alpha, 0.0f);
        dnnl::eltwise_forward::primitive_desc pd(d, st_.engine);
        // In place, except on the caller's input, which must not change.
        memory out = curIsInput ? fresh(pd.dst_desc()) : cur;
        p.steps.push_back({dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, cur}, {DNNL_ARG_DST, out}}});
        cur = out;
        break;
      }
      case LayerKind::BatchNorm:
        break; // folded into the convolution before it at bind time
      case LayerKind::Upsample: {
        memory::desc dst({n, c, h * l.factor, w * l.factor}, dt::f32, tag::any);
        dnnl::resampling_forward::desc d(dnnl::prop_kind::forward_inference,
                                         dnnl::algorithm::resampling_nearest, cur.get_desc(), dst);
        dnnl::resampling_forward::primitive_desc pd(d, st_.engine);
        memory out = fresh(pd.dst_desc());
        p.steps.push_back(
            {dnnl::resampling_forward(pd), {{DNNL_ARG_SRC, cur}, {DNNL_ARG_DST, out}}});
        cur = out;
        h *= l.factor, w *= l.factor;
        break;
      }
      case LayerKind::ConcatInput: {
        std::vector<memory::desc> srcs = {cur.get_desc(), p.userIn.get_desc()};
        dnnl::concat::primitive_desc pd(1, srcs, st_.engine);
        memory out = fresh(pd.dst_desc());
        p.steps.push_back({dnnl::concat(pd),
                           {{DNNL_ARG_MULTIPLE_SRC, cur},
                            {DNNL_ARG_MULTIPLE_SRC + 1, p.userIn},
                            {DNNL_ARG_DST, out}}});
        cur = out;
        c = l.out;
        break;
      }
      }
      if (fused)
        i = next; // the absorbed activation (and batch norm) need no step of their own
      if (l.kind != LayerKind::BatchNorm)
        curIsInput = false; // every other layer wrote a buffer of its own
    }
    bindOutput(p, cur, curIsInput, flat, outShape);
    p.slotted = std::move(slotted_);
    p.slotBytes[0] = slotBytes_[0], p.slotBytes[1] = slotBytes_[1];
    return p;
  }

private:
  // A convolution step (with the activation in attr fused) reading cur, of n x c x h x w; c, h
  // and w become the output's. Returns the output memory.
  memory convolution(Plan& p, size_t i, const dnnl::primitive_attr& attr, const memory& cur,
                     int64_t n, int64_t& c, int64_t& h, int64_t& w) {
    const Layer& l = net_.spec.layers[i];
    int64_t ext = l.dilation * (l.kernel - 1) + 1;
    int64_t oh, ow, ph = 0, pw = 0, phr = 0, pwr = 0;
    if (l.padding != Padding::Valid) {
      oh = (h + l.stride - 1) / l.stride;
      ow = (w + l.stride - 1) / l.stride;
      int64_t th = std::max<int64_t>((oh - 1) * l.stride + ext - h, 0);
      int64_t tw = std::max<int64_t>((ow - 1) * l.stride + ext - w, 0);
      ph = th / 2, phr = th - ph, pw = tw / 2, pwr = tw - pw;
    } else {
      oh = (h - ext) / l.stride + 1;
      ow = (w - ext) / l.stride + 1;
    }
    int64_t sh = h, sw = w; // the source extent the primitive sees
    memory source = cur;
    if (l.padding == Padding::Replicate) {
      // oneDNN pads with zeros only: pad explicitly in plain layout, then convolve 'valid'.
      source = replicatePad(p, cur, {n, c, h, w}, ph, phr, pw, pwr);
      sh = h + ph + phr, sw = w + pw + pwr;
      ph = phr = pw = pwr = 0;
    }
    // In bf16 the reorders into the primitive's layouts also convert: the input once where it
    // enters, the weights once at plan time, the output where it leaves (bindOutput).
    // Only the wide layers: the first and last convolution of a denoiser (1 channel in or out) cost
    // little and stay f32, which keeps the network's output (a residual, the noise estimate)
    // closer to f32's.
    const bool wide = l.in >= 16 && l.out >= 16;
    const dt type = net_.precision == Precision::BF16 && wide ? dt::bf16 : dt::f32;
    memory::desc src({n, c, sh, sw}, type, tag::any);
    memory::desc wts({l.out, l.in, l.kernel, l.kernel}, type, tag::any);
    memory::desc bias({l.out}, dt::f32, tag::x);
    memory::desc dst({n, l.out, oh, ow}, type, tag::any);
    dnnl::convolution_forward::desc d(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, wts, bias,
        dst, {l.stride, l.stride}, {l.dilation - 1, l.dilation - 1}, {ph, pw}, {phr, pwr});
    dnnl::convolution_forward::primitive_desc pd(d, attr, st_.engine);
    memory s = toLayout(p, source, pd.src_desc());
    memory wm = weights(net_.params[i].weight, {l.out, l.in, l.kernel, l.kernel}, tag::oihw,
                        pd.weights_desc());
    memory bm = weights(net_.params[i].bias, {l.out}, tag::x, pd.bias_desc());
    memory out = fresh(pd.dst_desc());
    p.steps.push_back(
        {dnnl::convolution_forward(pd),
         {{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, out}}});
    c = l.out, h = oh, w = ow;
    return out;
  }

  // The caller's output buffer as the plan's last write: the last primitive writes straight into
  // it when its layout is already plain (the usual case: a 1-channel output), else a reorder
  // copies cur there.
  void bindOutput(Plan& p, const memory& cur, bool curIsInput, bool flat, const Shape& outShape) {
    memory::desc outDesc =
        flat ? memory::desc({outShape.n, outShape.c}, dt::f32, tag::nc)
             : memory::desc({outShape.n, outShape.c, outShape.h, outShape.w}, dt::f32, tag::nchw);
    p.userOut = memory(outDesc, st_.engine, DNNL_MEMORY_NONE);
    bool direct = false;
    if (!p.steps.empty() && !curIsInput) {
      auto& args = p.steps.back().args;
      auto dstIt = args.find(DNNL_ARG_DST);
      auto srcIt = args.find(DNNL_ARG_SRC);
      bool inPlace =
          srcIt != args.end() && dstIt != args.end() && srcIt->second.get() == dstIt->second.get();
      if (dstIt != args.end() && !inPlace && dstIt->second.get_desc() == outDesc) {
        dstIt->second = p.userOut;
        direct = true;
      }
    }
    if (!direct)
      p.steps.push_back(
          {dnnl::reorder(cur, p.userOut), {{DNNL_ARG_FROM, cur}, {DNNL_ARG_TO, p.userOut}}});
  }

  // A new intermediate memory. Each step reads only the most recent intermediate (or the
  // caller's input), so consecutive intermediates alternate between two buffers and a deep
  // network needs two activation buffers, not one per layer. Storage is bound after planning.
  memory fresh(const memory::desc& d) {
    lastSlot_ = 1 - lastSlot_;
    memory m(d, st_.engine, DNNL_MEMORY_NONE);
    slotted_.push_back({m, lastSlot_});
    slotBytes_[lastSlot_] = std::max(slotBytes_[lastSlot_], d.get_size());
    return m;
  }
  // The same storage seen with other dimensions (dense output N×F as N×F×1×1).
  memory reshaped(const memory& m, const memory::dims& dims) {
    memory r(m.get_desc().reshape(dims), st_.engine, DNNL_MEMORY_NONE);
    slotted_.push_back({r, lastSlot_});
    return r;
  }

  // `m` in layout `want`, adding a reorder step when it differs.
  memory toLayout(Plan& p, const memory& m, const memory::desc& want) {
    if (m.get_desc() == want)
      return m;
    memory out = fresh(want);
    p.steps.push_back({dnnl::reorder(m, out), {{DNNL_ARG_FROM, m}, {DNNL_ARG_TO, out}}});
    return out;
  }

  // `m` copied into a plain NCHW buffer grown by the given border, filled by replicating the
  // nearest pixel (a host loop run between primitives).
  memory replicatePad(Plan& p, const memory& m, const memory::dims& d, int64_t top, int64_t bottom,
                      int64_t left, int64_t right) {
    memory plain = toLayout(p, m, memory::desc(d, dt::f32, tag::nchw));
    int64_t planes = d[0] * d[1], h = d[2], w = d[3];
    int64_t ph = h + top + bottom, pw = w + left + right;
    memory padded = fresh({{d[0], d[1], ph, pw}, dt::f32, tag::nchw});
    Step step;
    step.custom = [plain, padded, planes, h, w, ph, pw, top, left]() {
      const float* src = static_cast<const float*>(plain.get_data_handle());
      float* dst = static_cast<float*>(padded.get_data_handle());
      for (int64_t q = 0; q < planes; ++q)
        for (int64_t y = 0; y < ph; ++y) {
          const float* row = src + (q * h + std::clamp<int64_t>(y - top, 0, h - 1)) * w;
          float* out = dst + (q * ph + y) * pw;
          for (int64_t x = 0; x < pw; ++x)
            out[x] = row[std::clamp<int64_t>(x - left, 0, w - 1)];
        }
    };
    p.steps.push_back(std::move(step));
    return padded;
  }

  // Host weights (plain layout `from`) reordered now into the primitive's layout `want`.
  memory weights(std::vector<float>& host, const memory::dims& dims, tag from,
                 const memory::desc& want) {
    memory user({dims, dt::f32, from}, st_.engine, host.data());
    memory out(want, st_.engine);
    dnnl::reorder(user, out).execute(st_.stream, user, out);
    st_.stream.wait();
    return out;
  }

  Network::Impl& net_;
  DnnlState& st_;
  std::vector<std::pair<memory, int>> slotted_;
  size_t slotBytes_[2] = {0, 0};
  int lastSlot_ = 1;
};

} // namespace

namespace {

Plan& planFor(Network::Impl& net, const Shape& s, const Shape& outShape) {
  DnnlState& st = *net.dnnl;
  ShapeKey key{s.n, s.c, s.h, s.w};
  auto it = st.plans.find(key);
  if (it == st.plans.end()) {
    try {
      it = st.plans.emplace(key, PlanBuilder(net, st).build(s, outShape)).first;
    } catch (const dnnl::error& e) {
      throw WeightsError(std::string("network: oneDNN could not build the primitives for input ") +
                         s.str() + ": " + e.what());
    }
  }
  return it->second;
}

} // namespace

void dnnlPrepare(Network::Impl& net, const Shape& in, const Shape& outShape) {
  planFor(net, in, outShape);
}

void dnnlForward(Network::Impl& net, const Tensor& in, Tensor& out, const Shape& outShape) {
  DnnlState& st = *net.dnnl;
  const Shape& s = in.shape();
  Plan& p = planFor(net, s, outShape);
  SharedActivations& arena = SharedActivations::instance();
  std::unique_lock<std::mutex> lock = arena.lock();
  void* slots[2];
  try {
    for (int k = 0; k < 2; ++k)
      slots[k] = p.slotBytes[k] ? arena.slot(k, p.slotBytes[k]) : nullptr;
  } catch (const std::bad_alloc&) {
    throw WeightsError("network: out of memory for activations of input " + s.str());
  }
  if (slots[0] != p.boundTo[0] || slots[1] != p.boundTo[1]) {
    for (auto& [m, slot] : p.slotted)
      m.set_data_handle(slots[slot]);
    p.boundTo[0] = slots[0], p.boundTo[1] = slots[1];
  }
  p.userIn.set_data_handle(const_cast<float*>(in.data()));
  p.userOut.set_data_handle(out.data());
  for (Step& step : p.steps) {
    if (step.custom) {
      st.stream.wait();
      step.custom();
    } else {
      step.prim.execute(st.stream, step.args);
    }
  }
  st.stream.wait();
  if (net.spec.residual) {
    // x − net(x): one pass over the (small, usually 1-channel) output.
    const float* x = in.data();
    float* y = out.data();
    int64_t count = out.numel();
    for (int64_t k = 0; k < count; ++k)
      y[k] = x[k] - y[k];
  }
}

} // namespace podm::nn
