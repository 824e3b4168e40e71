// `podm degrade`: make the observations the paper's experiments start from (blur, decimation or
// bicubic downscaling, an inpainting mask, Poisson and Gaussian noise) from an image, or make a
// synthetic test image, so that every example can be tried without downloaded data.
// Deterministic under --seed. Everything is computed before the first file is written, so bad
// input leaves no partial output.
#include "runtime/io/degrade.h"

#include "cli/options.h"
#include "cli/verbs.h"
#include "runtime/io/image.h"
#include "runtime/io/metrics.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

namespace podm::cli {
namespace {

constexpr const char* kVerb = "degrade";

int dataError(const std::string& message) {
  std::cerr << "podm degrade: error: " << message << "\n";
  return 1;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, sep);)
    out.push_back(part);
  return out;
}

struct DegradeOptions {
  std::string input, output, blurSpec, kernelFile, kernelOut, gtOut, synthetic, sizeSpec;
  std::string maskSpec, maskOut;
  std::string boundaryName = "periodic", orientationName = "convolution";
  long long decimateBy = 0, bicubicBy = 0, seed = 0, bits = 8;
  double noise = 0, poisson = 0;
};

// Fills `o` from the command line; returns -1 to go on, else the exit status (message printed).
int parseDegradeOptions(const std::vector<std::string>& args, DegradeOptions& o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size())
        return false;
      out = args[++i];
      return true;
    };
    std::string* text = a == "-o" || a == "--output" ? &o.output
                        : a == "--blur"              ? &o.blurSpec
                        : a == "--kernel"            ? &o.kernelFile
                        : a == "--kernel-out"        ? &o.kernelOut
                        : a == "--gt-out"            ? &o.gtOut
                        : a == "--boundary"          ? &o.boundaryName
                        : a == "--kernel-as"         ? &o.orientationName
                        : a == "--synthetic"         ? &o.synthetic
                        : a == "--size"              ? &o.sizeSpec
                        : a == "--mask"              ? &o.maskSpec
                        : a == "--mask-out"          ? &o.maskOut
                                                     : nullptr;
    std::string v;
    if (text) {
      if (!value(*text))
        return usageError(kVerb, a + " needs a value (see podm degrade --help)");
    } else if (a == "--decimate" || a == "--bicubic") {
      long long s;
      if (!value(v) || !parseInt(v, 1, 64, s))
        return usageError(kVerb, a + " needs an integer factor in 1..64");
      (a == "--decimate" ? o.decimateBy : o.bicubicBy) = s;
    } else if (a == "--noise") {
      if (!value(v) || !parseDouble(v, o.noise) || o.noise < 0)
        return usageError(kVerb, "--noise needs a standard deviation >= 0 (0-255 scale)");
    } else if (a == "--poisson") {
      if (!value(v) || !parseDouble(v, o.poisson) || !(o.poisson > 0))
        return usageError(kVerb, "--poisson needs a peak > 0 (photons for the value 1)");
    } else if (a == "--seed") {
      if (!value(v) || !parseInt(v, 0, (1LL << 62), o.seed))
        return usageError(kVerb, "--seed needs a non-negative integer");
    } else if (a == "--bits") {
      if (!value(v) || !parseInt(v, 8, 16, o.bits) || (o.bits != 8 && o.bits != 16))
        return usageError(kVerb, "--bits must be 8 or 16");
    } else if (a.rfind("-", 0) == 0) {
      return usageError(kVerb, "unknown option '" + a + "'");
    } else if (o.input.empty()) {
      o.input = a;
    } else {
      return usageError(kVerb, "more than one input file ('" + o.input + "', '" + a + "')");
    }
  }
  if (o.output.empty())
    return usageError(kVerb, "no output file (-o OUT)");
  if (o.synthetic.empty() == o.input.empty())
    return usageError(kVerb, o.synthetic.empty() ? "no input image (or --synthetic NAME)"
                                                 : "give an input image or --synthetic, not both");
  if (!o.sizeSpec.empty() && o.synthetic.empty())
    return usageError(kVerb, "--size applies to --synthetic only");
  if (!o.blurSpec.empty() && !o.kernelFile.empty())
    return usageError(kVerb, "--blur and --kernel are exclusive");
  if (o.decimateBy && o.bicubicBy)
    return usageError(kVerb, "--decimate and --bicubic are exclusive");
  if (!o.kernelOut.empty() && o.blurSpec.empty() && o.kernelFile.empty())
    return usageError(kVerb, "--kernel-out needs --blur or --kernel");
  if (!o.maskOut.empty() && o.maskSpec.empty())
    return usageError(kVerb, "--mask-out needs --mask");
  for (const auto& [flag, path] : {std::pair<const char*, const std::string&>{"-o", o.output},
                                   {"--gt-out", o.gtOut},
                                   {"--mask-out", o.maskOut}})
    if (!path.empty() && !checkOutput(kVerb, flag, path, OutputKind::Image))
      return kUsageError;
  if (!o.kernelOut.empty() && !checkOutput(kVerb, "--kernel-out", o.kernelOut, OutputKind::File))
    return kUsageError;
  const std::vector<std::pair<std::string, std::string>> inputs{{"the input image", o.input},
                                                                {"the --kernel file", o.kernelFile},
                                                                {"the --mask file", o.maskSpec}};
  for (const auto& [flag, path] : {std::pair<const char*, const std::string&>{"-o", o.output},
                                   {"--gt-out", o.gtOut},
                                   {"--mask-out", o.maskOut},
                                   {"--kernel-out", o.kernelOut}})
    if (!path.empty() && !checkNotAnInput(kVerb, flag, path, inputs))
      return kUsageError;
  if (!numerics::parseBoundary(o.boundaryName))
    return usageError(kVerb, "--boundary must be periodic, symmetric or zero");
  if (!numerics::parseKernelOrientation(o.orientationName))
    return usageError(kVerb, "--kernel-as must be convolution or correlation");
  return -1;
}

// What the run did, for the one-line summary.
std::string summary(const DegradeOptions& o, const Tensor& out, const Tensor& kernel,
                    const Tensor& mask) {
  const Shape& s = out.shape();
  std::ostringstream line;
  line << "wrote " << o.output << " (" << s.h << "x" << s.w << (s.c == 1 ? ", gray" : ", RGB");
  if (!o.blurSpec.empty() || !o.kernelFile.empty())
    line << ", blur " << (o.blurSpec.empty() ? "kernel " + o.kernelFile : o.blurSpec) << " "
         << kernel.shape().h << "x" << kernel.shape().w << " " << o.boundaryName
         << (o.orientationName == "correlation" ? " correlation" : "");
  if (o.decimateBy > 1)
    line << ", decimate x" << o.decimateBy;
  if (o.bicubicBy > 1)
    line << ", bicubic x" << o.bicubicBy;
  if (!mask.empty()) {
    double kept = 0;
    for (int64_t i = 0; i < mask.numel(); ++i)
      kept += mask.data()[i];
    line << ", mask " << o.maskSpec << " (" << int64_t(kept) << " of " << mask.numel()
         << " pixels kept)";
  }
  if (o.poisson > 0)
    line << ", Poisson peak " << o.poisson;
  if (o.noise > 0)
    line << ", noise sigma " << o.noise << "/255";
  if (o.noise > 0 || o.poisson > 0 || (!mask.empty() && o.maskSpec.rfind("random:", 0) == 0))
    line << " seed " << o.seed;
  line << ")";
  return line.str();
}

} // namespace

int runDegrade(const std::vector<std::string>& args) {
  DegradeOptions o;
  if (int status = parseDegradeOptions(args, o); status >= 0)
    return status;
  io::Degradation d;
  d.boundary = *numerics::parseBoundary(o.boundaryName);
  d.orientation = *numerics::parseKernelOrientation(o.orientationName);
  // Specs are parsed before any file is read, so usage errors come first.
  try {
    if (!o.blurSpec.empty())
      d.kernel = io::kernelFromSpec(o.blurSpec);
    if (!o.maskSpec.empty())
      d.maskFraction = io::maskFractionFromSpec(o.maskSpec);
  } catch (const std::invalid_argument& e) {
    return usageError(kVerb, e.what());
  }
  int64_t sh = 256, sw = 256;
  if (!o.sizeSpec.empty()) {
    std::vector<std::string> p = split(o.sizeSpec, 'x');
    long long hh = 0, ww = 0;
    if (p.size() != 2 || !parseInt(p[0], 8, 8192, hh) || !parseInt(p[1], 8, 8192, ww))
      return usageError(kVerb,
                        "--size expects HxW with sides in 8..8192, not '" + o.sizeSpec + "'");
    sh = hh;
    sw = ww;
  }

  try {
    Tensor image;
    if (!o.synthetic.empty()) {
      try {
        image = io::syntheticImage(o.synthetic, sh, sw, uint64_t(o.seed));
      } catch (const std::invalid_argument& e) {
        return usageError(kVerb, e.what());
      }
    } else {
      image = io::readImage(o.input);
    }
    if (!o.kernelFile.empty())
      d.kernel = io::readKernel(o.kernelFile);
    if (!o.maskSpec.empty() && d.maskFraction == 0) {
      d.mask = io::readMask(o.maskSpec);
      d.maskName = o.maskSpec;
    }
    const int factor = int(o.decimateBy ? o.decimateBy : o.bicubicBy);
    if (factor > 1) {
      if (image.shape().h < factor || image.shape().w < factor)
        return dataError(o.input + ": image is smaller than the factor " + std::to_string(factor));
      image = io::modcrop(image, factor); // SR convention: the HR image is a multiple of s
    }
    d.downscale = o.decimateBy > 1  ? io::Degradation::Downscale::Decimate
                  : o.bicubicBy > 1 ? io::Degradation::Downscale::Bicubic
                                    : io::Degradation::Downscale::None;
    d.scale = factor;
    d.poissonPeak = o.poisson;
    d.noise255 = o.noise;
    d.seed = uint64_t(o.seed);
    Tensor mask;
    const Tensor out = io::degrade(image, d, &mask);
    if (!o.gtOut.empty())
      io::writeImage(o.gtOut, image, int(o.bits));
    io::writeImage(o.output, out, int(o.bits));
    if (!o.kernelOut.empty())
      io::writeKernelText(o.kernelOut, d.kernel);
    if (!o.maskOut.empty())
      io::writeImage(o.maskOut, mask);
    std::cout << summary(o, out, d.kernel, mask);
    // The observation's own score, the baseline a restoration is read against (on Y, as the
    // file is written; not for super-resolution, where the sizes differ).
    const bool degraded =
        !d.kernel.empty() || !d.mask.empty() || d.maskFraction > 0 || o.noise > 0 || o.poisson > 0;
    if (degraded && out.shape() == image.shape()) {
      const io::Quality q = io::measure(io::quantize(out, int(o.bits)), image);
      std::cout << "; PSNR " << std::fixed << std::setprecision(2) << q.psnr << " dB against "
                << (o.input.empty() ? "the clean image" : o.input);
    }
    std::cout << "\n";
    return kOk;
  } catch (const io::IoError& e) {
    return dataError(e.what());
  }
}

} // namespace podm::cli
