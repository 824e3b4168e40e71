// NumPy arrays <-> podm tensors at the Python boundary. An input array that is already float32 and
// C-contiguous is viewed in place (Tensor::view: the executor reads it straight from NumPy's
// memory); anything else is converted once, and the conversion is counted so tests can tell. A
// result tensor becomes an array that owns the tensor's storage: nothing is copied out.
#pragma once

#include "runtime/tensor.h"

#include <cstdint>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <string>

namespace podm::python {

namespace py = pybind11;

// A float32 C-contiguous array; forcecast lets other dtypes convert into one.
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// A float32 C-contiguous array over `obj` (the array itself when it already is one, else a
// converted copy, counted). Throws py::type_error naming `what` when obj is not numeric.
FloatArray floatArray(py::handle obj, const std::string& what);

// The tensor seen through `a` (1x1xHxW for H x W, 1xCxHxW for C x H x W, NxCxHxW for 4-d); `a`
// must outlive it. Throws py::value_error naming `what` for other ranks or empty arrays.
Tensor viewOf(const FloatArray& a, const std::string& what);

// An H x W x 3 array as a 1x3xHxW tensor (a copy: NumPy's interleaved channels are not planar).
Tensor planarFromInterleaved(const FloatArray& a);

// The array for a tensor, sharing its storage: H x W for one plane, H x W x 3 for an RGB image,
// otherwise the tensor's own N x C x H x W with the leading 1s dropped.
py::array arrayOf(const Tensor& t);

// An image array (H x W or H x W x 3) as the 1xCxHxW tensor the io functions take: a view when
// gray and contiguous float32, else a copy.
Tensor imageTensor(py::handle obj, const std::string& what, FloatArray& keepAlive);

// Conversions made because an input was not float32 C-contiguous (the no-copy check).
int64_t inputCopies();
void countInputCopy();

} // namespace podm::python
