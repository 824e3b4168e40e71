// The extension module `podm._podm`: the engine bound for Python (docs/python.md). The package
// python/podm wraps it with the Pythonic surface (keyword inputs, batches, podm.torch).
#include "engine/allocator_policy.h"
#include "python/arrays.h"
#include "python/bindings.h"

PYBIND11_MODULE(_podm, m) {
  m.doc() = "podm: optimization-derived deep models, compiled (the C++ engine)";
  m.attr("__version__") = PODM_VERSION; // the podm command's --version
  podm::engine::useImageSizedHeapPolicy();
  podm::python::bindModel(m);
  podm::python::bindTools(m);
  podm::python::bindTape(m);
  m.def("_input_copies", &podm::python::inputCopies,
        "How many input arrays were converted (not float32 C-contiguous) since import");
}
