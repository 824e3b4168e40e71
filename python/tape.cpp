// What podm.torch differentiates through: one recorded forward run of a model (the autodiff Tape
// of `podm train --mode e2e`, on the graph as lowered) and its backward sweep, returning the
// gradients of the inputs and the `param`s by name. Networks run through the trainable provider
// so the tape can take their input gradients; their weights come from the model's files and are
// not trained from Python.
#include "runtime/autodiff/tape.h"

#include "engine/stdlib_prox_provider.h"
#include "engine/trainable_network_provider.h"
#include "ir/attr.h"
#include "python/arrays.h"
#include "python/bindings.h"
#include "python/model.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/ir_types.h"

#include <cstring>
#include <filesystem>
#include <pybind11/stl.h>
#include <span>

namespace podm::python {

namespace {

// The params of the graph at their starting values: the weight file's when it holds them, else
// the model's initial values.
std::map<std::string, Tensor> startParams(const Model::Compiled& c) {
  std::map<std::string, Tensor> params;
  for (const ir::Node& n : c.lowered.nodes()) {
    if (n.op != ir::Op::Param)
      continue;
    const std::string name = n.attrs.getString("name");
    if (auto it = c.params.values.find(name); it != c.params.values.end()) {
      params[name] = it->second.clone();
      continue;
    }
    Tensor t(toShape(n.type));
    std::span<const float> init = n.attrs.getData("value").values();
    std::copy(init.begin(), init.end(), t.data());
    params[name] = t;
  }
  return params;
}

class TapeRun {
public:
  TapeRun(Model& model, const py::dict& inputs, const py::dict& params,
          const std::set<std::string>& noGradient)
      : networks_(model.baseDir()) {
    std::vector<py::object> keepAlive;
    engine::GraphInputs in = model.gather(inputs, keepAlive);
    if (!in.color.empty())
      throw py::value_error("podm.torch takes gray images (H x W or N x H x W); input '" +
                            in.color.front().first + "' is RGB");
    Model::Compiled& c = model.compiled(in);
    std::string error;
    std::optional<std::map<std::string, Tensor>> bound =
        engine::bindGraphInputs(c.lowered, in, nullptr, error);
    if (!bound)
      throw py::type_error("model '" + model.name() + "': " + error);
    for (auto& [name, t] : *bound) // the tape keeps the inputs beyond this call
      inputs_[name] = t.clone();
    params_ = startParams(c);
    for (auto [key, value] : params) {
      const std::string name = py::str(key);
      auto it = params_.find(name);
      if (it == params_.end())
        throw py::type_error("model '" + model.name() + "' has no param '" + name + "'");
      FloatArray a = floatArray(value, "param '" + name + "'");
      if (a.size() != it->second.numel())
        throw py::value_error("param '" + name + "' has " + std::to_string(it->second.numel()) +
                              " values, got " + std::to_string(a.size()));
      std::memcpy(it->second.data(), a.data(), it->second.bytes());
    }
    autodiff::TapeOptions options{&engine::installStdlibProxProvider(), &networks_, noGradient};
    tape_ = std::make_unique<autodiff::Tape>(c.lowered, cpu_, options);
    py::gil_scoped_release released;
    result_ = tape_->forward(inputs_, params_);
  }

  py::array output() const { return arrayOf(result_.outputs.begin()->second); }
  std::string outputName() const { return result_.outputs.begin()->first; }
  py::dict trace() const { return Model::traceOf(result_); }
  py::dict params() const {
    py::dict d;
    for (const auto& [name, t] : params_)
      d[name.c_str()] = arrayOf(t.clone());
    return d;
  }

  py::dict backward(py::handle cotangent) {
    const Tensor& x = result_.outputs.begin()->second;
    FloatArray a = floatArray(cotangent, "cotangent");
    if (a.size() != x.numel())
      throw py::value_error("the cotangent has " + std::to_string(a.size()) +
                            " values; the output " + x.shape().str());
    Tensor dx(x.shape());
    std::memcpy(dx.data(), a.data(), dx.bytes());
    std::map<std::string, Tensor> grads;
    {
      py::gil_scoped_release released;
      grads = tape_->backward({{outputName(), dx}});
    }
    py::dict d;
    for (auto& [name, g] : grads)
      d[name.c_str()] = arrayOf(g);
    return d;
  }

private:
  engine::TrainableNetworkProvider networks_;
  cpu::CpuBackend cpu_;
  std::map<std::string, Tensor> inputs_, params_;
  std::unique_ptr<autodiff::Tape> tape_;
  RunResult result_;
};

} // namespace

void bindTape(py::module_& m) {
  py::class_<TapeRun>(m, "TapeRun")
      .def(py::init<Model&, const py::dict&, const py::dict&, const std::set<std::string>&>(),
           py::arg("model"), py::arg("inputs"), py::arg("params"), py::arg("no_gradient"),
           py::keep_alive<1, 2>())
      .def_property_readonly("output", &TapeRun::output)
      .def_property_readonly("trace", &TapeRun::trace)
      .def_property_readonly("params", &TapeRun::params)
      .def("backward", &TapeRun::backward, py::arg("cotangent"));
  m.def(
      "_start_params",
      [](Model& model, const py::dict& shapes) {
        py::dict d;
        for (auto& [name, t] : startParams(model.compiled(model.shapesOnly(shapes))))
          d[name.c_str()] = arrayOf(t);
        return d;
      },
      py::arg("model"), py::arg("shapes"));
}

} // namespace podm::python
