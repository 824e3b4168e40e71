// Keras HDF5 import on files written here with the HDF5 C API in the layout Keras 2 uses
// (model_config JSON attribute, model_weights/<layer>/<layer>/kernel:0, weight_names lists):
// architecture and HWIO → OIHW conversion, the imported network against the reference, hostile
// files, and a deterministic fuzz of byte mutations.
#include "nn_test_util.h"
#include "reference.h"
#include "stdlib/nn/keras_hdf5.h"
#include "stdlib/nn/network.h"

#include <doctest/doctest.h>
#include <hdf5.h>
#include <random>

using namespace podm;
using namespace podm::nn;
using namespace podm::nn::testutil;

namespace {

void stringAttr(hid_t obj, const char* name, const std::vector<std::string>& values, bool scalar,
                bool variable) {
  hid_t type = H5Tcopy(H5T_C_S1);
  size_t width = 1;
  for (const auto& v : values)
    width = std::max(width, v.size() + 1);
  H5Tset_size(type, variable ? H5T_VARIABLE : width);
  hsize_t n = values.size();
  hid_t space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
  hid_t attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (variable) {
    std::vector<const char*> ptrs;
    for (const auto& v : values)
      ptrs.push_back(v.c_str());
    H5Awrite(attr, type, ptrs.data());
  } else {
    std::vector<char> buf(width * values.size(), '\0');
    for (size_t i = 0; i < values.size(); ++i)
      std::copy(values[i].begin(), values[i].end(), buf.begin() + long(i * width));
    H5Awrite(attr, type, buf.data());
  }
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

void dataset(hid_t group, const std::string& name, const std::vector<hsize_t>& dims,
             const std::vector<float>& data) {
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
  hid_t ds = H5Dcreate2(group, name.c_str(), H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data());
  H5Dclose(ds);
  H5Sclose(space);
  H5Pclose(lcpl);
}

std::vector<float> ramp(size_t n, float scale) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = scale * float((i * 37) % 19) - scale * 9;
  return v;
}

const char* kConfig =
    R"({"class_name": "Sequential", "config": [)"
    R"({"class_name": "Conv2D", "config": {"name": "conv2d_8", "batch_input_shape": [null, null, null, 1], )"
    R"("filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last", )"
    R"("dilation_rate": [2, 2], "activation": "linear", "use_bias": true}}, )"
    R"({"class_name": "BatchNormalization", "config": {"name": "batch_normalization_1", "epsilon": 0.001}}, )"
    R"({"class_name": "Activation", "config": {"name": "activation_7", "activation": "relu"}}, )"
    R"({"class_name": "Conv2D", "config": {"name": "conv2d_9", "filters": 1, "kernel_size": [3, 3], )"
    R"("strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], )"
    R"("activation": "linear", "use_bias": true}}]})";

// A small Keras 2.2-style file: conv(1→4, d2) + batch norm + relu + conv(4→1).
void writeKeras(const std::string& path, bool variable, const char* config = kConfig) {
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  stringAttr(f, "model_config", {config}, true, variable);
  stringAttr(f, "keras_version", {"2.2.0"}, true, variable);
  hid_t mw = H5Gcreate2(f, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  stringAttr(mw, "layer_names", {"conv2d_8", "batch_normalization_1", "activation_7", "conv2d_9"},
             false, variable);
  hid_t g = H5Gcreate2(mw, "conv2d_8", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  stringAttr(g, "weight_names", {"conv2d_8/kernel:0", "conv2d_8/bias:0"}, false, variable);
  dataset(g, "conv2d_8/kernel:0", {3, 3, 1, 4}, ramp(36, 0.05f));
  dataset(g, "conv2d_8/bias:0", {4}, {0.1f, -0.2f, 0.3f, 0.0f});
  H5Gclose(g);
  g = H5Gcreate2(mw, "batch_normalization_1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  stringAttr(g, "weight_names",
             {"batch_normalization_1/gamma:0", "batch_normalization_1/beta:0",
              "batch_normalization_1/moving_mean:0", "batch_normalization_1/moving_variance:0"},
             false, variable);
  dataset(g, "batch_normalization_1/gamma:0", {4}, {1.0f, 0.5f, 2.0f, 1.5f});
  dataset(g, "batch_normalization_1/beta:0", {4}, {0.0f, 0.1f, -0.1f, 0.2f});
  dataset(g, "batch_normalization_1/moving_mean:0", {4}, {0.05f, -0.05f, 0.0f, 0.1f});
  dataset(g, "batch_normalization_1/moving_variance:0", {4}, {1.0f, 0.25f, 4.0f, 0.5f});
  H5Gclose(g);
  g = H5Gcreate2(mw, "activation_7", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(g);
  g = H5Gcreate2(mw, "conv2d_9", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  stringAttr(g, "weight_names", {"conv2d_9/kernel:0", "conv2d_9/bias:0"}, false, variable);
  dataset(g, "conv2d_9/kernel:0", {3, 3, 4, 1}, ramp(36, 0.03f));
  dataset(g, "conv2d_9/bias:0", {1}, {0.01f});
  H5Gclose(g);
  H5Gclose(mw);
  H5Fclose(f);
}

std::string importError(const std::string& path) {
  try {
    KerasModel m = readKerasHdf5(path);
    Network net(m.spec);
    net.bind(m.weights);
  } catch (const WeightsError& e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("Keras HDF5 import: architecture, HWIO to OIHW, batch norm, fixed and variable strings") {
  ScratchDir dir;
  for (bool variable : {false, true}) {
    CAPTURE(variable);
    std::string path = dir.file("keras.h5");
    writeKeras(path, variable);
    REQUIRE(isHdf5File(path));
    KerasModel m = readKerasHdf5(path);
    REQUIRE(m.spec.layers.size() == 4);
    CHECK(m.spec.inChannels == 1);
    CHECK(m.spec.layers[0].kind == LayerKind::Conv2d);
    CHECK(m.spec.layers[0].dilation == 2);
    CHECK(m.spec.layers[0].out == 4);
    CHECK(m.spec.layers[1].kind == LayerKind::BatchNorm);
    CHECK(m.spec.layers[2].kind == LayerKind::ReLU);
    CHECK(m.spec.layers[3].in == 4);
    std::vector<float> hwio = ramp(36, 0.03f);
    const HostTensor& w = m.weights.at("conv1.weight");
    CHECK(w.shape == std::vector<int64_t>{1, 4, 3, 3});
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x)
        for (int i = 0; i < 4; ++i)
          REQUIRE(w.data[size_t((i * 3 + y) * 3 + x)] == hwio[size_t((y * 3 + x) * 4 + i)]);
    CHECK(m.weights.at("bn0.running_var").data[2] == 4.0f);

    // The imported network runs and matches the unfolded reference.
    Network net(m.spec);
    net.bind(m.weights);
    Tensor x(Shape{1, 1, 9, 11});
    testref::RefTensor rx{1, 1, 9, 11, {}};
    for (int64_t k = 0; k < x.numel(); ++k) {
      x.data()[k] = float(std::sin(0.3 * double(k)));
      rx.v.push_back(x.data()[k]);
    }
    Tensor y;
    net.forward(x, y);
    testref::RefTensor r = testref::run(m.spec, rx, m.weights);
    double num = 0, den = 0;
    for (size_t k = 0; k < r.v.size(); ++k) {
      num = std::max(num, std::abs(double(y.data()[k]) - r.v[k]));
      den = std::max(den, std::abs(r.v[k]));
    }
    CHECK(num / den < 1e-5);

    std::vector<TensorInfo> info = inspectHdf5(path);
    CHECK(info.size() == 8);
    bool found = false;
    for (const TensorInfo& t : info)
      if (t.name == "model_weights/conv2d_8/conv2d_8/kernel:0") {
        found = true;
        CHECK(t.dtype == "F32");
        CHECK(t.shape == std::vector<int64_t>{3, 3, 1, 4});
      }
    CHECK(found);
    CHECK(loadWeights(path).count("conv0.weight") == 1);
  }
}

TEST_CASE("loadNetwork checks a Keras file's architecture against the network") {
  ScratchDir dir;
  std::string path = dir.file("arch.h5");
  writeKeras(path, false);
  NetworkSpec same;
  same.layers = {Layer::conv(1, 4, 3, 2), Layer::batchNorm(4), Layer::relu(), Layer::conv(4, 1, 3)};
  CHECK_NOTHROW(loadNetwork(same, path));
  NetworkSpec otherDilation = same;
  otherDilation.layers[0].dilation = 1; // same tensor shapes: would bind silently
  try {
    loadNetwork(otherDilation, path);
    FAIL("expected an error");
  } catch (const WeightsError& e) {
    CHECK(std::string(e.what()).find("differs from the network at layer 0: the file has 'conv "
                                     "1->4 k3 d2', the network 'conv 1->4 k3 d1'") !=
          std::string::npos);
  }
  NetworkSpec otherAct = same;
  otherAct.layers[2] = Layer::elu();
  CHECK_THROWS_AS(loadNetwork(otherAct, path), WeightsError);
}

TEST_CASE("hostile or unsupported HDF5 files give clear errors") {
  ScratchDir dir;
  std::string path = dir.file("bad.h5");
  writeBytes(path, "\x89HDF\r\n\x1a\n garbage");
  std::string garbage = importError(path);
  CHECK((garbage.find("HDF5 could not open") != std::string::npos ||
         garbage.find("not an HDF5 file") != std::string::npos));
  writeBytes(path, "not hdf5 at all");
  CHECK(importError(path).find("not an HDF5 file") != std::string::npos);
  CHECK(importError(dir.file("missing.h5")).find("cannot open file") != std::string::npos);

  writeKeras(path, false);
  std::string full = readBytes(path);
  writeBytes(path, full.substr(0, full.size() / 2));
  CHECK(importError(path) != "no error");

  writeKeras(path, false, R"({"class_name": "Sequential", "config": [)");
  CHECK(importError(path).find("malformed model_config") != std::string::npos);
  writeKeras(
      path, false,
      R"({"class_name": "Sequential", "config": [{"class_name": "LSTM", "config": {"name": "conv2d_8"}}]})");
  CHECK(importError(path).find("unsupported Keras layer class 'LSTM'") != std::string::npos);
  // The config declares 3 input channels, the stored kernel has 1: binding names both shapes.
  writeKeras(
      path, false,
      R"({"class_name": "Sequential", "config": [{"class_name": "Conv2D", "config": {"name": "conv2d_8", "batch_input_shape": [null, null, null, 3], "kernel_size": [3, 3], "padding": "same", "activation": "relu"}}]})");
  CHECK(importError(path).find("the model input has 3 channels but the kernel has shape "
                               "[3, 3, 1, 4]") != std::string::npos);
  writeKeras(
      path, false,
      R"({"class_name": "Sequential", "config": [{"class_name": "Conv2D", "config": {"name": "conv2d_8", "filters": 8, "kernel_size": [3, 3], "padding": "same"}}]})");
  CHECK(importError(path).find("config says 8 filters") != std::string::npos);
  writeKeras(
      path, false,
      R"({"class_name": "Sequential", "config": [{"class_name": "Conv2D", "config": {"name": "conv2d_9", "kernel_size": [3, 3], "padding": "causal"}}]})");
  CHECK(importError(path).find("unsupported padding 'causal'") != std::string::npos);
  writeKeras(
      path, false,
      R"({"class_name": "Sequential", "config": [{"class_name": "Conv2D", "config": {"name": "nope"}}]})");
  CHECK(importError(path).find("no weight group for layer 'nope'") != std::string::npos);

  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Fclose(f);
  CHECK(importError(path).find("no 'model_config' attribute") != std::string::npos);
}

TEST_CASE("fuzz: mutated Keras HDF5 files import or fail cleanly") {
  ScratchDir dir;
  std::string base = dir.file("fuzz-base.h5");
  writeKeras(base, false);
  const std::string bytes = readBytes(base);
  std::mt19937 rng(99);
  // Read in batches, as a schedule of weight files is (one reader process per batch; a crash
  // inside a batch makes readKerasHdf5All read its files one by one): a process per file would
  // make this test pay the reader's start-up 4000 times.
  constexpr int kFiles = 2000, kBatch = 50;
  int ok = 0, rejected = 0, crashed = 0;
  for (int first = 0; first < kFiles; first += kBatch) {
    std::vector<std::string> paths;
    for (int iter = first; iter < first + kBatch; ++iter) {
      std::string m = bytes;
      int edits = 1 + int(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        size_t pos = rng() % m.size();
        if (rng() % 8 == 0)
          m.resize(std::max<size_t>(pos, 8));
        else
          m[pos] = char(rng());
      }
      paths.push_back(dir.file("fuzz-" + std::to_string(iter) + ".h5"));
      writeBytes(paths.back(), m);
    }
    std::vector<KerasRead> reads = readKerasHdf5All(paths);
    REQUIRE(reads.size() == paths.size());
    for (size_t i = 0; i < paths.size(); ++i) {
      std::string err = reads[i].error;
      if (reads[i].model) {
        try {
          Network net(reads[i].model->spec);
          net.bind(reads[i].model->weights);
          err = "no error";
        } catch (const WeightsError& e) {
          err = e.what();
        }
      }
      if (err.find("libhdf5 crashed") != std::string::npos)
        ++crashed;
      if (err == "no error")
        ++ok;
      else {
        REQUIRE(err.find(paths[i]) != std::string::npos);
        ++rejected;
      }
    }
    try { // the listing reader on one file of each batch
      inspectHdf5(paths[static_cast<size_t>(rng() % kBatch)]);
    } catch (const WeightsError&) {
    }
  }
  // `crashed` counts files on which libhdf5 itself failed in the isolated reader process.
  MESSAGE("HDF5 fuzz: " << ok << " imported, " << rejected << " rejected (" << crashed
                        << " by a crash of libhdf5 in the reader process)");
  CHECK(rejected > 100);
}
