// NumPy <-> Tensor conversions (see arrays.h).
#include "python/arrays.h"

#include <atomic>
#include <cstring>

namespace podm::python {

namespace {

std::atomic<int64_t> copies{0};

std::string shapeText(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i)
    s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

} // namespace

int64_t inputCopies() {
  return copies.load();
}

void countInputCopy() {
  copies.fetch_add(1);
}

FloatArray floatArray(py::handle obj, const std::string& what) {
  if (py::isinstance<py::array>(obj)) {
    auto a = py::reinterpret_borrow<py::array>(obj);
    if (a.dtype().equal(py::dtype::of<float>()) && (a.flags() & py::array::c_style))
      return py::reinterpret_borrow<FloatArray>(obj); // viewed in place
  }
  if (py::isinstance<py::str>(obj) || py::isinstance<py::bytes>(obj))
    throw py::type_error(what + ": expected an array of numbers, got a string");
  // An 8- or 16-bit unsigned array with values above 1 is an image as an image library stores it
  // (0..255, 0..65535); read as numbers it would run at 255 or 65535 times the [0, 1] scale every
  // model, noise level and metric assumes, silently. 0/1 masks and kernels of that type are fine.
  if (py::isinstance<py::array>(obj)) {
    auto a = py::reinterpret_borrow<py::array>(obj);
    const py::dtype type = a.dtype();
    if (type.kind() == 'u' && (type.itemsize() == 1 || type.itemsize() == 2) && a.size() > 0 &&
        a.attr("max")().cast<long long>() > 1) {
      const std::string max = type.itemsize() == 1 ? "255" : "65535";
      throw py::type_error(what + ": a uint" + std::to_string(8 * type.itemsize()) +
                           " array with values up to " + max +
                           "; podm takes images as floats in [0, 1]: pass a.astype(np.float32) / " +
                           max + " (podm.read_image scales image files so)");
    }
  }
  py::array converted;
  try {
    converted = FloatArray::ensure(obj);
  } catch (const py::error_already_set&) {
  }
  if (!converted)
    throw py::type_error(what + ": expected an array of numbers, got " +
                         std::string(py::str(py::type::of(obj).attr("__name__"))));
  countInputCopy();
  return py::reinterpret_borrow<FloatArray>(converted);
}

Tensor viewOf(const FloatArray& a, const std::string& what) {
  Shape s;
  switch (a.ndim()) {
  case 2:
    s = {1, 1, a.shape(0), a.shape(1)};
    break;
  case 3:
    s = {1, a.shape(0), a.shape(1), a.shape(2)};
    break;
  case 4:
    s = {a.shape(0), a.shape(1), a.shape(2), a.shape(3)};
    break;
  default:
    throw py::value_error(what + ": expected a 2-d array (H x W), got shape " + shapeText(a));
  }
  if (s.numel() == 0)
    throw py::value_error(what + ": the array is empty, shape " + shapeText(a));
  return Tensor::view(const_cast<float*>(a.data()), s);
}

Tensor planarFromInterleaved(const FloatArray& a) {
  const int64_t h = a.shape(0), w = a.shape(1), c = a.shape(2);
  Tensor t(Shape{1, c, h, w});
  const float* src = a.data();
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < h * w; ++i)
      t.data()[ch * h * w + i] = src[i * c + ch];
  return t;
}

py::array arrayOf(const Tensor& t) {
  // The capsule owns a Tensor sharing the storage, so the array keeps it alive.
  auto* owner = new Tensor(t);
  py::capsule base(owner, [](void* p) { delete static_cast<Tensor*>(p); });
  const Shape& s = t.shape();
  const py::ssize_t f = sizeof(float);
  float* data = owner->data();
  if (s.n == 1 && s.c == 1)
    return py::array_t<float>({s.h, s.w}, {s.w * f, f}, data, base);
  if (s.n == 1 && s.c == 3) // planar storage seen as H x W x 3 through its strides
    return py::array_t<float>({s.h, s.w, py::ssize_t(3)}, {s.w * f, f, s.h * s.w * f}, data, base);
  if (s.c == 1)
    return py::array_t<float>({s.n, s.h, s.w}, {s.h * s.w * f, s.w * f, f}, data, base);
  return py::array_t<float>({s.n, s.c, s.h, s.w}, {s.c * s.h * s.w * f, s.h * s.w * f, s.w * f, f},
                            data, base);
}

Tensor imageTensor(py::handle obj, const std::string& what, FloatArray& keepAlive) {
  keepAlive = floatArray(obj, what);
  if (keepAlive.ndim() == 3 && keepAlive.shape(2) == 3)
    return planarFromInterleaved(keepAlive);
  if (keepAlive.ndim() != 2)
    throw py::value_error(what + ": expected an H x W (gray) or H x W x 3 (RGB) image, got shape " +
                          shapeText(keepAlive));
  return viewOf(keepAlive, what);
}

} // namespace podm::python
