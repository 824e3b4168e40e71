// The image tools of the CLI for Python: read_image / write_image (the formats of docs/io.md,
// written atomically), degrade (the pipeline of `podm degrade`), psnr / ssim (on Y for colour,
// as `podm run --ref`), kernels and synthetic images, and prox: any registered prox function,
// built-in or from a plugin, applied to an array.
#include "numerics/conv.h"
#include "python/arrays.h"
#include "python/bindings.h"
#include "runtime/io/color.h"
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"
#include "runtime/io/metrics.h"
#include "stdlib/prox/plugin.h"
#include "stdlib/prox/property_check.h"
#include "stdlib/prox/prox.h"

#include <cmath>
#include <optional>
#include <pybind11/stl.h>
#include <sstream>

namespace podm::python {

namespace {

// Colour images are compared on their luma, as every PSNR/SSIM of podm is (docs/io.md).
Tensor lumaOf(py::handle obj, const std::string& what, FloatArray& keep) {
  Tensor t = imageTensor(obj, what, keep);
  return t.shape().c == 3 ? io::luma(t) : t;
}

void requireSameShape(const Tensor& x, const Tensor& ref) {
  if (!(x.shape() == ref.shape()))
    throw py::value_error("the image is " + x.shape().str() + " but the reference is " +
                          ref.shape().str());
}

double quality(py::handle x, py::handle ref, int shave, bool ssim) {
  FloatArray kx, kr;
  Tensor a = lumaOf(x, "x", kx), b = lumaOf(ref, "ref", kr);
  requireSameShape(a, b);
  if (shave < 0 || 2 * int64_t(shave) >= a.shape().h || 2 * int64_t(shave) >= a.shape().w)
    throw py::value_error("shave " + std::to_string(shave) + " leaves nothing of the " +
                          a.shape().str() + " image");
  return ssim ? io::ssim(a, b, shave) : io::psnr(a, b, shave);
}

// The kernel of `blur`: an array, or a spec "gaussian:SIZE:SIGMA" / "motion:LENGTH:ANGLE".
Tensor kernelOf(py::handle blur, FloatArray& keep) {
  if (py::isinstance<py::str>(blur)) {
    try {
      return io::kernelFromSpec(py::cast<std::string>(blur));
    } catch (const std::invalid_argument& e) {
      throw py::value_error(std::string("blur: ") + e.what());
    }
  }
  keep = floatArray(blur, "blur");
  Tensor k = viewOf(keep, "blur");
  if (k.shape().c != 1 || k.shape().n != 1)
    throw py::value_error("blur: expected a 2-d kernel, got " + k.shape().str());
  return k;
}

py::array degradeImage(py::handle image, py::handle blur, const std::string& kernelAs,
                       const std::string& boundary, int decimate, int bicubic, py::handle mask,
                       double poisson, double noise, uint64_t seed) {
  FloatArray keepImage, keepKernel, keepMask;
  Tensor x = imageTensor(image, "image", keepImage);
  io::Degradation d;
  if (!blur.is_none())
    d.kernel = kernelOf(blur, keepKernel);
  std::optional<numerics::KernelOrientation> orientation =
      numerics::parseKernelOrientation(kernelAs);
  if (!orientation)
    throw py::value_error("kernel_as must be 'convolution' or 'correlation', got '" + kernelAs +
                          "'");
  d.orientation = *orientation;
  std::optional<numerics::Boundary> b = numerics::parseBoundary(boundary);
  if (!b)
    throw py::value_error("boundary must be 'periodic', 'symmetric' or 'zero', got '" + boundary +
                          "'");
  d.boundary = *b;
  if (decimate && bicubic)
    throw py::value_error("give decimate or bicubic, not both");
  if (decimate < 0 || bicubic < 0)
    throw py::value_error("decimate and bicubic take a positive scale");
  if (decimate > 1 || bicubic > 1) {
    d.downscale =
        decimate ? io::Degradation::Downscale::Decimate : io::Degradation::Downscale::Bicubic;
    d.scale = decimate ? decimate : bicubic;
    if (x.shape().h % d.scale || x.shape().w % d.scale)
      throw py::value_error("the image (" + x.shape().str() + ") is not a multiple of the scale " +
                            std::to_string(d.scale) + "; crop it first with podm.modcrop");
  }
  if (py::isinstance<py::float_>(mask) || py::isinstance<py::int_>(mask)) {
    d.maskFraction = py::cast<double>(mask);
    if (!(d.maskFraction > 0 && d.maskFraction <= 1))
      throw py::value_error("mask: a fraction of kept pixels must be in (0, 1]");
  } else if (!mask.is_none()) {
    keepMask = floatArray(mask, "mask");
    d.mask = viewOf(keepMask, "mask");
  }
  if (!(noise >= 0) || !(poisson >= 0))
    throw py::value_error("noise and poisson must be >= 0");
  d.noise255 = noise;
  d.poissonPeak = poisson;
  d.seed = seed;
  try {
    return arrayOf(io::degrade(x, d));
  } catch (const std::exception& e) {
    throw py::value_error(e.what());
  }
}

py::array applyProx(const std::string& name, py::handle x, double gamma, const py::dict& kwargs) {
  stdlib::ProxArgs args;
  for (auto [key, value] : kwargs)
    args[py::str(key)] = py::cast<double>(value);
  if (!(gamma > 0))
    throw py::value_error("prox: gamma must be > 0");
  std::unique_ptr<stdlib::ProxFunction> f;
  try {
    f = stdlib::proxRegistry().make(name, args);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  FloatArray keep = floatArray(x, "x");
  Tensor v = viewOf(keep, "x");
  Tensor out(v.shape());
  {
    py::gil_scoped_release released;
    f->prox(v, static_cast<float>(gamma), out);
  }
  return arrayOf(out);
}

// `podm test-prox builtin NAME --arg ...` from Python: (passed, the report the command prints).
py::tuple checkProx(const std::string& name, const py::dict& kwargs) {
  const stdlib::ProxEntry* entry = stdlib::proxRegistry().find(name);
  if (!entry)
    throw py::value_error("no prox named '" + name + "'; see podm.prox_names()");
  stdlib::ProxArgs args;
  for (auto [key, value] : kwargs)
    args[py::str(key)] = py::cast<double>(value);
  if (std::string problem = stdlib::proxArgumentError(*entry, args); !problem.empty())
    throw py::value_error(problem);
  std::ostringstream report;
  int failed = 0;
  {
    py::gil_scoped_release released;
    failed = stdlib::runProxPropertyTests(*entry, args, report);
  }
  return py::make_tuple(failed == 0, report.str());
}

py::list proxCatalogue() {
  py::list list;
  for (const stdlib::ProxEntry* e : stdlib::proxRegistry().all()) {
    py::dict item, params;
    item["name"] = e->name;
    item["summary"] = e->summary;
    for (const stdlib::ProxParam& p : e->params) {
      py::dict param;
      param["required"] = p.required;
      param["default"] = std::isnan(p.defaultValue) ? py::object(py::none())
                                                    : py::object(py::float_(p.defaultValue));
      param["min"] = p.min;
      param["max"] = p.max;
      param["doc"] = p.doc;
      params[p.name.c_str()] = param;
    }
    item["params"] = params;
    list.append(item);
  }
  return list;
}

} // namespace

void bindTools(py::module_& m) {
  m.def(
      "read_image",
      [](const std::string& path) {
        try {
          return arrayOf(io::readImage(path));
        } catch (const std::exception& e) {
          throw py::value_error(e.what()); // names the file and the problem
        }
      },
      py::arg("path"));
  m.def(
      "write_image",
      [](const std::string& path, py::handle image, int bitDepth) {
        FloatArray keep;
        Tensor t = imageTensor(image, "image", keep);
        try {
          io::requireFinite(t, "image");
          io::writeImage(path, t, bitDepth);
        } catch (const std::exception& e) {
          throw py::value_error(e.what());
        }
      },
      py::arg("path"), py::arg("image"), py::arg("bit_depth") = 8);
  m.def(
      "psnr", [](py::handle x, py::handle ref, int shave) { return quality(x, ref, shave, false); },
      py::arg("x"), py::arg("ref"), py::arg("shave") = 0);
  m.def(
      "ssim", [](py::handle x, py::handle ref, int shave) { return quality(x, ref, shave, true); },
      py::arg("x"), py::arg("ref"), py::arg("shave") = 0);
  m.def("degrade", &degradeImage, py::arg("image"), py::arg("blur") = py::none(),
        py::arg("kernel_as") = "convolution", py::arg("boundary") = "periodic",
        py::arg("decimate") = 0, py::arg("bicubic") = 0, py::arg("mask") = py::none(),
        py::arg("poisson") = 0.0, py::arg("noise") = 0.0, py::arg("seed") = 0);
  m.def(
      "modcrop",
      [](py::handle image, int s) {
        FloatArray keep;
        if (s < 1)
          throw py::value_error("modcrop: the scale must be >= 1");
        return arrayOf(io::modcrop(imageTensor(image, "image", keep), s));
      },
      py::arg("image"), py::arg("scale"));
  m.def(
      "quantize",
      [](py::handle image, int bits) {
        FloatArray keep;
        if (bits < 1 || bits > 16)
          throw py::value_error("quantize: bits must be in [1, 16]");
        return arrayOf(io::quantize(imageTensor(image, "image", keep), bits));
      },
      py::arg("image"), py::arg("bits") = 8);
  m.def(
      "kernel",
      [](const std::string& spec) {
        try {
          return arrayOf(io::kernelFromSpec(spec));
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
      },
      py::arg("spec"));
  m.def(
      "synthetic_image",
      [](const std::string& name, int64_t h, int64_t w, uint64_t seed) {
        if (h < 1 || w < 1)
          throw py::value_error("synthetic_image: the size must be positive");
        try {
          return arrayOf(io::syntheticImage(name, h, w, seed));
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
      },
      py::arg("name") = "scene", py::arg("h") = 256, py::arg("w") = 256, py::arg("seed") = 1);
  m.def("_prox", &applyProx);
  m.def("_check_prox", &checkProx);
  m.def("prox_catalogue", &proxCatalogue, "Every registered prox with its arguments");
  m.def(
      "load_plugin",
      [](const std::string& path) {
        std::string error;
        if (!stdlib::loadProxPlugin(path, stdlib::proxRegistry(), error))
          throw py::value_error(error);
      },
      py::arg("path"));
}

} // namespace podm::python
