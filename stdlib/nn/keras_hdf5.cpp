// Keras 2 HDF5 import through the HDF5 C library; see keras_hdf5.h. Built only into the reader
// program podm-hdf5-reader (hdf5_reader_main.cpp): podm itself never links libhdf5. HDF5 validates
// the file's structure and returns errors on corruption; this file checks everything it asks HDF5
// to allocate (string sizes, element counts, dataset sizes against their storage) and converts
// every failure into a WeightsError that names the file and the object.
#include "stdlib/nn/keras_hdf5.h"

#include "stdlib/nn/json.h"
#include "stdlib/nn/keras_hdf5_impl.h"

#include <cstring>
#include <fstream>
#include <hdf5.h>
#include <limits>
#include <optional>

namespace podm::nn {

namespace {

constexpr size_t kMaxStringBytes = 64u << 20; // model_config and name lists
constexpr hssize_t kMaxNames = 100000;
constexpr int kMaxRank = 8;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw WeightsError(path + ": " + what);
}

// Owns one HDF5 identifier.
class Handle {
public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0)
      close_(id_);
  }
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle& operator=(Handle&&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

void quietHdf5() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

uint64_t fileSize(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f)
    fail(path, "cannot open file");
  return static_cast<uint64_t>(f.tellg());
}

Handle openFile(const std::string& path) {
  quietHdf5();
  fileSize(path); // a clear message for a missing file before HDF5's generic failure
  if (H5Fis_hdf5(path.c_str()) <= 0)
    fail(path, "not an HDF5 file");
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.ok())
    fail(path, "HDF5 could not open the file (corrupt or unsupported)");
  return f;
}

// Reads a string attribute (scalar or 1-D, fixed or variable length) as a list of strings.
std::vector<std::string> readStrings(hid_t obj, const char* name, const std::string& path,
                                     const std::string& where) {
  std::string what = where + " attribute '" + name + "'";
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.ok())
    fail(path, "cannot open " + what);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (!type.ok() || !space.ok() || H5Tget_class(type.get()) != H5T_STRING)
    fail(path, what + " is not a string");
  hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0 || count > kMaxNames)
    fail(path, what + " has an unreasonable number of entries");
  std::vector<std::string> out;
  if (count == 0)
    return out;
  htri_t variable = H5Tis_variable_str(type.get());
  if (variable < 0)
    fail(path, what + ": unreadable string type");
  Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  if (variable) {
    H5Tset_size(mem.get(), H5T_VARIABLE);
    std::vector<char*> ptrs(static_cast<size_t>(count), nullptr);
    if (H5Aread(attr.get(), mem.get(), ptrs.data()) < 0)
      fail(path, "cannot read " + what);
    size_t total = 0;
    for (char* p : ptrs) {
      if (p) {
        size_t len = std::strlen(p);
        total += len;
        if (total <= kMaxStringBytes)
          out.emplace_back(p, len);
      } else {
        out.emplace_back();
      }
    }
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
    if (total > kMaxStringBytes)
      fail(path, what + " is larger than 64 MB");
    return out;
  }
  size_t size = H5Tget_size(type.get());
  if (size == 0 || size > kMaxStringBytes / static_cast<size_t>(count))
    fail(path, what + " is larger than 64 MB");
  H5Tset_size(mem.get(), size);
  // Null-padded like h5py writes them: a name filling its whole width has no terminator, and a
  // null-terminated memory type would drop its last character.
  H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
  std::vector<char> buf(size * static_cast<size_t>(count));
  if (H5Aread(attr.get(), mem.get(), buf.data()) < 0)
    fail(path, "cannot read " + what);
  for (hssize_t i = 0; i < count; ++i) {
    const char* p = buf.data() + static_cast<size_t>(i) * size;
    out.emplace_back(p, strnlen(p, size));
  }
  return out;
}

std::string typeName(hid_t type) {
  H5T_class_t c = H5Tget_class(type);
  size_t size = H5Tget_size(type);
  if (c == H5T_FLOAT)
    return "F" + std::to_string(8 * size);
  if (c == H5T_INTEGER)
    return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "U" : "I") + std::to_string(8 * size);
  if (c == H5T_STRING)
    return "STRING";
  return "OTHER";
}

std::vector<int64_t> datasetShape(hid_t ds, const std::string& path, const std::string& what) {
  Handle space(H5Dget_space(ds), H5Sclose);
  if (!space.ok())
    fail(path, what + ": unreadable dataspace");
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > kMaxRank)
    fail(path, what + ": unsupported rank");
  hsize_t dims[kMaxRank] = {};
  if (H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0)
    fail(path, what + ": unreadable dimensions");
  std::vector<int64_t> shape;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] > static_cast<hsize_t>(std::numeric_limits<int64_t>::max()))
      fail(path, what + ": dimension too large");
    shape.push_back(static_cast<int64_t>(dims[i]));
  }
  return shape;
}

HostTensor readDataset(hid_t group, const std::string& name, const std::string& path,
                       uint64_t fileBytes) {
  std::string what = "dataset '" + name + "'";
  Handle ds(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.ok())
    fail(path, "cannot open " + what);
  Handle type(H5Dget_type(ds.get()), H5Tclose);
  if (!type.ok() || H5Tget_class(type.get()) != H5T_FLOAT)
    fail(path, what + " is not floating point");
  size_t esize = H5Tget_size(type.get());
  if (esize != 2 && esize != 4 && esize != 8)
    fail(path, what + ": unsupported float size " + std::to_string(esize));
  HostTensor t;
  t.shape = datasetShape(ds.get(), path, what);
  int64_t numel = checkedNumel(t.shape);
  if (numel < 0 || static_cast<uint64_t>(numel) > (std::numeric_limits<uint64_t>::max() >> 4))
    fail(path, what + ": shape " + shapeString(t.shape) + " overflows");
  uint64_t bytes = static_cast<uint64_t>(numel) * esize;
  // A contiguous or compact dataset must have its bytes in the file; a chunked (maybe
  // compressed) one may not claim more than a generous multiple of the file.
  Handle dcpl(H5Dget_create_plist(ds.get()), H5Pclose);
  H5D_layout_t layout = dcpl.ok() ? H5Pget_layout(dcpl.get()) : H5D_LAYOUT_ERROR;
  if (layout == H5D_CHUNKED) {
    if (bytes > 256 * fileBytes || bytes > (4ull << 30))
      fail(path, what + ": shape " + shapeString(t.shape) + " too large for the file");
  } else if (layout == H5D_CONTIGUOUS || layout == H5D_COMPACT) {
    if (H5Dget_storage_size(ds.get()) < bytes || bytes > fileBytes)
      fail(path, what + ": shape " + shapeString(t.shape) + " needs " + std::to_string(bytes) +
                     " bytes but the file stores fewer");
  } else {
    fail(path, what + ": unsupported storage layout");
  }
  t.data.resize(static_cast<size_t>(numel));
  if (numel > 0 &&
      H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.data()) < 0)
    fail(path, "cannot read " + what + " (corrupt data)");
  return t;
}

// The list of layer configs in model_config, for Keras 2.2 (Sequential: "config" is the list)
// and later versions ("config": {"layers": [...]}).
const std::vector<json::Value>& layerList(const json::Value& root, const std::string& path) {
  const json::Value* config = root.isObject() ? root.find("config") : nullptr;
  if (config && config->isArray())
    return config->items;
  if (config && config->isObject()) {
    const json::Value* layers = config->find("layers");
    if (layers && layers->isArray())
      return layers->items;
  }
  fail(path, "model_config has no layer list");
}

int64_t intOf(const json::Value& cfg, const char* key, int64_t dflt, const std::string& path,
              const std::string& layer) {
  const json::Value* v = cfg.find(key);
  if (!v)
    return dflt;
  const json::Value* x = v->isArray() ? (v->items.empty() ? nullptr : &v->items[0]) : v;
  if (v->isArray())
    for (const json::Value& e : v->items)
      if (e.text != x->text)
        fail(path, "layer '" + layer + "': non-square '" + key + "' is not supported");
  int64_t out;
  if (!x || !x->asIndex(out) || out < 1 || out > 4096)
    fail(path, "layer '" + layer + "': invalid '" + key + "'");
  return out;
}

std::string strOf(const json::Value& cfg, const char* key, const std::string& dflt) {
  const json::Value* v = cfg.find(key);
  return v && v->isString() ? v->text : dflt;
}

void appendActivation(NetworkSpec& spec, const std::string& act, const std::string& path,
                      const std::string& layer) {
  if (act == "linear")
    return;
  if (act == "relu")
    spec.layers.push_back(Layer::relu());
  else if (act == "elu")
    spec.layers.push_back(Layer::elu(1.0f));
  else
    fail(path, "layer '" + layer + "': unsupported activation '" + act + "'");
}

// A layer of its own for an activation: Activation (by name), ReLU, ELU or LeakyReLU with Keras's
// default alpha where the config gives none.
void appendActivationLayer(NetworkSpec& spec, const std::string& cls, const json::Value& cfg,
                           const std::string& path, const std::string& name) {
  if (cls == "Activation") {
    appendActivation(spec, strOf(cfg, "activation", ""), path, name);
  } else if (cls == "ReLU") {
    spec.layers.push_back(Layer::relu());
  } else {
    const json::Value* a = cfg.find("alpha");
    float alpha =
        a && a->isNumber() ? static_cast<float>(a->asDouble()) : (cls == "ELU" ? 1.0f : 0.3f);
    spec.layers.push_back(cls == "ELU" ? Layer::elu(alpha) : Layer::leakyRelu(alpha));
  }
}

// Keras keeps a conv kernel as (kh, kw, in, out); podm as (out, in, kh, kw).
HostTensor hwioToOihw(const HostTensor& k) {
  const int64_t kh = k.shape[0], kw = k.shape[1], ci = k.shape[2], co = k.shape[3];
  HostTensor oihw;
  oihw.shape = {co, ci, kh, kw};
  oihw.data.resize(k.data.size());
  for (int64_t y = 0; y < kh; ++y)
    for (int64_t x = 0; x < kw; ++x)
      for (int64_t i = 0; i < ci; ++i)
        for (int64_t o = 0; o < co; ++o)
          oihw.data[((o * ci + i) * kh + y) * kw + x] = k.data[((y * kw + x) * ci + i) * co + o];
  return oihw;
}

// Keras keeps a dense kernel as (in, out); podm as (out, in).
HostTensor transposed(const HostTensor& k) {
  const int64_t fi = k.shape[0], fo = k.shape[1];
  HostTensor t;
  t.shape = {fo, fi};
  t.data.resize(k.data.size());
  for (int64_t i = 0; i < fi; ++i)
    for (int64_t o = 0; o < fo; ++o)
      t.data[o * fi + i] = k.data[i * fo + o];
  return t;
}

std::string suffixOf(const std::string& weightName) {
  size_t slash = weightName.rfind('/');
  std::string s = slash == std::string::npos ? weightName : weightName.substr(slash + 1);
  size_t colon = s.rfind(':');
  return colon == std::string::npos ? s : s.substr(0, colon);
}

} // namespace

KerasModel readKerasHdf5InProcess(const std::string& path) {
  uint64_t fileBytes = fileSize(path);
  Handle file = openFile(path);
  if (H5Aexists(file.get(), "model_config") <= 0)
    fail(path, "no 'model_config' attribute: not a Keras model file (weights-only files do not "
               "record the layer order)");
  std::vector<std::string> cfgText = readStrings(file.get(), "model_config", path, "root");
  if (cfgText.size() != 1)
    fail(path, "model_config is not a single string");
  json::Value root;
  try {
    root = json::parse(cfgText[0]);
  } catch (const json::ParseError& e) {
    fail(path, std::string("malformed model_config: ") + e.what());
  }
  hid_t weightsRoot = file.get();
  std::optional<Handle> mw; // full-model files keep weights here, weights-only files at the root
  if (H5Lexists(file.get(), "model_weights", H5P_DEFAULT) > 0) {
    mw.emplace(H5Gopen2(file.get(), "model_weights", H5P_DEFAULT), H5Gclose);
    if (!mw->ok())
      fail(path, "cannot open group 'model_weights'");
    weightsRoot = mw->get();
  }

  KerasModel model;
  int64_t channels = -1;
  int convs = 0, bns = 0, fcs = 0;
  for (const json::Value& layer : layerList(root, path)) {
    if (!layer.isObject())
      fail(path, "model_config layer entry is not an object");
    std::string cls = strOf(layer, "class_name", "");
    const json::Value* cfgp = layer.find("config");
    if (!cfgp || !cfgp->isObject())
      fail(path, "model_config layer without config");
    const json::Value& cfg = *cfgp;
    std::string name = strOf(cfg, "name", "");
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
      fail(path, "model_config layer with an invalid name");
    if (channels < 0) {
      const json::Value* bis = cfg.find("batch_input_shape");
      int64_t c;
      if (bis && bis->isArray() && !bis->items.empty() && bis->items.back().asIndex(c))
        channels = c;
    }
    if (cls == "InputLayer" || cls == "Dropout")
      continue;
    if (cls == "Activation" || cls == "ReLU" || cls == "ELU" || cls == "LeakyReLU") {
      appendActivationLayer(model.spec, cls, cfg, path, name);
      continue;
    }
    // Layers with weights: read the weight list of the layer's group.
    Handle g(H5Gopen2(weightsRoot, name.c_str(), H5P_DEFAULT), H5Gclose);
    if (!g.ok())
      fail(path, "no weight group for layer '" + name + "'");
    std::map<std::string, HostTensor> w;
    for (const std::string& wn : readStrings(g.get(), "weight_names", path, "layer '" + name + "'"))
      w[suffixOf(wn)] = readDataset(g.get(), wn, path, fileBytes);
    auto take = [&](const char* key) -> HostTensor& {
      auto it = w.find(key);
      if (it == w.end())
        fail(path, "layer '" + name + "': no '" + key + "' weight");
      return it->second;
    };
    if (cls == "Conv2D") {
      if (strOf(cfg, "data_format", "channels_last") != "channels_last")
        fail(path, "layer '" + name + "': only channels_last is supported");
      HostTensor& k = take("kernel");
      if (k.shape.size() != 4)
        fail(path, "layer '" + name + "': kernel shape " + shapeString(k.shape) + " is not 4-D");
      int64_t kh = k.shape[0], kw = k.shape[1], ci = k.shape[2], co = k.shape[3];
      if (kh != kw)
        fail(path, "layer '" + name + "': non-square kernels are not supported");
      std::string padding = strOf(cfg, "padding", "valid");
      if (padding != "same" && padding != "valid")
        fail(path, "layer '" + name + "': unsupported padding '" + padding + "'");
      int64_t filters;
      const json::Value* fv = cfg.find("filters");
      if (fv && (!fv->asIndex(filters) || filters != co))
        fail(path, "layer '" + name + "': config says " + fv->text +
                       " filters but the kernel has shape " + shapeString(k.shape));
      if (model.spec.layers.empty() && channels > 0 && channels != ci)
        fail(path, "layer '" + name + "': the model input has " + std::to_string(channels) +
                       " channels but the kernel has shape " + shapeString(k.shape));
      bool useBias = !cfg.find("use_bias") || cfg.find("use_bias")->boolean;
      Layer l = Layer::conv(ci, co, kh, intOf(cfg, "dilation_rate", 1, path, name),
                            intOf(cfg, "strides", 1, path, name),
                            padding == "same" ? Padding::Same : Padding::Valid, useBias);
      std::string prefix = "conv" + std::to_string(convs++);
      model.weights[prefix + ".weight"] = hwioToOihw(k);
      if (useBias)
        model.weights[prefix + ".bias"] = std::move(take("bias"));
      model.spec.layers.push_back(l);
      appendActivation(model.spec, strOf(cfg, "activation", "linear"), path, name);
      channels = co;
    } else if (cls == "Dense") {
      HostTensor& k = take("kernel");
      if (k.shape.size() != 2)
        fail(path, "layer '" + name + "': kernel shape " + shapeString(k.shape) + " is not 2-D");
      int64_t fi = k.shape[0], fo = k.shape[1];
      bool useBias = !cfg.find("use_bias") || cfg.find("use_bias")->boolean;
      std::string prefix = "fc" + std::to_string(fcs++);
      model.weights[prefix + ".weight"] = transposed(k);
      if (useBias)
        model.weights[prefix + ".bias"] = std::move(take("bias"));
      model.spec.layers.push_back(Layer::dense(fi, fo, useBias));
      appendActivation(model.spec, strOf(cfg, "activation", "linear"), path, name);
      channels = fo;
    } else if (cls == "BatchNormalization") {
      HostTensor& mean = take("moving_mean");
      HostTensor& var = take("moving_variance");
      if (mean.shape.size() != 1 || var.shape != mean.shape)
        fail(path, "layer '" + name + "': inconsistent batch-norm statistics");
      int64_t c = mean.shape[0];
      std::string prefix = "bn" + std::to_string(bns++);
      HostTensor ones{{c}, std::vector<float>(static_cast<size_t>(c), 1.0f)};
      HostTensor zeros{{c}, std::vector<float>(static_cast<size_t>(c), 0.0f)};
      model.weights[prefix + ".weight"] = w.count("gamma") ? std::move(w["gamma"]) : ones;
      model.weights[prefix + ".bias"] = w.count("beta") ? std::move(w["beta"]) : zeros;
      model.weights[prefix + ".running_mean"] = std::move(mean);
      model.weights[prefix + ".running_var"] = std::move(var);
      const json::Value* eps = cfg.find("epsilon");
      model.spec.layers.push_back(Layer::batchNorm(
          c, eps && eps->isNumber() ? static_cast<float>(eps->asDouble()) : 1e-3f));
    } else if (cls == "UpSampling2D") {
      model.spec.layers.push_back(Layer::upsample(intOf(cfg, "size", 2, path, name)));
    } else {
      fail(path, "layer '" + name + "': unsupported Keras layer class '" + cls + "'");
    }
  }
  if (model.spec.layers.empty())
    fail(path, "model_config has no layers");
  model.spec.inChannels =
      channels > 0 && !model.spec.layers.empty() && model.spec.layers[0].kind == LayerKind::Conv2d
          ? model.spec.layers[0].in
          : std::max<int64_t>(channels, 1);
  return model;
}

namespace {

struct VisitState {
  std::vector<TensorInfo>* out;
  std::string path;
  std::string error;
};

herr_t visitLink(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  auto* st = static_cast<VisitState*>(data);
  if (info->type != H5L_TYPE_HARD)
    return 0;
  if (st->out->size() >= static_cast<size_t>(kMaxNames)) {
    st->error = "more than 100000 objects";
    return -1;
  }
  Handle obj(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
  if (!obj.ok() || H5Iget_type(obj.get()) != H5I_DATASET)
    return 0;
  Handle ds(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose);
  if (!ds.ok())
    return 0;
  Handle type(H5Dget_type(ds.get()), H5Tclose);
  TensorInfo t;
  t.name = name;
  t.dtype = type.ok() ? typeName(type.get()) : "?";
  try {
    t.shape = datasetShape(ds.get(), st->path, name);
  } catch (const WeightsError& e) {
    st->error = e.what();
    return -1;
  }
  st->out->push_back(std::move(t));
  return 0;
}

} // namespace

std::vector<TensorInfo> inspectHdf5InProcess(const std::string& path) {
  Handle file = openFile(path);
  std::vector<TensorInfo> out;
  VisitState st{&out, path, {}};
  herr_t rc = H5Lvisit(file.get(), H5_INDEX_NAME, H5_ITER_INC, visitLink, &st);
  if (!st.error.empty())
    throw WeightsError(st.error.rfind(path, 0) == 0 ? st.error : path + ": " + st.error);
  if (rc < 0)
    fail(path, "HDF5 could not walk the file (corrupt)");
  return out;
}

} // namespace podm::nn
