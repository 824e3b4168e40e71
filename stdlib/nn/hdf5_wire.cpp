// The reader process's result stream (see hdf5_wire.h): little helpers to write and read
// fixed-width values, and the encodings of Keras models and dataset listings.
#include "stdlib/nn/hdf5_wire.h"

#include <cstring>

namespace podm::nn::wire {

namespace {

class Writer {
public:
  void u64(uint64_t v) { buf_.append(reinterpret_cast<const char*>(&v), 8); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f32(float v) { buf_.append(reinterpret_cast<const char*>(&v), 4); }
  void str(const std::string& s) {
    u64(s.size());
    buf_ += s;
  }
  void shape(const std::vector<int64_t>& s) {
    u64(s.size());
    for (int64_t d : s)
      i64(d);
  }
  std::string take() { return std::move(buf_); }

private:
  std::string buf_;
};

class Reader {
public:
  Reader(const std::string& b, const std::string& path) : b_(b), path_(path) {}
  uint64_t u64() {
    need(8);
    uint64_t v;
    std::memcpy(&v, b_.data() + pos_, 8);
    pos_ += 8;
    return v;
  }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  float f32() {
    need(4);
    float v;
    std::memcpy(&v, b_.data() + pos_, 4);
    pos_ += 4;
    return v;
  }
  std::string str() {
    uint64_t n = u64();
    need(n);
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::vector<int64_t> shape() {
    uint64_t n = u64();
    if (n > 8)
      bad();
    std::vector<int64_t> s;
    for (uint64_t i = 0; i < n; ++i)
      s.push_back(i64());
    return s;
  }
  // A count of items each at least `minBytes` long, checked against what is left.
  uint64_t count(uint64_t minBytes) {
    uint64_t n = u64();
    if (minBytes && n > (b_.size() - pos_) / minBytes)
      bad();
    return n;
  }
  bool done() const { return pos_ == b_.size(); }
  [[noreturn]] void bad() const {
    throw WeightsError(path_ + ": malformed result from the HDF5 reader process");
  }

private:
  void need(uint64_t n) const {
    if (n > b_.size() - pos_)
      bad();
  }
  const std::string& b_;
  const std::string& path_;
  size_t pos_ = 0;
};

void encodeKeras(Writer& w, const KerasModel& m) {
  w.i64(m.spec.inChannels);
  w.u64(m.spec.residual);
  w.u64(m.spec.layers.size());
  for (const Layer& l : m.spec.layers) {
    w.u64(static_cast<uint64_t>(l.kind));
    w.str(l.name);
    for (int64_t v : {l.in, l.out, l.kernel, l.dilation, l.stride, l.factor})
      w.i64(v);
    w.u64(static_cast<uint64_t>(l.padding));
    w.u64(l.bias);
    w.f32(l.alpha);
    w.f32(l.eps);
  }
  w.u64(m.weights.size());
  for (const auto& [name, t] : m.weights) {
    w.str(name);
    w.shape(t.shape);
    w.u64(t.data.size());
    for (float v : t.data)
      w.f32(v);
  }
}

Layer decodeLayer(Reader& r) {
  Layer l;
  uint64_t kind = r.u64();
  if (kind > static_cast<uint64_t>(LayerKind::Dense))
    r.bad();
  l.kind = static_cast<LayerKind>(kind);
  l.name = r.str();
  for (int64_t* v : {&l.in, &l.out, &l.kernel, &l.dilation, &l.stride, &l.factor})
    *v = r.i64();
  uint64_t padding = r.u64();
  if (padding > static_cast<uint64_t>(Padding::Replicate))
    r.bad();
  l.padding = static_cast<Padding>(padding);
  l.bias = r.u64() != 0;
  l.alpha = r.f32();
  l.eps = r.f32();
  return l;
}

KerasModel decodeKeras(Reader& r) {
  KerasModel m;
  m.spec.inChannels = r.i64();
  m.spec.residual = r.u64() != 0;
  for (uint64_t n = r.count(8 * 10), i = 0; i < n; ++i)
    m.spec.layers.push_back(decodeLayer(r));
  for (uint64_t n = r.count(24), i = 0; i < n; ++i) {
    std::string name = r.str();
    HostTensor t;
    t.shape = r.shape();
    uint64_t numel = r.count(4);
    if (checkedNumel(t.shape) != static_cast<int64_t>(numel))
      r.bad();
    t.data.resize(numel);
    for (float& v : t.data)
      v = r.f32();
    m.weights[name] = std::move(t);
  }
  return m;
}

} // namespace

std::string encodeKerasReads(const std::vector<KerasRead>& reads) {
  Writer w;
  for (const KerasRead& read : reads) {
    if (read.model) {
      w.u64(1);
      encodeKeras(w, *read.model);
    } else {
      w.u64(0);
      w.str(read.error);
    }
  }
  return w.take();
}

std::vector<KerasRead> decodeKerasReads(const std::string& payload, size_t count,
                                        const std::string& label) {
  Reader r(payload, label);
  std::vector<KerasRead> out(count);
  for (KerasRead& read : out) {
    if (r.u64() == 1)
      read.model = decodeKeras(r);
    else
      read.error = r.str();
  }
  if (!r.done())
    r.bad();
  return out;
}

std::string encodeTensorInfos(const std::vector<TensorInfo>& list) {
  Writer w;
  w.u64(list.size());
  for (const TensorInfo& t : list) {
    w.str(t.name);
    w.str(t.dtype);
    w.shape(t.shape);
  }
  return w.take();
}

std::vector<TensorInfo> decodeTensorInfos(const std::string& payload, const std::string& path) {
  Reader r(payload, path);
  std::vector<TensorInfo> out;
  for (uint64_t n = r.count(24), i = 0; i < n; ++i) {
    TensorInfo t;
    t.name = r.str();
    t.dtype = r.str();
    t.shape = r.shape();
    out.push_back(std::move(t));
  }
  if (!r.done())
    r.bad();
  return out;
}

} // namespace podm::nn::wire
