// Checkpoint files (see checkpoint.h): safetensors written through io::writeFileAtomic, read back
// with the hostile-input safetensors reader, then checked field by field and against a checksum.
#include "train/checkpoint.h"

#include "runtime/io/atomic_file.h"
#include "stdlib/nn/safetensors.h"

#include <cstring>

namespace podm::train {
namespace {

constexpr const char* kFormat = "1";
constexpr const char* kParamPrefix = "param/";
constexpr const char* kOptimPrefix = "optim/";

struct Fnv1a {
  uint64_t h = 0xcbf29ce484222325ull;
  void add(const void* data, size_t n) {
    const unsigned char* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 0x100000001b3ull;
    }
  }
  void add(const std::string& s) {
    uint64_t n = s.size();
    add(&n, sizeof n);
    add(s.data(), s.size());
  }
};

// Over the stored tensors (names, shapes, values) and the metadata other than the checksum itself,
// in their sorted order: any flipped byte after the header changes it.
std::string checksum(const nn::TensorMap& tensors, const std::map<std::string, std::string>& meta) {
  Fnv1a f;
  for (const auto& [name, t] : tensors) {
    f.add(name);
    for (int64_t d : t.shape)
      f.add(&d, sizeof d);
    f.add(t.data.data(), t.data.size() * sizeof(float));
  }
  for (const auto& [k, v] : meta)
    if (k != "podm.checksum") {
      f.add(k);
      f.add(v);
    }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(f.h));
  return buf;
}

const std::string& field(const std::string& path, const std::map<std::string, std::string>& meta,
                         const std::string& key) {
  auto it = meta.find(key);
  if (it == meta.end())
    throw CheckpointError(path + ": not a podm checkpoint (metadata '" + key + "' is missing)");
  return it->second;
}

} // namespace

void saveCheckpoint(const std::string& path, const Checkpoint& c) {
  nn::TensorMap tensors;
  for (const auto& [name, t] : c.params)
    tensors[kParamPrefix + name] = t;
  for (const auto& [name, t] : c.optimizer)
    tensors[kOptimPrefix + name] = t;
  std::map<std::string, std::string> meta;
  for (const auto& [k, v] : c.extra)
    meta["extra." + k] = v;
  meta["podm.checkpoint"] = kFormat;
  meta["podm.step"] = std::to_string(c.step);
  meta["podm.rng"] = c.rng;
  meta["podm.model"] = c.model;
  meta["podm.mode"] = c.mode;
  meta["podm.args"] = c.args;
  meta["podm.checksum"] = checksum(tensors, meta);
  try {
    io::writeFileAtomic(path,
                        [&](const std::string& tmp) { nn::writeSafetensors(tmp, tensors, meta); });
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw CheckpointError(what.rfind(path, 0) == 0 ? what : path + ": " + what);
  }
}

Checkpoint loadCheckpoint(const std::string& path) {
  nn::SafetensorsFile file;
  try {
    file = nn::readSafetensors(path);
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw CheckpointError("cannot resume from " + path + ": " +
                          (what.rfind(path, 0) == 0 ? what.substr(path.size() + 2) : what) +
                          " (truncated or not a checkpoint)");
  }
  const auto& meta = file.metadata;
  if (field(path, meta, "podm.checkpoint") != kFormat)
    throw CheckpointError(path + ": checkpoint format " + meta.at("podm.checkpoint") +
                          " is not supported (expected " + kFormat + ")");
  if (field(path, meta, "podm.checksum") != checksum(file.tensors, meta))
    throw CheckpointError(path + ": checkpoint is corrupt (checksum mismatch)");
  Checkpoint c;
  const std::string& step = field(path, meta, "podm.step");
  char* end = nullptr;
  long long s = std::strtoll(step.c_str(), &end, 10);
  if (step.empty() || end != step.c_str() + step.size() || s < 0)
    throw CheckpointError(path + ": checkpoint step '" + step + "' is not a count");
  c.step = s;
  c.rng = field(path, meta, "podm.rng");
  c.model = field(path, meta, "podm.model");
  c.mode = field(path, meta, "podm.mode");
  c.args = field(path, meta, "podm.args");
  for (const auto& [k, v] : meta)
    if (k.rfind("extra.", 0) == 0)
      c.extra[k.substr(6)] = v;
  for (auto& [name, t] : file.tensors) {
    if (name.rfind(kParamPrefix, 0) == 0)
      c.params[name.substr(std::strlen(kParamPrefix))] = std::move(t);
    else if (name.rfind(kOptimPrefix, 0) == 0)
      c.optimizer[name.substr(std::strlen(kOptimPrefix))] = std::move(t);
    else
      throw CheckpointError(path + ": unexpected tensor '" + name + "' in a checkpoint");
  }
  return c;
}

void checkCompatible(const std::string& path, const Checkpoint& c, const std::string& model,
                     const std::string& mode, const nn::TensorMap& expected) {
  if (c.model != model)
    throw CheckpointError(path + ": checkpoint is of model '" + c.model + "', not '" + model + "'");
  if (c.mode != mode)
    throw CheckpointError(path + ": checkpoint is of a " + c.mode + " run, not " + mode);
  for (const auto& [name, t] : expected) {
    auto it = c.params.find(name);
    if (it == c.params.end())
      throw CheckpointError(path + ": checkpoint has no parameter '" + name + "'");
    if (it->second.shape != t.shape)
      throw CheckpointError(path + ": parameter '" + name + "' has shape " +
                            nn::shapeString(it->second.shape) + " in the checkpoint, the model " +
                            "needs " + nn::shapeString(t.shape));
  }
  for (const auto& [name, t] : c.params)
    if (!expected.count(name))
      throw CheckpointError(path + ": checkpoint parameter '" + name +
                            "' is not in this model (another architecture?)");
}

} // namespace podm::train
