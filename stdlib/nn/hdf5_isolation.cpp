// Runs the HDF5 readers in a forked child process and passes the result back over a pipe.
// Why: libhdf5 1.10.8 turns most corruption into error returns, but not all of it — fuzzing
// found a heap use-after-free inside H5Aopen on a mutated file (tests/stdlib/nn, under ASan).
// A weight file is user input, so whatever libhdf5 does with it happens in a child that cannot
// corrupt the compiler; a crash there becomes a WeightsError. The parent trusts nothing it reads
// back: the stream is size-capped and every count and length is checked while decoding.
#include "stdlib/nn/keras_hdf5.h"
#include "stdlib/nn/keras_hdf5_impl.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <optional>
#include <sys/wait.h>
#include <unistd.h>

namespace podm::nn {

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

void writeAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    off += static_cast<size_t>(n);
  }
}

// Runs `work` in a child; returns its payload or throws its WeightsError (or a crash report,
// naming `path`: the file, or the files of a batch). `files` bound the size of a genuine result.
std::string isolated(const std::string& path, const std::vector<std::string>& files,
                     const std::function<std::string()>& work) {
  // A genuine result holds at most the files' values as f32 (f16 doubles) plus names.
  uint64_t cap = 1u << 20;
  for (const std::string& file : files) {
    std::ifstream f(file, std::ios::binary | std::ios::ate);
    if (!f)
      throw WeightsError(file + ": cannot open file");
    cap += 8 * static_cast<uint64_t>(f.tellg()) + (1u << 20);
  }
  int fds[2];
  if (pipe(fds) != 0)
    throw WeightsError(path + ": cannot create a pipe for the HDF5 reader");
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw WeightsError(path + ": cannot start the HDF5 reader process");
  }
  if (pid == 0) {
    close(fds[0]);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0)
      dup2(devnull, STDERR_FILENO); // a sanitizer's or libhdf5's report is not the user's business
    std::string out;
    try {
      out = std::string(1, '\1') + work();
    } catch (const WeightsError& e) {
      out = std::string(1, '\0') + e.what();
    } catch (const std::exception& e) {
      out = std::string(1, '\0') + path + ": " + e.what();
    }
    writeAll(fds[1], out);
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string buf;
  char chunk[65536];
  bool tooBig = false;
  for (;;) {
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (buf.size() + static_cast<size_t>(n) > cap) {
      tooBig = true;
      kill(pid, SIGKILL);
      break;
    }
    buf.append(chunk, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (tooBig)
    throw WeightsError(path + ": the HDF5 reader produced more data than the file can hold");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || buf.empty())
    throw WeightsError(path + ": libhdf5 crashed while reading the file (corrupt or hostile file)");
  if (buf[0] == '\0')
    throw WeightsError(buf.substr(1));
  return buf.substr(1);
}

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

// Reads every file in one child: per file, 1 and the model, or 0 and the error message.
std::vector<KerasRead> readBatch(const std::vector<std::string>& paths) {
  std::string label = paths.size() == 1 ? paths[0] : "the HDF5 files " + paths[0] + ", ...";
  std::string payload = isolated(label, paths, [&] {
    Writer w;
    for (const std::string& path : paths) {
      try {
        KerasModel m = readKerasHdf5InProcess(path);
        w.u64(1);
        encodeKeras(w, m);
      } catch (const WeightsError& e) {
        w.u64(0);
        w.str(e.what());
      } catch (const std::exception& e) {
        w.u64(0);
        w.str(path + ": " + e.what());
      }
    }
    return w.take();
  });
  Reader r(payload, label);
  std::vector<KerasRead> out(paths.size());
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

} // namespace

std::vector<KerasRead> readKerasHdf5All(const std::vector<std::string>& paths) {
  if (paths.empty())
    return {};
  try {
    return readBatch(paths);
  } catch (const WeightsError&) {
    if (paths.size() == 1)
      throw;
    // libhdf5 crashed (or the stream was bad) somewhere in the batch: read the files one by one,
    // so the error names the file that did it.
    std::vector<KerasRead> out;
    for (const std::string& path : paths) {
      KerasRead read;
      try {
        read = std::move(readBatch({path})[0]);
      } catch (const WeightsError& e) {
        read.error = e.what();
      }
      out.push_back(std::move(read));
    }
    return out;
  }
}

KerasModel readKerasHdf5(const std::string& path) {
  KerasRead read = std::move(readKerasHdf5All({path})[0]);
  if (!read.model)
    throw WeightsError(read.error);
  return std::move(*read.model);
}

std::vector<TensorInfo> inspectHdf5(const std::string& path) {
  std::string payload = isolated(path, {path}, [&] {
    Writer w;
    std::vector<TensorInfo> list = inspectHdf5InProcess(path);
    w.u64(list.size());
    for (const TensorInfo& t : list) {
      w.str(t.name);
      w.str(t.dtype);
      w.shape(t.shape);
    }
    return w.take();
  });
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

} // namespace podm::nn
