// The compiled model behind `podm.compile` (python/model.cpp): the checked model, one lowered and
// optimized graph with its executor per set of input shapes, and the providers its runs share.
#pragma once

#include "engine/device.h"
#include "engine/graph_build.h"
#include "engine/model_loader.h"
#include "engine/network_provider.h"
#include "engine/param_binding.h"
#include "runtime/executor.h"

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <string>
#include <vector>

namespace podm::python {

namespace py = pybind11;

class Model {
public:
  Model(engine::LoadedModel loaded, std::filesystem::path baseDir);

  struct Compiled {
    ir::Graph lowered, graph; // as lowered (what the tape differentiates) and optimized
    std::vector<std::string> notes;
    engine::ParamValues params; // from the nets' weight files
    std::unique_ptr<Executor> executor;
  };

  const std::string& name() const { return loaded_.ast->name; }
  const std::filesystem::path& baseDir() const { return baseDir_; }
  py::list inputDescriptions() const;

  // The model's inputs from a dict of arrays and numbers (RGB images split into Y and chroma);
  // `keepAlive` holds the arrays the tensors view. Raises TypeError/ValueError naming the input.
  engine::GraphInputs gather(const py::dict& given, std::vector<py::object>& keepAlive) const;
  // Inputs with only their shapes, {name: (h, w)}: for compiling ahead of a run.
  engine::GraphInputs shapesOnly(const py::dict& shapes) const;
  // The backends of a device choice ("cpu", "cuda", "auto"), made on first use: ValueError for
  // another name, RuntimeError saying why when "cuda" finds no GPU it can use.
  engine::RunDevice& device(const std::string& name);
  // (the device that runs, "cpu" or "cuda"; why "auto" stayed on the CPU, or "")
  py::tuple deviceInfo(const std::string& name);
  // The graph for these inputs' shapes on that device, lowered on first use; raises
  // podm.ModelError when the model does not lower for them.
  Compiled& compiled(const engine::GraphInputs& in, const std::string& device = "cpu");

  std::vector<std::string> prepare(const py::dict& shapes);        // returns the lowering's notes
  py::tuple run(const py::dict& given, const std::string& device); // (result array, trace dict)
  // A run with `ref` (an image array) as the model's `ref` input when it declares one, scored
  // against it as `podm run --ref` and `podm eval` score: on Y, with the border shave of
  // engine::qualityShave (`shave` < 0: the convention) and the best shift within +-align in
  // steps of alignStep pixels (io::measureAligned).
  py::dict score(const py::dict& given, py::handle ref, int shave, int align, double alignStep,
                 const std::string& device);
  // The same graph run `repeats` times from C++ on the bound inputs: the baseline of the
  // Python overhead benchmark.
  double nativeSeconds(const py::dict& given, int repeats);
  std::string emit(const py::dict& shapes, const std::string& stage);

  static py::dict traceOf(const RunResult& r);

private:
  const ast::Decl* input(const std::string& name) const;
  std::string inputList() const;
  static std::string shapeKey(const engine::GraphInputs& in);
  // Binds the inputs (`ref` as the model's ref input when it has one) and runs the graph
  // `repeats` times with the GIL released; the last run's result.
  RunResult execute(Compiled& c, engine::GraphInputs& in, const Tensor* ref, int repeats = 1);
  static py::array resultArray(const Tensor& x, const engine::GraphInputs& in);

  engine::LoadedModel loaded_;
  std::filesystem::path baseDir_;
  std::vector<const ast::Decl*> inputs_;
  engine::StdlibNetworkProvider networks_;
  std::map<std::string, std::unique_ptr<engine::RunDevice>> devices_; // outlive the executors
  std::map<std::string, std::unique_ptr<Compiled>> cache_;            // by device and shapes
  std::mutex running_;
};

} // namespace podm::python
