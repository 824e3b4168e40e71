// `podm._podm.Model`: a model file loaded and checked once, lowered and optimized for each set of
// input shapes it is run on (each graph with its executor, cached), and run with NumPy arrays.
// The GIL is released while a graph runs; one model runs one graph at a time (its network
// operators are not thread-safe), so concurrent calls on one model wait for each other.
#include "python/model.h"

#include "engine/fft_wisdom.h"
#include "engine/graph_build.h"
#include "engine/model_loader.h"
#include "engine/network_provider.h"
#include "engine/param_binding.h"
#include "engine/stdlib_prox_provider.h"
#include "ir/attr.h"
#include "ir/printer.h"
#include "python/arrays.h"
#include "python/bindings.h"
#include "runtime/io/color.h"
#include "runtime/io/image.h"
#include "runtime/io/metrics.h"
#include "stdlib/prox/plugin.h"
#include "stdlib/prox/prox.h"

#include <chrono>
#include <filesystem>
#include <pybind11/stl.h>
#include <sstream>

namespace podm::python {

void raiseModelError(const DiagnosticEngine& engine, const std::vector<Diagnostic>& diagnostics,
                     const std::string& fallback) {
  py::object cls = py::module_::import("podm.errors").attr("ModelError");
  py::list items;
  std::string text;
  for (const Diagnostic& d : diagnostics) {
    const std::string rendered = engine.render(d);
    text += rendered;
    const size_t header = rendered.find('\n');
    py::dict item;
    item["severity"] = d.severity == Severity::Error     ? "error"
                       : d.severity == Severity::Warning ? "warning"
                                                         : "note";
    item["file"] = engine.file().path();
    item["line"] = d.loc.line;
    item["column"] = d.loc.col;
    item["message"] = d.message;
    item["caret"] = header == std::string::npos ? "" : rendered.substr(header + 1);
    items.append(item);
  }
  if (text.empty())
    text = fallback;
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  py::object error = cls(text, items);
  PyErr_SetObject(cls.ptr(), error.ptr());
  throw py::error_already_set();
}

namespace {

// The errors first (the exception's file/line/column are the first error's), then the rest.
std::vector<Diagnostic> errorsFirst(const DiagnosticEngine& diags) {
  std::vector<Diagnostic> sorted;
  for (const Diagnostic& d : diags.all())
    if (d.severity == Severity::Error)
      sorted.push_back(d);
  for (const Diagnostic& d : diags.all())
    if (d.severity != Severity::Error)
      sorted.push_back(d);
  return sorted;
}

// Every weight file the graph's networks read exists: a missing one would otherwise start from
// random weights without a word.
void requireWeightFiles(const ir::Graph& g, const std::filesystem::path& baseDir) {
  for (const ir::Node& n : g.nodes()) {
    if (n.op != ir::Op::Network)
      continue;
    for (const std::string& file : ir::splitWeightPaths(n.attrs.getString("weights"))) {
      std::filesystem::path p(file);
      if (p.is_relative())
        p = baseDir / p;
      if (!std::filesystem::is_regular_file(p))
        throw py::value_error("net " + n.attrs.getString("net") + ": weight file '" + file +
                              "' is not found (looked for " + p.string() +
                              "); pass weights_dir= to podm.compile");
    }
  }
}

engine::FftWisdomFile& wisdom() {
  static engine::FftWisdomFile file("python");
  return file;
}

} // namespace

Model::Model(engine::LoadedModel loaded, std::filesystem::path baseDir)
    : loaded_(std::move(loaded)), baseDir_(std::move(baseDir)), networks_(baseDir_) {
  engine::installStdlibProxProvider();
  for (const ast::Decl& d : loaded_.ast->decls)
    if (d.kind == ast::DeclKind::Input)
      inputs_.push_back(&d);
}

const ast::Decl* Model::input(const std::string& name) const {
  for (const ast::Decl* d : inputs_)
    if (d->name == name)
      return d;
  return nullptr;
}

std::string Model::inputList() const {
  std::string names;
  for (const ast::Decl* d : inputs_)
    names += (names.empty() ? "" : ", ") + d->name + " (" + d->type.name + ")";
  return names;
}

engine::GraphInputs Model::gather(const py::dict& given, std::vector<py::object>& keepAlive) const {
  engine::GraphInputs in;
  for (auto [key, value] : given) {
    const std::string name = py::str(key);
    const ast::Decl* d = input(name);
    if (!d)
      throw py::type_error("model '" + loaded_.ast->name + "' has no input '" + name +
                           "'; its inputs: " + inputList());
    if (value.is_none())
      continue; // an optional input left out
    const std::string what = "input '" + name + "'";
    if (d->type.name == "scalar") {
      if (!py::isinstance<py::float_>(value) && !py::isinstance<py::int_>(value) &&
          !py::hasattr(value, "__float__"))
        throw py::type_error(what + " is a scalar: expected a number");
      in.scalars[name] = py::cast<double>(value);
      continue;
    }
    FloatArray array;
    Tensor t = d->type.name == "kernel" ? viewOf(array = floatArray(value, what), what)
                                        : imageTensor(value, what, array);
    keepAlive.push_back(array);
    if (t.shape().n != 1 || (t.shape().c != 1 && t.shape().c != 3) ||
        (d->type.name == "kernel" && t.shape().c != 1))
      throw py::value_error(what + ": expected " +
                            (d->type.name == "kernel" ? std::string("a 2-d kernel (H x W)")
                                                      : "an H x W or H x W x 3 image") +
                            ", got " + t.shape().str());
    try {
      io::requireFinite(t, what);
    } catch (const std::exception& e) {
      throw py::value_error(e.what());
    }
    if (t.shape().c == 3) {
      io::LumaSplit split = io::splitLuma(t);
      t = split.y;
      in.color.emplace_back(name, std::move(split));
    }
    in.tensors[name] = t;
    in.shapes[name] = {t.shape().h, t.shape().w};
  }
  engine::completeModelInputs(*loaded_.ast, in, nullptr);
  for (const ast::Decl* d : inputs_)
    if (!d->optional && !in.tensors.count(d->name) && !in.scalars.count(d->name))
      throw py::type_error("model '" + loaded_.ast->name + "': input '" + d->name + "' (" +
                           d->type.name + ") is not given");
  // Two arrays swapped in the call: a kernel larger than an image cannot be meant.
  for (const ast::Decl* k : inputs_)
    for (const ast::Decl* i : inputs_) {
      if (k->type.name != "kernel" || i->type.name != "image" || !in.tensors.count(k->name) ||
          !in.tensors.count(i->name))
        continue;
      const Shape &ks = in.tensors[k->name].shape(), &is = in.tensors[i->name].shape();
      if (ks.h > is.h || ks.w > is.w)
        throw py::value_error("input '" + k->name + "': the kernel (" + std::to_string(ks.h) + "x" +
                              std::to_string(ks.w) + ") is larger than the image '" + i->name +
                              "' (" + std::to_string(is.h) + "x" + std::to_string(is.w) +
                              "); were the two swapped?");
    }
  return in;
}

std::string Model::shapeKey(const engine::GraphInputs& in) {
  std::string key;
  for (const auto& [name, s] : in.shapes)
    key += name + "=" + std::to_string(s.h) + "x" + std::to_string(s.w) + ";";
  return key;
}

engine::RunDevice& Model::device(const std::string& name) {
  if (auto it = devices_.find(name); it != devices_.end())
    return *it->second;
  engine::DeviceKind kind;
  if (!engine::parseDevice(name, kind))
    throw py::value_error("device must be 'cpu', 'cuda' or 'auto', not '" + name + "'");
  auto made = std::make_unique<engine::RunDevice>(kind, "device"); // runtime_error for cuda
  return *devices_.emplace(name, std::move(made)).first->second;
}

py::tuple Model::deviceInfo(const std::string& name) {
  engine::RunDevice& d = device(name);
  return py::make_tuple(d.name(), d.note());
}

Model::Compiled& Model::compiled(const engine::GraphInputs& in, const std::string& deviceName) {
  engine::RunDevice& backends = device(deviceName);
  const std::string key = deviceName + "|" + shapeKey(in);
  if (auto it = cache_.find(key); it != cache_.end())
    return *it->second;
  Diagnostic failure;
  std::optional<lower::LowerResult> lowered = engine::lowerLoaded(loaded_, in, &failure);
  if (!lowered)
    raiseModelError(*loaded_.diags, {failure});
  auto c = std::make_unique<Compiled>();
  c->notes = lowered->notes;
  c->lowered = lowered->graph;
  c->graph = engine::optimizeGraph(lowered->graph, nullptr);
  requireWeightFiles(c->graph, baseDir_);
  try {
    c->params = engine::paramValuesFromWeights(c->graph, baseDir_);
    ExecutorOptions options{.network = &networks_};
    c->executor =
        std::make_unique<Executor>(c->graph, backends.primary(), backends.fallback(), options);
  } catch (const std::exception& e) {
    throw std::runtime_error(loaded_.file->path() + ": " + e.what());
  }
  wisdom().save();
  return *cache_.emplace(key, std::move(c)).first->second;
}

engine::GraphInputs Model::shapesOnly(const py::dict& shapes) const {
  engine::GraphInputs in;
  for (auto [key, value] : shapes) {
    const std::string name = py::str(key);
    if (!input(name))
      throw py::type_error("shapes: model '" + loaded_.ast->name + "' has no input '" + name +
                           "'; its inputs: " + inputList());
    auto hw = py::cast<std::pair<int64_t, int64_t>>(value);
    in.shapes[name] = {hw.first, hw.second};
  }
  engine::completeModelInputs(*loaded_.ast, in, nullptr);
  return in;
}

std::vector<std::string> Model::prepare(const py::dict& shapes) {
  return compiled(shapesOnly(shapes)).notes;
}

py::dict Model::traceOf(const RunResult& r) {
  py::dict trace;
  for (size_t i = 0; i < r.monitors.names.size(); ++i) {
    const std::string& name = r.monitors.names[i];
    if (name.rfind("prop1.", 0) == 0) // the Proposition 1 bookkeeping, not a figure
      continue;
    const std::vector<float>& v = r.monitors.values[i];
    if (name == "branch") {
      py::array_t<bool> accepted(static_cast<py::ssize_t>(v.size()));
      for (size_t l = 0; l < v.size(); ++l)
        accepted.mutable_at(l) = v[l] != 0;
      trace[name.c_str()] = accepted;
    } else {
      trace[name.c_str()] = py::array_t<float>(static_cast<py::ssize_t>(v.size()), v.data());
    }
  }
  trace["time"] =
      py::array_t<double>(static_cast<py::ssize_t>(r.stageSeconds.size()), r.stageSeconds.data());
  return trace;
}

RunResult Model::execute(Compiled& c, engine::GraphInputs& in, const Tensor* ref, int repeats) {
  std::string error;
  std::optional<std::map<std::string, Tensor>> bound =
      engine::bindGraphInputs(c.graph, in, ref, error);
  if (!bound)
    throw py::type_error("model '" + loaded_.ast->name + "': " + error);
  py::gil_scoped_release released;
  std::lock_guard<std::mutex> lock(running_);
  RunResult r;
  for (int i = 0; i < repeats; ++i)
    r = c.executor->run(*bound, c.params.values);
  return r;
}

// An RGB observation: the model restored its Y; the colour comes back from its chroma.
py::array Model::resultArray(const Tensor& x, const engine::GraphInputs& in) {
  const bool color = !in.color.empty() && x.shape().c == 1;
  return arrayOf(color ? io::mergeLuma(x, in.color.front().second) : x);
}

py::tuple Model::run(const py::dict& given, const std::string& device) {
  std::vector<py::object> keepAlive;
  engine::GraphInputs in = gather(given, keepAlive);
  RunResult r = execute(compiled(in, device), in, nullptr);
  return py::make_tuple(resultArray(r.outputs.begin()->second, in), traceOf(r));
}

py::dict Model::score(const py::dict& given, py::handle ref, int shave, int align, double alignStep,
                      const std::string& device) {
  const std::optional<int> subdivisions = io::alignSubdivisions(alignStep);
  if (!subdivisions)
    throw py::value_error("align_step must be 1, 0.5, 0.25, ... (1/n pixel, n up to 16), not " +
                          std::to_string(alignStep));
  std::vector<py::object> keepAlive;
  engine::GraphInputs in = gather(given, keepAlive);
  FloatArray refArray;
  Tensor refY = imageTensor(ref, "ref", refArray);
  if (refY.shape().c == 3)
    refY = io::luma(refY);
  engine::completeModelInputs(*loaded_.ast, in, &refY);
  Compiled& c = compiled(in, device);
  RunResult r = execute(c, in, &refY);
  const Tensor& x = r.outputs.begin()->second;
  if (!(x.shape() == refY.shape()))
    throw py::value_error("the result is " + x.shape().str() + " but the reference is " +
                          refY.shape().str());
  const int used = engine::qualityShave(c.graph, x.shape(), in.tensors,
                                        engine::nonImageInputs(*loaded_.ast), shave);
  const int64_t border = io::alignedBorder(used, align);
  if (align < 0 || 2 * border >= x.shape().h || 2 * border >= x.shape().w)
    throw py::value_error("the shave " + std::to_string(used) + " and alignment " +
                          std::to_string(align) + " leave nothing of the " + x.shape().str() +
                          " result");
  const io::AlignedQuality q = io::measureAligned(x, refY, used, align, *subdivisions);
  py::dict d;
  d["psnr"] = q.psnr;
  d["ssim"] = q.ssim;
  d["shave"] = used;
  d["shift"] = py::make_tuple(q.dy, q.dx);
  d["stages"] = r.stages;
  d["x"] = resultArray(x, in);
  d["trace"] = traceOf(r);
  return d;
}

double Model::nativeSeconds(const py::dict& given, int repeats) {
  std::vector<py::object> keepAlive;
  engine::GraphInputs in = gather(given, keepAlive);
  Compiled& c = compiled(in);
  const auto start = std::chrono::steady_clock::now();
  execute(c, in, nullptr, repeats);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string Model::emit(const py::dict& shapes, const std::string& stage) {
  Compiled& c = compiled(shapesOnly(shapes));
  if (stage == "graph")
    return ir::dump(c.lowered);
  if (stage == "graph-opt")
    return ir::dump(c.graph);
  throw py::value_error("emit: expected 'graph' or 'graph-opt', got '" + stage + "'");
}

py::list Model::inputDescriptions() const {
  py::list list;
  for (const ast::Decl* d : inputs_) {
    py::dict item;
    item["name"] = d->name;
    item["type"] = d->type.name;
    item["optional"] = d->optional;
    if (d->value && d->value->kind == ast::ExprKind::Number)
      item["default"] = d->value->number;
    else
      item["default"] = py::none();
    list.append(item);
  }
  return list;
}

namespace {

std::unique_ptr<Model>
compileModel(const std::optional<std::string>& path, const std::optional<std::string>& source,
             const std::vector<std::string>& plugins, const std::optional<std::string>& weightsDir,
             const std::map<std::string, double>& consts, const std::string& name) {
  if (path.has_value() == source.has_value())
    throw py::type_error("compile: give either a model file path or source=TEXT");
  for (const std::string& plugin : plugins) {
    std::string error;
    if (!stdlib::loadProxPlugin(plugin, stdlib::proxRegistry(), error))
      throw py::value_error(error);
  }
  std::string text, error;
  if (path && !readFile(*path, text, error))
    throw py::value_error(error); // FileNotFoundError would hide which problem it was
  std::vector<engine::ConstOverride> overrides;
  for (const auto& [constName, value] : consts) {
    std::ostringstream written;
    written.precision(17);
    written << value;
    overrides.push_back({constName, written.str()});
  }
  std::ostringstream messages;
  std::optional<engine::LoadedModel> loaded =
      engine::loadModelText(path ? *path : name, path ? std::move(text) : *source,
                            engine::Stop::AfterSema, overrides, messages);
  if (!loaded) // a `consts` entry naming no const
    throw py::value_error(messages.str().substr(0, messages.str().find("\ntry ")));
  if (!loaded->checked)
    raiseModelError(*loaded->diags, errorsFirst(*loaded->diags), messages.str());
  std::filesystem::path base = weightsDir ? std::filesystem::path(*weightsDir)
                               : path     ? std::filesystem::absolute(*path).parent_path()
                                          : std::filesystem::current_path();
  return std::make_unique<Model>(std::move(*loaded), std::move(base));
}

} // namespace

void bindModel(py::module_& m) {
  py::class_<Model>(m, "Model")
      .def_property_readonly("name", [](const Model& self) { return self.name(); })
      .def_property_readonly("inputs", &Model::inputDescriptions)
      .def("_prepare", &Model::prepare)
      .def("_run", &Model::run)
      .def("_score", &Model::score)
      .def("_device", &Model::deviceInfo)
      .def("_native_seconds", &Model::nativeSeconds)
      .def("_emit", &Model::emit);
  m.def("_compile", &compileModel, py::arg("path"), py::arg("source"), py::arg("plugins"),
        py::arg("weights_dir"), py::arg("consts"), py::arg("name"));
}

} // namespace podm::python
