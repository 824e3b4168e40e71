// `podm eval MODEL --gt DIR [degradation | --inputs DIR] ...`: score a model on a folder of
// ground-truth images in one process, as the field reports results (dataset means of PSNR/SSIM).
// Each image (times each kernel of --kernels) is degraded as `podm degrade` would write it, or
// paired with a pre-degraded input of the same name, restored as `podm run` would restore it
// (run_support.h: the same input binding, the same Y channel and border shave), and scored.
// What does not depend on the image is made once: the checked model, the network weights
// (StdlibNetworkProvider keeps them), FFT plans (and their cache across runs), and the lowered
// graph with its executor per input shape. A bad image is reported by name and skipped; the exit
// status then says that not every image was scored.
#include "cli/options.h"
#include "cli/run_support.h"
#include "cli/verbs.h"
#include "engine/device.h"
#include "engine/fft_wisdom.h"
#include "engine/network_provider.h"
#include "engine/param_binding.h"
#include "engine/stdlib_prox_provider.h"
#include "runtime/executor.h"
#include "runtime/io/atomic_file.h"
#include "runtime/io/color.h"
#include "runtime/io/degrade.h"
#include "runtime/io/image.h"
#include "runtime/io/metrics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <list>
#include <sstream>

namespace podm::cli {
namespace {

namespace fs = std::filesystem;
constexpr const char* kVerb = "eval";

struct EvalOptions {
  std::string model, gtDir, inputsDir, inputsName, kernelFile, kernelsDir, blurSpec;
  std::string boundary = "periodic", kernelAs = "convolution", csv, markdown, saveDir, weightsDir,
              obs;
  std::string maskSpec, maskInput = "m"; // --mask random:F|FILE goes to the input --mask-input
  io::Degradation degradation;
  long long bits = 8;
  int shave = -1, align = 0;
  int alignSubdivisions = 1;       // --align-step 1/n
  bool correlationKernels = false; // --kernel-as correlation
  bool wisdom = true;
  bool bf16 = false;                                   // --precision bf16
  engine::DeviceKind device = engine::DeviceKind::Cpu; // --device
  std::vector<std::string> plugins;
  std::vector<engine::ConstOverride> overrides; // --set NAME=VALUE
  engine::GraphInputs fixed; // --input NAME=FILE|NUMBER: the same for every image
};

// One image to score: a ground truth, optionally a kernel (its name for the tables) or a
// pre-degraded input.
struct EvalCase {
  fs::path gt, input;
  std::string kernelName;
  const Tensor* kernel = nullptr;
};

// Where --save puts a case's restoration: DIR/IMAGE[_KERNEL].png.
std::string savedPath(const EvalOptions& o, const EvalCase& c) {
  const std::string name = c.gt.stem().string() + (c.kernelName.empty() ? "" : "_" + c.kernelName);
  return (fs::path(o.saveDir) / (name + ".png")).string();
}

struct EvalRow {
  std::string image, kernel;
  double psnr = 0, ssim = 0, seconds = 0;
  int64_t stages = 0, accepted = -1;
  double dy = 0, dx = 0; // the best shift under --align
};

bool isImageFile(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".png" || ext == ".tif" || ext == ".tiff" || ext == ".bmp" || ext == ".jpg" ||
         ext == ".jpeg" || ext == ".npy";
}

// The files of `dir` that `keep` accepts, sorted by name (a dataset's order is its names').
std::vector<fs::path> filesIn(const fs::path& dir, bool (*keep)(const fs::path&)) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && keep(e.path()))
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

bool isKernelFile(const fs::path& p) {
  return isImageFile(p) || p.extension() == ".txt";
}

// Fills `o` from the command line; returns -1 to go on, else the exit status (message printed).
int parseEvalOptions(const std::vector<std::string>& given, EvalOptions& o) {
  std::vector<std::string> args = given;
  if (!takePluginOptions(kVerb, args, o.plugins) || !takeSetOptions(kVerb, args, o.overrides))
    return kUsageError;
  int status = kOk;
  if (!takeInputOptions(kVerb, args, o.fixed, status))
    return status;
  using Downscale = io::Degradation::Downscale;
  io::Degradation& d = o.degradation;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string v;
    auto value = [&](std::string& into) {
      if (i + 1 >= args.size())
        return false;
      into = args[++i];
      return true;
    };
    std::string* text = a == "--gt"            ? &o.gtDir
                        : a == "--inputs"      ? &o.inputsDir
                        : a == "--inputs-name" ? &o.inputsName
                        : a == "--kernel"      ? &o.kernelFile
                        : a == "--kernels"     ? &o.kernelsDir
                        : a == "--blur"        ? &o.blurSpec
                        : a == "--boundary"    ? &o.boundary
                        : a == "--kernel-as"   ? &o.kernelAs
                        : a == "--csv"         ? &o.csv
                        : a == "--markdown"    ? &o.markdown
                        : a == "--save"        ? &o.saveDir
                        : a == "--weights-dir" ? &o.weightsDir
                        : a == "--obs"         ? &o.obs
                        : a == "--mask"        ? &o.maskSpec
                        : a == "--mask-input"  ? &o.maskInput
                                               : nullptr;
    long long n = 0;
    if (text) {
      if (!value(*text))
        return usageError(kVerb, a + " needs a value");
    } else if (a == "--decimate" || a == "--bicubic") {
      if (!value(v) || !parseInt(v, 1, 64, n))
        return usageError(kVerb, a + " needs an integer factor in 1..64");
      if (d.downscale != Downscale::None)
        return usageError(kVerb, "--decimate and --bicubic are exclusive");
      d.downscale = a == "--decimate" ? Downscale::Decimate : Downscale::Bicubic;
      d.scale = static_cast<int>(n);
    } else if (a == "--noise") {
      if (!value(v) || !parseDouble(v, d.noise255) || d.noise255 < 0)
        return usageError(kVerb, "--noise needs a standard deviation >= 0 (0-255 scale)");
    } else if (a == "--poisson") {
      if (!value(v) || !parseDouble(v, d.poissonPeak) || !(d.poissonPeak > 0))
        return usageError(kVerb, "--poisson needs a peak > 0 (photons for the value 1)");
    } else if (a == "--seed") {
      if (!value(v) || !parseInt(v, 0, (1LL << 62), n))
        return usageError(kVerb, "--seed needs a non-negative integer");
      d.seed = static_cast<uint64_t>(n);
    } else if (a == "--bits") {
      if (!value(v) || !parseInt(v, 8, 16, o.bits) || (o.bits != 8 && o.bits != 16))
        return usageError(kVerb, "--bits must be 8 or 16");
    } else if (a == "--shave") {
      if (!value(v) || !parseInt(v, 0, 4096, n))
        return usageError(kVerb, "--shave needs a whole number of pixels (0 or more)");
      o.shave = static_cast<int>(n);
    } else if (a == "--align") {
      if (!value(v) || !parseInt(v, 0, 64, n))
        return usageError(kVerb, "--align needs the largest shift to search, 0 to 64 pixels");
      o.align = static_cast<int>(n);
    } else if (a == "--align-step") {
      if (!value(v) || !parseAlignStep(v, o.alignSubdivisions))
        return usageError(kVerb, "--align-step needs 1, 0.5, 0.25, ... (1/n pixel, n up to 16)");
    } else if (a == "--no-wisdom") {
      o.wisdom = false;
    } else if (a == "--precision") {
      if (!value(v) || !parsePrecision(v, o.bf16))
        return usageError(kVerb, "--precision needs fp32 or bf16");
    } else if (a == "--device") {
      if (!value(v) || !engine::parseDevice(v, o.device))
        return usageError(kVerb, "--device needs cpu, cuda or auto");
    } else if (a.rfind("-", 0) == 0) {
      return usageError(kVerb, "unknown option '" + a + "'");
    } else if (o.model.empty()) {
      o.model = a;
    } else {
      return usageError(kVerb, "more than one model file given");
    }
  }
  if (o.model.empty())
    return usageError(kVerb, "no model file given");
  if (o.gtDir.empty())
    return usageError(kVerb, "say where the ground-truth images are with --gt DIR");
  const int kernelSources = !o.kernelFile.empty() + !o.kernelsDir.empty() + !o.blurSpec.empty();
  if (kernelSources > 1)
    return usageError(kVerb, "--blur, --kernel and --kernels are exclusive");
  if (!o.inputsDir.empty() && (d.downscale != Downscale::None || d.noise255 > 0 ||
                               d.poissonPeak > 0 || !o.blurSpec.empty() || !o.maskSpec.empty()))
    return usageError(kVerb, "--inputs gives degraded images: it takes no --blur, "
                             "--decimate, --bicubic, --mask, --poisson or --noise (--kernel or "
                             "--kernels name their kernels; --input m=FILE gives a mask)");
  if (!o.inputsName.empty() && o.inputsDir.empty())
    return usageError(kVerb, "--inputs-name names files of --inputs DIR");
  if (o.inputsName.empty())
    o.inputsName = o.kernelsDir.empty() ? "{image}" : "{image}_{kernel}";
  if (o.inputsName.find("{image}") == std::string::npos ||
      (!o.kernelsDir.empty() && o.inputsName.find("{kernel}") == std::string::npos))
    return usageError(kVerb, "--inputs-name needs {image}" +
                                 std::string(o.kernelsDir.empty() ? "" : " and {kernel}") +
                                 ", e.g. \"{image}_{kernel}_img\"");
  if (o.maskSpec.empty() && o.maskInput != "m")
    return usageError(kVerb, "--mask-input names the input for --mask, which is not given");
  if (o.alignSubdivisions > 1 && o.align == 0)
    return usageError(kVerb, "--align-step refines the search of --align N, which is not given");
  if ((!o.csv.empty() && !checkOutput(kVerb, "--csv", o.csv, OutputKind::File)) ||
      (!o.markdown.empty() && !checkOutput(kVerb, "--markdown", o.markdown, OutputKind::File)) ||
      (!o.saveDir.empty() && !checkOutput(kVerb, "--save", o.saveDir, OutputKind::Folder)))
    return kUsageError;
  std::optional<numerics::Boundary> boundary = numerics::parseBoundary(o.boundary);
  if (!boundary)
    return usageError(kVerb, "--boundary must be periodic, symmetric or zero");
  d.boundary = *boundary;
  std::optional<numerics::KernelOrientation> orientation =
      numerics::parseKernelOrientation(o.kernelAs);
  if (!orientation)
    return usageError(kVerb, "--kernel-as must be convolution or correlation");
  // Correlation kernel files are flipped once when read (listCases): the degradation and the
  // model's conv(k) then both convolve with the flipped kernel, i.e. correlate with the stored one.
  o.correlationKernels = *orientation == numerics::KernelOrientation::Correlation;
  try {
    if (!o.blurSpec.empty())
      d.kernel = io::kernelFromSpec(o.blurSpec);
    if (!d.kernel.empty() && o.correlationKernels)
      d.kernel = io::flippedKernel(d.kernel);
    if (!o.maskSpec.empty())
      d.maskFraction = io::maskFractionFromSpec(o.maskSpec);
  } catch (const std::invalid_argument& e) {
    return usageError(kVerb, e.what());
  }
  return -1;
}

// The cases to score, in order: every ground truth, times every kernel of --kernels. Reads the
// kernels into `kernels` (kept alive by the caller). Returns -1 to go on, else the exit status.
int listCases(const EvalOptions& o, std::list<Tensor>& kernels, std::vector<EvalCase>& cases) {
  auto folderError = [](const std::string& flag, const std::string& dir, const std::string& why) {
    std::cerr << "podm eval: error: " << flag << " " << dir << ": " << why << "\n";
    return kModelError;
  };
  std::error_code ec;
  if (!fs::is_directory(o.gtDir, ec))
    return folderError("--gt", o.gtDir, "not a folder");
  std::vector<fs::path> gts = filesIn(o.gtDir, isImageFile);
  if (gts.empty())
    return folderError("--gt", o.gtDir, "holds no image (PNG, TIFF, BMP, JPEG or .npy)");
  std::vector<std::pair<std::string, const Tensor*>> kernelList{{"", nullptr}};
  try {
    if (!o.kernelsDir.empty()) {
      if (!fs::is_directory(o.kernelsDir, ec))
        return folderError("--kernels", o.kernelsDir, "not a folder");
      kernelList.clear();
      for (const fs::path& k : filesIn(o.kernelsDir, isKernelFile)) {
        kernels.push_back(io::readKernel(k.string()));
        if (o.correlationKernels)
          kernels.back() = io::flippedKernel(kernels.back());
        kernelList.emplace_back(k.stem().string(), &kernels.back());
      }
      if (kernelList.empty())
        return folderError("--kernels", o.kernelsDir, "holds no kernel file (.txt, .npy, image)");
    } else if (!o.kernelFile.empty()) {
      kernels.push_back(io::readKernel(o.kernelFile));
      if (o.correlationKernels)
        kernels.back() = io::flippedKernel(kernels.back());
      kernelList = {{fs::path(o.kernelFile).stem().string(), &kernels.back()}};
    }
  } catch (const std::exception& e) {
    std::cerr << "podm eval: error: " << e.what() << "\n";
    return kModelError;
  }
  std::map<std::string, fs::path> inputsByStem;
  if (!o.inputsDir.empty()) {
    if (!fs::is_directory(o.inputsDir, ec))
      return folderError("--inputs", o.inputsDir, "not a folder");
    for (const fs::path& p : filesIn(o.inputsDir, isImageFile))
      inputsByStem.emplace(p.stem().string(), p);
  }
  for (const fs::path& gt : gts)
    for (const auto& [name, kernel] : kernelList) {
      EvalCase c{gt, {}, name, kernel};
      if (!o.inputsDir.empty()) {
        // The observation's file stem: --inputs-name with {image} and {kernel} filled in.
        std::string stem = o.inputsName;
        for (const auto& [key, value] :
             {std::pair<std::string, std::string>{"{image}", gt.stem().string()},
              {"{kernel}", name}})
          if (size_t at = stem.find(key); at != std::string::npos)
            stem.replace(at, key.size(), value);
        auto it = inputsByStem.find(stem);
        c.input = it == inputsByStem.end()
                      ? fs::path(o.inputsDir) / (stem + gt.extension().string())
                      : it->second;
      }
      cases.push_back(std::move(c));
    }
  return -1;
}

// Which model inputs receive the observation, the kernel and the mask: --obs, else the one image
// input other than `ref`, the mask's and those --input gives; the one kernel input likewise; the
// mask goes to --mask-input (default `m`).
struct InputRoles {
  std::string observation, kernel, mask;
};

std::optional<InputRoles> inputRoles(const ast::Model& model, const EvalOptions& o) {
  std::vector<std::string> images, kernelInputs;
  InputRoles roles;
  for (const ast::Decl& d : model.decls) {
    if (d.kind != ast::DeclKind::Input || d.name == "ref" || o.fixed.tensors.count(d.name) ||
        o.fixed.scalars.count(d.name))
      continue;
    if (o.degradation.masked() && d.name == o.maskInput && d.type.name == "image") {
      roles.mask = d.name;
      continue;
    }
    if (d.type.name == "image")
      images.push_back(d.name);
    else if (d.type.name == "kernel")
      kernelInputs.push_back(d.name);
  }
  if (o.degradation.masked() && roles.mask.empty()) {
    std::cerr << "podm eval: error: --mask: " << o.model << " has no image input '" << o.maskInput
              << "' left to take the mask; name the model's mask input with --mask-input NAME\n";
    return std::nullopt;
  }
  if (!o.obs.empty()) {
    if (std::find(images.begin(), images.end(), o.obs) == images.end()) {
      std::cerr << "podm eval: error: --obs " << o.obs << ": the model has no image input of "
                << "that name left to bind\n";
      return std::nullopt;
    }
    roles.observation = o.obs;
  } else if (images.size() == 1) {
    roles.observation = images.front();
  } else {
    std::cerr << "podm eval: error: " << o.model << ": "
              << (images.empty() ? std::string("the model has no image input for the observation")
                                 : "the model has several image inputs; say which one is the "
                                   "observation with --obs NAME")
              << (!o.degradation.masked() &&
                          std::find(images.begin(), images.end(), o.maskInput) != images.end()
                      ? " (or, if '" + o.maskInput + "' is a mask, give --mask random:F or FILE)"
                      : std::string())
              << "\n";
    return std::nullopt;
  }
  const bool haveKernel = !o.kernelFile.empty() || !o.kernelsDir.empty() || !o.blurSpec.empty();
  if (kernelInputs.size() > 1 && haveKernel) {
    std::cerr << "podm eval: error: " << o.model << ": the model has several kernel inputs; give "
              << "all but one with --input NAME=FILE\n";
    return std::nullopt;
  }
  if (kernelInputs.size() == 1 && !haveKernel) {
    std::cerr << "podm eval: error: " << o.model << ": the model's input '" << kernelInputs[0]
              << "' is a kernel: give --blur, --kernel or --kernels\n";
    return std::nullopt;
  }
  if (!kernelInputs.empty())
    roles.kernel = kernelInputs.front();
  return roles;
}

// A failure that is the model's, not the image's (a weight file missing, its params unreadable):
// every other image would fail the same way, so the evaluation stops at the first. what(): the
// whole message as printed, lines ended.
struct ModelFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A graph lowered for one set of input shapes, with its executor and params: images of the same
// size reuse them. A few shapes are kept (a dataset of mixed sizes would otherwise hold an arena
// per image).
struct CompiledShape {
  std::string key;
  ir::Graph graph;
  engine::ParamValues params;
  std::unique_ptr<Executor> executor;
};

class ShapeCache {
public:
  static constexpr size_t kKept = 4;

  // The entry for `inputs`' shapes, lowering and preparing it when new. Throws std::runtime_error
  // with the message already printed as a diagnostic for lowering errors.
  CompiledShape& get(const engine::LoadedModel& m, const engine::GraphInputs& inputs,
                     engine::RunDevice& device, const engine::StdlibNetworkProvider& networks,
                     const fs::path& baseDir) {
    std::string key;
    for (const auto& [name, s] : inputs.shapes)
      key += name + "=" + std::to_string(s.h) + "x" + std::to_string(s.w) + ";";
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->key == key) {
        entries_.splice(entries_.begin(), entries_, it); // most recent first
        return entries_.front();
      }
    std::optional<lower::LowerResult> lowered = engine::lowerLoaded(m, inputs);
    if (!lowered)
      throw std::runtime_error("the model cannot be lowered for these sizes (see above)");
    CompiledShape c;
    c.key = key;
    c.graph = engine::optimizeGraph(lowered->graph, nullptr);
    if (std::optional<std::string> missing = checkWeightFiles(c.graph, &m, baseDir))
      throw ModelFailure(*missing);
    try {
      c.params = engine::paramValuesFromWeights(c.graph, baseDir);
    } catch (const std::exception& e) {
      throw ModelFailure("podm eval: error: " + std::string(e.what()) + "\n");
    }
    c.executor = std::make_unique<Executor>(c.graph, device.primary(), device.fallback(),
                                            ExecutorOptions{.network = &networks});
    entries_.push_front(std::move(c));
    if (entries_.size() > kKept)
      entries_.pop_back();
    return entries_.front();
  }

private:
  std::list<CompiledShape> entries_;
};

std::string caseName(const EvalCase& c) {
  return c.gt.filename().string() + (c.kernelName.empty() ? "" : " / " + c.kernelName);
}

// What one case needs from the model that does not change between cases.
struct EvalContext {
  const EvalOptions& options;
  const engine::LoadedModel& model;
  const InputRoles& roles;
  std::set<std::string> notImages;
  engine::RunDevice& device;
  const engine::StdlibNetworkProvider& networks;
  fs::path baseDir;
  ShapeCache shapes;
};

// Degrades (or reads) one case, restores and scores it. Throws std::exception on any failure.
EvalRow evalCase(EvalContext& ctx, const EvalCase& c) {
  const auto start = std::chrono::steady_clock::now();
  const EvalOptions& o = ctx.options;
  Tensor gt = io::readImage(c.gt.string());
  if (gt.shape().c != 1 && gt.shape().c != 3)
    throw io::IoError(c.gt.string() + ": the image has " + std::to_string(gt.shape().c) +
                      " channels; expected gray or RGB");
  const int scale = o.degradation.scale;
  if (scale > 1 && (gt.shape().h < scale || gt.shape().w < scale))
    throw io::IoError(c.gt.string() + ": the image is smaller than the scale " +
                      std::to_string(scale));
  if (scale > 1)
    gt = io::modcrop(gt, scale); // SR convention: the HR image is a multiple of s
  // As `podm degrade --gt-out` and `-o` write them (8-bit PNG by default).
  gt = io::quantize(gt, int(o.bits));
  Tensor observed, mask;
  if (!c.input.empty()) {
    observed = io::readImage(c.input.string());
  } else {
    io::Degradation d = o.degradation;
    if (c.kernel)
      d.kernel = *c.kernel;
    observed = io::quantize(io::degrade(gt, d, &mask), int(o.bits));
  }
  if (observed.shape().c != 1 && observed.shape().c != 3)
    throw io::IoError(c.input.string() + ": the image has " + std::to_string(observed.shape().c) +
                      " channels; expected gray or RGB");
  const Tensor gtY = io::luma(gt);
  engine::GraphInputs inputs = o.fixed;
  io::LumaSplit split = io::splitLuma(observed);
  inputs.tensors[ctx.roles.observation] = split.y;
  inputs.shapes[ctx.roles.observation] = {split.y.shape().h, split.y.shape().w};
  const Tensor& kernel = c.kernel ? *c.kernel : o.degradation.kernel;
  if (!ctx.roles.kernel.empty()) {
    inputs.tensors[ctx.roles.kernel] = kernel;
    inputs.shapes[ctx.roles.kernel] = {kernel.shape().h, kernel.shape().w};
  }
  if (!ctx.roles.mask.empty()) {
    inputs.tensors[ctx.roles.mask] = mask;
    inputs.shapes[ctx.roles.mask] = {mask.shape().h, mask.shape().w};
  }
  engine::completeModelInputs(*ctx.model.ast, inputs, &gtY);

  CompiledShape& compiled =
      ctx.shapes.get(ctx.model, inputs, ctx.device, ctx.networks, ctx.baseDir);
  std::string error;
  std::optional<std::map<std::string, Tensor>> bound =
      engine::bindGraphInputs(compiled.graph, inputs, &gtY, error);
  if (!bound)
    throw std::runtime_error(error);
  RunResult r = compiled.executor->run(*bound, compiled.params.values);
  const Tensor& x = r.outputs.begin()->second;
  if (!(x.shape() == gtY.shape()))
    throw std::runtime_error("the result is " + x.shape().str() + " but the ground truth is " +
                             gtY.shape().str());
  const int shave =
      engine::qualityShave(compiled.graph, x.shape(), inputs.tensors, ctx.notImages, o.shave);
  const int64_t border = io::alignedBorder(shave, o.align);
  if (2 * border >= x.shape().h || 2 * border >= x.shape().w)
    throw std::runtime_error("the shave " + std::to_string(shave) + " and alignment " +
                             std::to_string(o.align) + " leave nothing of the " + x.shape().str() +
                             " result");
  const io::AlignedQuality q = io::measureAligned(x, gtY, shave, o.align, o.alignSubdivisions);
  if (!o.saveDir.empty()) {
    const Tensor restored = split.color() ? io::mergeLuma(x, split) : x;
    io::writeImage(savedPath(o, c), restored);
  }
  EvalRow row{c.gt.filename().string(), c.kernelName, q.psnr, q.ssim, 0, r.stages,
              acceptedStages(r),        q.dy,         q.dx};
  row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return row;
}

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// One row per image; with --align also the shift that scored best.
std::string csvText(const std::vector<EvalRow>& rows, bool aligned) {
  std::string s = std::string("image,kernel,psnr,ssim,stages,accepted,seconds") +
                  (aligned ? ",shift_y,shift_x" : "") + "\n";
  char buf[256];
  for (const EvalRow& r : rows) {
    std::snprintf(buf, sizeof buf, ",%.17g,%.17g,%lld,%s,%.6f", r.psnr, r.ssim,
                  static_cast<long long>(r.stages),
                  r.accepted < 0 ? "" : std::to_string(r.accepted).c_str(), r.seconds);
    s += r.image + "," + r.kernel + buf;
    if (aligned)
      std::snprintf(buf, sizeof buf, ",%g,%g", r.dy, r.dx), s += buf;
    s += "\n";
  }
  return s;
}

// The per-image rows and the means, as a Markdown table.
std::string markdownTable(const std::vector<EvalRow>& rows, const std::string& model) {
  const bool kernels =
      std::any_of(rows.begin(), rows.end(), [](const EvalRow& r) { return !r.kernel.empty(); });
  const bool accepted =
      std::any_of(rows.begin(), rows.end(), [](const EvalRow& r) { return r.accepted >= 0; });
  std::ostringstream s;
  s << "| image |" << (kernels ? " kernel |" : "") << " PSNR (dB) | SSIM | stages |"
    << (accepted ? " accepted |" : "") << " seconds |\n|---|" << (kernels ? "---|" : "")
    << "---|---|---|" << (accepted ? "---|" : "") << "---|\n";
  double psnr = 0, ssim = 0, stages = 0, acc = 0, seconds = 0;
  for (const EvalRow& r : rows) {
    s << "| " << r.image << " |" << (kernels ? " " + r.kernel + " |" : "") << " "
      << fixed(r.psnr, 2) << " | " << fixed(r.ssim, 4) << " | " << r.stages << " |"
      << (accepted ? " " + std::to_string(r.accepted) + " |" : "") << " " << fixed(r.seconds, 2)
      << " |\n";
    psnr += r.psnr, ssim += r.ssim, stages += double(r.stages), acc += double(r.accepted);
    seconds += r.seconds;
  }
  const double n = double(std::max<size_t>(rows.size(), 1));
  s << "| **mean** (" << rows.size() << ", " << model << ") |" << (kernels ? " |" : "") << " **"
    << fixed(psnr / n, 2) << "** | **" << fixed(ssim / n, 4) << "** | " << fixed(stages / n, 1)
    << " |" << (accepted ? " " + fixed(acc / n, 1) + " |" : "") << " " << fixed(seconds / n, 2)
    << " |\n";
  return s.str();
}

// Scores every case, printing a line per case; failed cases are reported and left out.
std::vector<EvalRow> scoreAll(EvalContext& ctx, const std::vector<EvalCase>& cases,
                              engine::FftWisdomFile& wisdom, size_t& failed) {
  std::vector<EvalRow> rows;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string counter = "[" + std::to_string(i + 1) + "/" + std::to_string(cases.size()) +
                                "] " + caseName(cases[i]);
    try {
      EvalRow row = evalCase(ctx, cases[i]);
      std::printf("%s: PSNR %.2f dB, SSIM %.4f, %lld stages", counter.c_str(), row.psnr, row.ssim,
                  static_cast<long long>(row.stages));
      if (row.accepted >= 0)
        std::printf(" (%lld accepted)", static_cast<long long>(row.accepted));
      if (ctx.options.align)
        std::printf(", aligned %+g,%+g", row.dy, row.dx);
      std::printf(", %.2f s\n", row.seconds);
      std::fflush(stdout);
      rows.push_back(std::move(row));
    } catch (const ModelFailure& e) {
      std::cerr << e.what() << "podm eval: stopped at " << counter
                << ": this is the model's error, every image would meet it\n";
      failed = cases.size() - rows.size();
      break;
    } catch (const std::exception& e) {
      std::cerr << "podm eval: error: " << counter << ": " << e.what() << "; skipped\n";
      ++failed;
    }
    wisdom.save(); // plans measured for this size serve the next run too
  }
  return rows;
}

} // namespace

int runEval(const std::vector<std::string>& args) {
  EvalOptions o;
  if (int status = parseEvalOptions(args, o); status >= 0)
    return status;
  if (!engine::loadPlugins(kVerb, o.plugins))
    return kUsageError;
  engine::FftWisdomFile wisdom(kVerb, o.wisdom);
  std::list<Tensor> kernels;
  std::vector<EvalCase> cases;
  if (int status = listCases(o, kernels, cases); status >= 0)
    return status;
  // --save into the folder of the ground truths (or of --inputs) would replace them by name.
  if (!o.saveDir.empty())
    for (const EvalCase& c : cases)
      if (!checkNotAnInput(kVerb, "--save", savedPath(o, c),
                           {{"a ground truth", c.gt.string()}, {"an input", c.input.string()}}))
        return kUsageError;
  if (!o.maskSpec.empty() && o.degradation.maskFraction == 0) {
    try {
      o.degradation.mask = io::readMask(o.maskSpec);
      o.degradation.maskName = o.maskSpec;
    } catch (const io::IoError& e) {
      std::cerr << "podm eval: error: --mask " << e.what() << "\n";
      return kModelError;
    }
  }
  std::optional<engine::LoadedModel> m =
      engine::loadModel(o.model, engine::Stop::AfterSema, o.overrides);
  if (!m)
    return kUsageError;
  if (!m->checked)
    return kModelError;
  std::optional<InputRoles> roles = inputRoles(*m->ast, o);
  if (!roles)
    return kModelError;
  if (std::optional<std::string> error = checkInputKinds(*m->ast, o.fixed)) {
    std::cerr << "podm eval: error: " << *error << "\n";
    return kUsageError;
  }
  if (!o.saveDir.empty()) {
    std::error_code ec;
    fs::create_directories(o.saveDir, ec);
    if (ec) {
      std::cerr << "podm eval: error: --save " << o.saveDir << ": " << ec.message() << "\n";
      return kModelError;
    }
  }
  engine::installStdlibProxProvider();
  const fs::path baseDir =
      o.weightsDir.empty() ? fs::absolute(o.model).parent_path() : fs::path(o.weightsDir);
  engine::StdlibNetworkProvider networks(baseDir, useBf16(kVerb, o.bf16, false));
  std::unique_ptr<engine::RunDevice> device;
  try {
    device = std::make_unique<engine::RunDevice>(o.device);
  } catch (const std::exception& e) {
    std::cerr << "podm eval: error: " << e.what() << "\n";
    return kModelError;
  }
  if (!device->note().empty())
    std::cerr << "podm eval: note: " << device->note() << "\n";
  if (o.device != engine::DeviceKind::Cpu)
    std::cerr << "podm eval: running on " << device->name() << "\n";
  EvalContext ctx{o, *m, *roles, engine::nonImageInputs(*m->ast), *device, networks, baseDir, {}};
  size_t failed = 0;
  const std::vector<EvalRow> rows = scoreAll(ctx, cases, wisdom, failed);
  if (rows.empty()) { // no table: a mean over no image would read as a score of 0 dB
    std::cerr << "podm eval: error: none of the " << cases.size()
              << " images could be scored (see above); no table"
              << (o.csv.empty() && o.markdown.empty() ? "" : " and no file") << " written\n";
    return kModelError;
  }
  std::string table = markdownTable(rows, fs::path(o.model).filename().string());
  if (o.align)
    table += "\nScores after the best shift of each restoration within +-" +
             std::to_string(o.align) + " px" +
             (o.alignSubdivisions > 1
                  ? " in steps of 1/" + std::to_string(o.alignSubdivisions) + " px (bilinear)"
                  : std::string(" (whole pixels)")) +
             " (the ground truth is misregistered), on the window every shift keeps.\n";
  std::printf("\n%s", table.c_str());
  try {
    if (!o.csv.empty())
      io::writeFileAtomic(o.csv, csvText(rows, o.align > 0));
    if (!o.markdown.empty())
      io::writeFileAtomic(o.markdown, table);
  } catch (const std::exception& e) {
    std::cerr << "podm eval: error: " << e.what() << "\n";
    return kModelError;
  }
  if (failed) {
    std::cerr << "podm eval: error: " << failed << " of " << cases.size()
              << " images could not be scored (see above); the means are over the " << rows.size()
              << " others\n";
    return kModelError;
  }
  return kOk;
}

} // namespace podm::cli
