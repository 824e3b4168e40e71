// The parts of the extension module `podm._podm`, each binding one area into the module (one file
// each): compiled models and their runs, image tools (I/O, degradation, metrics, prox calls), and
// the autodiff tape behind podm.torch.
#pragma once

#include "frontend/ast/diagnostics.h"

#include <pybind11/pybind11.h>
#include <string>
#include <vector>

namespace podm::python {

namespace py = pybind11;

void bindModel(py::module_& m);
void bindTools(py::module_& m);
void bindTape(py::module_& m);

// Raises podm.ModelError (python/podm/errors.py) for these diagnostics of `engine`, the errors
// first; `fallback` is the message when there is no diagnostic.
[[noreturn]] void raiseModelError(const DiagnosticEngine& engine,
                                  const std::vector<Diagnostic>& diagnostics,
                                  const std::string& fallback = "");

} // namespace podm::python
