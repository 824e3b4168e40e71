// .pgraph writer and reader (format described in serialize.h).
//
// Payload encoding, in order:
//   str name | u8 hasLoop [i64 stages]
//   u32 nodes, each: str op | u8 region | u8 kind | u8 elem | i64 n,c,h,w | str label |
//                    u32 operands, u32 each | u32 attrs, each: str name | u8 kind | value
//   [hasLoop: u32 carries, (u32 state, u32 next) each | u32 stop (UINT32_MAX = none)]
//   u32 outputs, each: str name | u32 value
// str = u32 length + bytes. Attribute values: int i64, float f64, string str, floats u32 count +
// f64s, named u32 count + (str, f64) pairs, data u64 count + f32s.
#include "ir/serialize.h"

#include "ir/builder.h"
#include "ir/errors.h"
#include "ir/verifier.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace podm::ir {
namespace {

constexpr char kMagic[8] = {'P', 'O', 'D', 'M', 'G', 'R', 'P', 'H'};
// Strings are names and labels; anything longer is corruption, not a model.
constexpr uint32_t kMaxString = 1u << 16;
// Files larger than this are refused before reading (a graph with all its constant spectra is
// tens of megabytes).
constexpr uint64_t kMaxFileBytes = uint64_t{1} << 32;

class Writer {
public:
  void u8(uint8_t v) { bytes_.push_back(v); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void i64(int64_t v) { le(static_cast<uint64_t>(v), 8); }
  void f64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    u64(bits);
  }
  void f32(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    u32(bits);
  }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> bytes_;
};

class Reader {
public:
  Reader(std::span<const uint8_t> bytes, size_t base, std::string_view source)
      : bytes_(bytes), base_(base), source_(source) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw IrError(std::string(source_) + ": corrupt graph file: " + what + " (at byte " +
                  std::to_string(base_ + pos_) + ")");
  }
  size_t remaining() const { return bytes_.size() - pos_; }
  bool done() const { return pos_ == bytes_.size(); }

  uint8_t u8() { return static_cast<uint8_t>(le(1)); }
  uint32_t u32() { return static_cast<uint32_t>(le(4)); }
  uint64_t u64() { return le(8); }
  int64_t i64() { return static_cast<int64_t>(le(8)); }
  double f64() {
    uint64_t bits = u64();
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }
  std::string str(const char* what) {
    uint32_t n = u32();
    if (n > kMaxString || n > remaining())
      fail(std::string(what) + " of " + std::to_string(n) + " bytes runs past the end");
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  // A count of items of at least `minBytes` each: refused when the bytes left cannot hold them,
  // so a corrupt count never turns into a huge allocation.
  uint64_t count(uint64_t n, size_t minBytes, const char* what) {
    if (n > remaining() / minBytes)
      fail(std::string(what) + " count " + std::to_string(n) + " exceeds the file");
    return n;
  }
  std::span<const uint8_t> take(size_t n) {
    if (n > remaining())
      fail("truncated");
    auto s = bytes_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

private:
  uint64_t le(int n) {
    if (remaining() < static_cast<size_t>(n))
      fail("truncated");
    uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= uint64_t{bytes_[pos_ + i]} << (8 * i);
    pos_ += n;
    return v;
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  size_t base_;
  std::string_view source_;
};

void writeAttr(Writer& w, const Attr& a) {
  w.str(a.name);
  w.u8(static_cast<uint8_t>(kindOf(a.value)));
  switch (kindOf(a.value)) {
  case AttrKind::Int:
    w.i64(std::get<int64_t>(a.value));
    break;
  case AttrKind::Float:
    w.f64(std::get<double>(a.value));
    break;
  case AttrKind::String:
    w.str(std::get<std::string>(a.value));
    break;
  case AttrKind::Floats: {
    const auto& v = std::get<std::vector<double>>(a.value);
    w.u32(static_cast<uint32_t>(v.size()));
    for (double d : v)
      w.f64(d);
    break;
  }
  case AttrKind::Named: {
    const auto& v = std::get<NamedFloats>(a.value);
    w.u32(static_cast<uint32_t>(v.size()));
    for (const auto& [name, d] : v) {
      w.str(name);
      w.f64(d);
    }
    break;
  }
  case AttrKind::Data: {
    const TensorData& d = std::get<TensorData>(a.value);
    w.u64(d.size());
    for (float f : d.values())
      w.f32(f);
    break;
  }
  }
}

AttrValue readAttrValue(Reader& r, uint8_t kind) {
  switch (static_cast<AttrKind>(kind)) {
  case AttrKind::Int:
    return r.i64();
  case AttrKind::Float:
    return r.f64();
  case AttrKind::String:
    return r.str("string attribute");
  case AttrKind::Floats: {
    uint64_t n = r.count(r.u32(), 8, "float list");
    std::vector<double> v(n);
    for (double& d : v)
      d = r.f64();
    return v;
  }
  case AttrKind::Named: {
    uint64_t n = r.count(r.u32(), 12, "named float list");
    NamedFloats v;
    v.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      std::string name = r.str("argument name");
      v.emplace_back(std::move(name), r.f64());
    }
    return v;
  }
  case AttrKind::Data: {
    uint64_t n = r.count(r.u64(), 4, "tensor data");
    std::span<const uint8_t> raw = r.take(n * 4);
    std::vector<float> v(n);
    for (uint64_t i = 0; i < n; ++i) {
      uint32_t bits = uint32_t{raw[4 * i]} | uint32_t{raw[4 * i + 1]} << 8 |
                      uint32_t{raw[4 * i + 2]} << 16 | uint32_t{raw[4 * i + 3]} << 24;
      std::memcpy(&v[i], &bits, 4);
    }
    return TensorData(std::move(v));
  }
  }
  r.fail("unknown attribute kind " + std::to_string(kind));
}

struct NodeRecord {
  const OpInfo* op;
  Region region;
  Type type;
  std::string label;
  std::vector<ValueId> operands;
  Attrs attrs;
};

Type readType(Reader& r) {
  uint8_t kind = r.u8(), elem = r.u8();
  Dims d;
  d.n = r.i64();
  d.c = r.i64();
  d.h = r.i64();
  d.w = r.i64();
  if (kind > 1 || elem > 1)
    r.fail("bad type tag");
  if (kind == 0) {
    if (elem != 0 || d != Dims{})
      r.fail("a scalar type must be f32 with shape 1x1x1x1");
    return Type::scalar();
  }
  try {
    return Type::tensor(static_cast<ElemType>(elem), d);
  } catch (const IrError& e) {
    r.fail(e.what());
  }
}

NodeRecord readNode(Reader& r) {
  NodeRecord n;
  std::string opName = r.str("op name");
  n.op = findOp(opName);
  if (!n.op)
    r.fail("unknown op '" + opName + "' (written by a newer podm?)");
  uint8_t region = r.u8();
  if (region > 2)
    r.fail("bad region tag " + std::to_string(region));
  n.region = static_cast<Region>(region);
  n.type = readType(r);
  n.label = r.str("label");
  uint64_t operands = r.count(r.u32(), 4, "operand");
  for (uint64_t i = 0; i < operands; ++i)
    n.operands.push_back(ValueId{r.u32()});
  uint64_t attrs = r.count(r.u32(), 5, "attribute");
  for (uint64_t i = 0; i < attrs; ++i) {
    std::string name = r.str("attribute name");
    uint8_t kind = r.u8();
    if (n.attrs.has(name))
      r.fail("attribute '" + name + "' appears twice");
    n.attrs.set(std::move(name), readAttrValue(r, kind));
  }
  return n;
}

} // namespace

uint64_t pgraphChecksum(std::span<const uint8_t> bytes) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 1099511628211ull;
  }
  return h;
}

std::vector<uint8_t> serialize(const Graph& g) {
  Writer p;
  p.str(g.name());
  p.u8(g.loop() ? 1 : 0);
  if (g.loop())
    p.i64(g.loop()->stages);
  p.u32(static_cast<uint32_t>(g.size()));
  for (const Node& n : g.nodes()) {
    p.str(std::string(n.info().name));
    p.u8(static_cast<uint8_t>(n.region));
    p.u8(static_cast<uint8_t>(n.type.kind));
    p.u8(static_cast<uint8_t>(n.type.elem));
    p.i64(n.type.dims.n);
    p.i64(n.type.dims.c);
    p.i64(n.type.dims.h);
    p.i64(n.type.dims.w);
    p.str(n.label);
    p.u32(static_cast<uint32_t>(n.operands.size()));
    for (ValueId v : n.operands)
      p.u32(v.index);
    p.u32(static_cast<uint32_t>(n.attrs.size()));
    for (const Attr& a : n.attrs.all())
      writeAttr(p, a);
  }
  if (g.loop()) {
    p.u32(static_cast<uint32_t>(g.loop()->carries.size()));
    for (const Carry& c : g.loop()->carries) {
      p.u32(c.state.index);
      p.u32(c.next.index);
    }
    p.u32(g.loop()->stop.index);
  }
  p.u32(static_cast<uint32_t>(g.outputs().size()));
  for (const Output& o : g.outputs()) {
    p.str(o.name);
    p.u32(o.value.index);
  }

  const std::vector<uint8_t>& payload = p.bytes();
  Writer file;
  for (char c : kMagic)
    file.u8(static_cast<uint8_t>(c));
  file.u32(kPgraphFormatVersion);
  file.u32(0);
  file.u64(payload.size());
  file.u64(pgraphChecksum(payload));
  file.bytes().insert(file.bytes().end(), payload.begin(), payload.end());
  return std::move(file.bytes());
}

Graph deserialize(std::span<const uint8_t> bytes, std::string_view source) {
  const std::string src(source);
  if (bytes.size() < kPgraphHeaderBytes)
    throw IrError(src + ": truncated graph file (" + std::to_string(bytes.size()) +
                  " bytes; the header alone is " + std::to_string(kPgraphHeaderBytes) + ")");
  if (std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw IrError(src + ": not a podm graph file (bad magic)");
  Reader header(bytes.subspan(8, kPgraphHeaderBytes - 8), 8, source);
  uint32_t version = header.u32();
  if (version != kPgraphFormatVersion)
    throw IrError(src + ": graph file format version " + std::to_string(version) +
                  " is not supported; this podm reads version " +
                  std::to_string(kPgraphFormatVersion) + " (recompile the model)");
  if (header.u32() != 0)
    throw IrError(src + ": corrupt graph file: unknown header flags");
  uint64_t payloadBytes = header.u64();
  uint64_t checksum = header.u64();
  uint64_t present = bytes.size() - kPgraphHeaderBytes;
  if (payloadBytes != present)
    throw IrError(src +
                  (payloadBytes > present ? ": truncated graph file (" : ": corrupt graph file (") +
                  std::to_string(present) + " payload bytes present, header says " +
                  std::to_string(payloadBytes) + ")");
  std::span<const uint8_t> payload = bytes.subspan(kPgraphHeaderBytes);
  if (pgraphChecksum(payload) != checksum)
    throw IrError(src + ": corrupt graph file (checksum mismatch)");

  Reader r(payload, kPgraphHeaderBytes, source);
  std::string name = r.str("graph name");
  uint8_t hasLoop = r.u8();
  if (hasLoop > 1)
    r.fail("bad loop flag");
  int64_t stages = hasLoop ? r.i64() : 0;
  // Each node takes at least 51 bytes (op name length, tags, dims, label length, counts).
  uint64_t nodeCount = r.count(r.u32(), 51, "node");
  std::vector<NodeRecord> nodes;
  nodes.reserve(nodeCount);
  for (uint64_t i = 0; i < nodeCount; ++i)
    nodes.push_back(readNode(r));
  std::vector<Carry> carries;
  ValueId stop;
  if (hasLoop) {
    uint64_t n = r.count(r.u32(), 8, "carry");
    for (uint64_t i = 0; i < n; ++i) {
      ValueId state{r.u32()};
      carries.push_back(Carry{state, ValueId{r.u32()}});
    }
    stop = ValueId{r.u32()};
  }
  std::vector<Output> outputs;
  uint64_t outputCount = r.count(r.u32(), 8, "output");
  for (uint64_t i = 0; i < outputCount; ++i) {
    std::string outName = r.str("output name");
    outputs.push_back(Output{std::move(outName), ValueId{r.u32()}});
  }
  if (!r.done())
    r.fail(std::to_string(r.remaining()) + " unexpected trailing bytes");

  // Rebuild through the validating builder: the file is data, never trusted.
  try {
    Graph g(name);
    Builder b(g);
    auto closeLoop = [&] {
      for (const Carry& c : carries)
        b.carry(c.state, c.next);
      if (stop)
        b.stopWhen(stop);
      b.endLoop();
    };
    for (uint32_t i = 0; i < nodes.size(); ++i) {
      NodeRecord& n = nodes[i];
      if (n.region < b.region())
        throw IrError("node %" + std::to_string(i) + " is out of region order");
      if (n.region != Region::Pre && !hasLoop)
        throw IrError("node %" + std::to_string(i) + " is in a loop region but there is no loop");
      if (n.region != Region::Pre && b.region() == Region::Pre)
        b.beginLoop(stages);
      if (n.region == Region::Post && b.region() == Region::Body)
        closeLoop();
      std::optional<Type> declared;
      if (n.op->has(trait::Source))
        declared = n.type;
      ValueId v = b.create(n.op->op, n.operands, n.attrs, declared, std::move(n.label));
      if (g.node(v).type != n.type)
        throw IrError("node %" + std::to_string(i) + " is stored as " + n.type.str() +
                      " but its operands make it " + g.node(v).type.str());
    }
    if (hasLoop && b.region() == Region::Pre)
      b.beginLoop(stages);
    if (b.region() == Region::Body)
      closeLoop();
    for (Output& o : outputs)
      b.output(std::move(o.name), o.value);
    verify(g);
    return g;
  } catch (const IrError& e) {
    throw IrError(src + ": invalid graph: " + e.what());
  }
}

void save(const Graph& g, const std::string& path) {
  std::vector<uint8_t> bytes = serialize(g);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  auto failWith = [&](const std::string& what) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw IrError("cannot write graph file '" + path + "': " + what + ": " + std::strerror(err));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    failWith("open " + tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      ::close(fd);
      failWith("write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    failWith("fsync");
  }
  if (::close(fd) != 0)
    failWith("close");
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    failWith("rename");
}

Graph load(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw IrError("cannot open graph file '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IrError("'" + path + "' is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
    ::close(fd);
    throw IrError(path + ": graph file of " + std::to_string(st.st_size) +
                  " bytes is larger than any graph podm writes");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  return deserialize(bytes, path);
}

} // namespace podm::ir
