// `podm weights inspect FILE...`: lists the tensors of weight files (safetensors, Keras HDF5)
// with their stored dtypes and shapes, and for Keras files the architecture and the podm tensor
// names the import produces, so a user can see why a file does or does not bind to a network.
#include "stdlib/nn/weights.h"

#include "cli/verbs.h"
#include "stdlib/nn/keras_hdf5.h"
#include "stdlib/nn/safetensors.h"

#include <iostream>

namespace podm::cli {

namespace {

void printTable(const std::vector<nn::TensorInfo>& tensors) {
  size_t width = 4;
  for (const auto& t : tensors)
    width = std::max(width, t.name.size());
  for (const auto& t : tensors)
    std::cout << "  " << t.name << std::string(width + 2 - t.name.size(), ' ') << t.dtype
              << std::string(t.dtype.size() < 7 ? 7 - t.dtype.size() : 1, ' ')
              << nn::shapeString(t.shape) << "\n";
}

int inspect(const std::string& path) {
  try {
    if (nn::isHdf5File(path)) {
      std::vector<nn::TensorInfo> raw = nn::inspectHdf5(path);
      std::cout << path << ": HDF5, " << raw.size() << " datasets\n";
      printTable(raw);
      nn::KerasModel m;
      try {
        m = nn::readKerasHdf5(path);
      } catch (const nn::WeightsError& e) {
        std::cout << "not importable as a Keras model: " << e.what() << "\n";
        return 0;
      }
      std::cout << "Keras model, imported as (" << m.spec.layers.size() << " layers):\n"
                << m.spec.str() << "podm tensors:\n";
      std::vector<nn::TensorInfo> named;
      for (const auto& [name, t] : m.weights)
        named.push_back({name, "F32", t.shape});
      printTable(named);
    } else {
      std::vector<nn::TensorInfo> t = nn::inspectSafetensors(path);
      std::cout << path << ": safetensors, " << t.size() << " tensors\n";
      printTable(t);
      auto meta = nn::readSafetensors(path).metadata;
      for (const auto& [k, v] : meta)
        std::cout << "  metadata " << k << " = " << v << "\n";
    }
  } catch (const nn::WeightsError& e) {
    std::cerr << "podm weights: error: " << e.what() << "\n";
    return kModelError;
  }
  return kOk;
}

} // namespace

int runWeights(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "inspect")
    return usageError("weights", "expected 'inspect FILE...'");
  if (args.size() < 2)
    return usageError("weights", "no weight file given");
  int rc = kOk;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i].rfind("-", 0) == 0)
      return usageError("weights", "unknown option '" + args[i] + "'");
    rc = std::max(rc, inspect(args[i]));
  }
  return rc;
}

} // namespace podm::cli
