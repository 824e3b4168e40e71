// safetensors reader and writer; see safetensors.h for the format and the hostile-file checks.
#include "stdlib/nn/safetensors.h"

#include "stdlib/nn/json.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>

namespace podm::nn {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; a big-endian host needs byte swaps here");

namespace {

struct Entry {
  TensorInfo info;
  uint64_t begin = 0, end = 0; // byte range within the data section
  int elementSize = 0;
};

struct Header {
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
  uint64_t dataStart = 0; // absolute file offset of the data section
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw WeightsError(path + ": " + what);
}

int elementSize(const std::string& dtype) {
  if (dtype == "F32")
    return 4;
  if (dtype == "F16" || dtype == "BF16")
    return 2;
  if (dtype == "F64")
    return 8;
  return 0;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1F;
  uint32_t man = h & 0x3FF;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while ((man & 0x400) == 0);
      bits = sign | uint32_t(127 - 15 - e) << 23 | (man & 0x3FF) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | man << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  return std::bit_cast<float>(bits);
}

Header readHeader(std::ifstream& f, const std::string& path) {
  f.seekg(0, std::ios::end);
  std::streamoff size = f.tellg();
  if (size < 8)
    fail(path, "file too short for a safetensors header (" + std::to_string(size) + " bytes)");
  f.seekg(0);
  unsigned char lenBytes[8];
  f.read(reinterpret_cast<char*>(lenBytes), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = n << 8 | lenBytes[i];
  uint64_t fileSize = static_cast<uint64_t>(size);
  if (n > fileSize - 8)
    fail(path, "header length " + std::to_string(n) + " exceeds the file size " +
                   std::to_string(fileSize) +
                   " (not a safetensors file? weights are read from .safetensors and Keras "
                   ".hdf5/.h5 files)");
  if (n > kSafetensorsMaxHeader)
    fail(path, "header length " + std::to_string(n) + " exceeds the 100 MB limit");
  std::string text(n, '\0');
  f.read(text.data(), static_cast<std::streamsize>(n));
  if (!f)
    fail(path, "could not read the header");

  json::Value root;
  try {
    root = json::parse(text);
  } catch (const json::ParseError& e) {
    fail(path, std::string("malformed header: ") + e.what());
  }
  if (!root.isObject())
    fail(path, "header is not a JSON object");

  Header h;
  h.dataStart = 8 + n;
  uint64_t dataSize = fileSize - h.dataStart;
  for (const auto& [name, v] : root.members) {
    if (name == "__metadata__") {
      if (!v.isObject())
        fail(path, "__metadata__ is not an object");
      for (const auto& [k, s] : v.members) {
        if (!s.isString())
          fail(path, "__metadata__ value '" + k + "' is not a string");
        h.metadata[k] = s.text;
      }
      continue;
    }
    std::string where = "tensor '" + name + "': ";
    if (!v.isObject())
      fail(path, where + "entry is not an object");
    const json::Value* dtype = v.find("dtype");
    const json::Value* shape = v.find("shape");
    const json::Value* offsets = v.find("data_offsets");
    if (!dtype || !dtype->isString())
      fail(path, where + "missing or non-string 'dtype'");
    if (!shape || !shape->isArray())
      fail(path, where + "missing or non-array 'shape'");
    if (!offsets || !offsets->isArray() || offsets->items.size() != 2)
      fail(path, where + "'data_offsets' must be an array of two integers");
    if (v.members.size() != 3)
      fail(path, where + "unexpected keys besides dtype, shape, data_offsets");
    Entry e;
    e.info.name = name;
    e.info.dtype = dtype->text;
    e.elementSize = elementSize(dtype->text);
    if (e.elementSize == 0)
      fail(path,
           where + "unsupported dtype '" + dtype->text + "' (supported: F32, F16, BF16, F64)");
    if (shape->items.size() > 8)
      fail(path, where + "more than 8 dimensions");
    for (const json::Value& d : shape->items) {
      int64_t x;
      if (!d.asIndex(x))
        fail(path, where + "shape entries must be non-negative integers");
      e.info.shape.push_back(x);
    }
    int64_t b, en;
    if (!offsets->items[0].asIndex(b) || !offsets->items[1].asIndex(en))
      fail(path, where + "data_offsets must be non-negative integers");
    e.begin = static_cast<uint64_t>(b);
    e.end = static_cast<uint64_t>(en);
    if (e.begin > e.end || e.end > dataSize)
      fail(path, where + "data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                     "] outside the data section of " + std::to_string(dataSize) + " bytes");
    int64_t numel = checkedNumel(e.info.shape);
    if (numel < 0 || static_cast<uint64_t>(numel) > std::numeric_limits<uint64_t>::max() / 8)
      fail(path, where + "shape " + shapeString(e.info.shape) + " overflows");
    uint64_t bytes = static_cast<uint64_t>(numel) * static_cast<uint64_t>(e.elementSize);
    if (bytes != e.end - e.begin)
      fail(path, where + "shape " + shapeString(e.info.shape) + " of " + e.info.dtype + " needs " +
                     std::to_string(bytes) + " bytes but data_offsets span " +
                     std::to_string(e.end - e.begin));
    h.entries.push_back(std::move(e));
  }
  std::vector<const Entry*> byStart;
  for (const Entry& e : h.entries)
    byStart.push_back(&e);
  std::sort(byStart.begin(), byStart.end(),
            [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < byStart.size(); ++i)
    if (byStart[i]->begin < byStart[i - 1]->end)
      fail(path, "tensors '" + byStart[i - 1]->info.name + "' and '" + byStart[i]->info.name +
                     "' overlap");
  return h;
}

std::ifstream openOrFail(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    fail(path, "cannot open file");
  return f;
}

} // namespace

std::vector<TensorInfo> inspectSafetensors(const std::string& path) {
  std::ifstream f = openOrFail(path);
  Header h = readHeader(f, path);
  std::vector<TensorInfo> out;
  for (Entry& e : h.entries)
    out.push_back(std::move(e.info));
  std::sort(out.begin(), out.end(),
            [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });
  return out;
}

SafetensorsFile readSafetensors(const std::string& path) {
  std::ifstream f = openOrFail(path);
  Header h = readHeader(f, path);
  SafetensorsFile out;
  out.metadata = std::move(h.metadata);
  std::vector<unsigned char> raw;
  for (const Entry& e : h.entries) {
    // The byte range was checked against the file size, so these allocations are bounded by it.
    raw.resize(e.end - e.begin);
    f.seekg(static_cast<std::streamoff>(h.dataStart + e.begin));
    f.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
    if (!f)
      fail(path, "tensor '" + e.info.name + "': could not read its data");
    HostTensor t;
    t.shape = e.info.shape;
    size_t n = raw.size() / static_cast<size_t>(e.elementSize);
    t.data.resize(n);
    const unsigned char* p = raw.data();
    for (size_t i = 0; i < n; ++i) {
      if (e.info.dtype == "F32") {
        std::memcpy(&t.data[i], p + 4 * i, 4);
      } else if (e.info.dtype == "F64") {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        t.data[i] = static_cast<float>(d);
      } else {
        uint16_t u;
        std::memcpy(&u, p + 2 * i, 2);
        t.data[i] = e.info.dtype == "F16" ? halfToFloat(u)
                                          : std::bit_cast<float>(static_cast<uint32_t>(u) << 16);
      }
    }
    out.tensors.emplace(e.info.name, std::move(t));
  }
  return out;
}

namespace {

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      static const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

} // namespace

void writeSafetensors(const std::string& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [k, v] : metadata) {
      header += (first ? "" : ",") + jsonString(k) + ":" + jsonString(v);
      first = false;
    }
    header += "}";
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    int64_t numel = checkedNumel(t.shape);
    if (numel < 0 || static_cast<uint64_t>(numel) != t.data.size())
      throw WeightsError(path + ": tensor '" + name + "' has " + std::to_string(t.data.size()) +
                         " values for shape " + shapeString(t.shape));
    if (name == "__metadata__")
      throw WeightsError(path + ": '__metadata__' is reserved and cannot name a tensor");
    header += std::string(header.size() > 1 ? "," : "") + jsonString(name) +
              ":{\"dtype\":\"F32\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); ++i)
      header += (i ? "," : "") + std::to_string(t.shape[i]);
    uint64_t end = offset + 4 * t.data.size();
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
  }
  header += "}";
  // The format recommends padding the header with spaces to an 8-byte boundary for alignment.
  while ((header.size() + 8) % 8)
    header += ' ';
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f)
    throw WeightsError(path + ": cannot open for writing");
  uint64_t n = header.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i)
    len[i] = static_cast<unsigned char>(n >> (8 * i));
  f.write(reinterpret_cast<const char*>(len), 8);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& [name, t] : tensors)
    f.write(reinterpret_cast<const char*>(t.data.data()),
            static_cast<std::streamsize>(4 * t.data.size()));
  if (!f)
    throw WeightsError(path + ": write failed");
}

} // namespace podm::nn
