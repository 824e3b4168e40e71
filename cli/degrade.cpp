// `podm degrade`: make the observations the paper's experiments start from (blur, decimation or
// bicubic downscaling, Gaussian noise) from an image, or make a synthetic test image, so that every
// example can be tried without downloaded data. Deterministic under --seed.
#include "runtime/io/degrade.h"

#include "cli/driver.h"
#include "cli/verbs.h"
#include "runtime/io/image.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
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

} // namespace

int runDegrade(const std::vector<std::string>& args) {
  std::string input, output, blurSpec, kernelFile, kernelOut, gtOut, synthetic, sizeSpec;
  std::string boundaryName = "periodic";
  long long decimateBy = 0, bicubicBy = 0, seed = 0, bits = 8;
  double noise = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size())
        return false;
      out = args[++i];
      return true;
    };
    std::string v;
    if (a == "-o" || a == "--output") {
      if (!value(output))
        return usageError(kVerb, a + " needs a file name");
    } else if (a == "--blur") {
      if (!value(blurSpec))
        return usageError(kVerb, "--blur needs gaussian:SIZE:SIGMA or motion:LEN:ANGLE");
    } else if (a == "--kernel") {
      if (!value(kernelFile))
        return usageError(kVerb, "--kernel needs a file");
    } else if (a == "--kernel-out") {
      if (!value(kernelOut))
        return usageError(kVerb, "--kernel-out needs a file");
    } else if (a == "--gt-out") {
      if (!value(gtOut))
        return usageError(kVerb, "--gt-out needs a file");
    } else if (a == "--boundary") {
      if (!value(boundaryName))
        return usageError(kVerb, "--boundary needs periodic, symmetric or zero");
    } else if (a == "--decimate" || a == "--bicubic") {
      long long s;
      if (!value(v) || !parseInt(v, 1, 64, s))
        return usageError(kVerb, a + " needs an integer factor in 1..64");
      (a == "--decimate" ? decimateBy : bicubicBy) = s;
    } else if (a == "--noise") {
      if (!value(v) || !parseDouble(v, noise) || noise < 0)
        return usageError(kVerb, "--noise needs a standard deviation >= 0 (0-255 scale)");
    } else if (a == "--seed") {
      if (!value(v) || !parseInt(v, 0, (1LL << 62), seed))
        return usageError(kVerb, "--seed needs a non-negative integer");
    } else if (a == "--bits") {
      if (!value(v) || !parseInt(v, 8, 16, bits) || (bits != 8 && bits != 16))
        return usageError(kVerb, "--bits must be 8 or 16");
    } else if (a == "--synthetic") {
      if (!value(synthetic))
        return usageError(kVerb, std::string("--synthetic needs a name: ") + io::syntheticNames());
    } else if (a == "--size") {
      if (!value(sizeSpec))
        return usageError(kVerb, "--size needs HxW");
    } else if (a.rfind("-", 0) == 0) {
      return usageError(kVerb, "unknown option '" + a + "'");
    } else if (input.empty()) {
      input = a;
    } else {
      return usageError(kVerb, "more than one input file ('" + input + "', '" + a + "')");
    }
  }
  if (output.empty())
    return usageError(kVerb, "no output file (-o OUT)");
  if (synthetic.empty() == input.empty())
    return usageError(kVerb, synthetic.empty() ? "no input image (or --synthetic NAME)"
                                               : "give an input image or --synthetic, not both");
  if (!sizeSpec.empty() && synthetic.empty())
    return usageError(kVerb, "--size applies to --synthetic only");
  if (!blurSpec.empty() && !kernelFile.empty())
    return usageError(kVerb, "--blur and --kernel are exclusive");
  if (decimateBy && bicubicBy)
    return usageError(kVerb, "--decimate and --bicubic are exclusive");
  if (!kernelOut.empty() && blurSpec.empty() && kernelFile.empty())
    return usageError(kVerb, "--kernel-out needs --blur or --kernel");
  if (io::formatFromExtension(output) == io::FileFormat::Jpeg)
    return usageError(kVerb, output + ": JPEG output is not supported (it is lossy): use .png, "
                                      ".tif, .tiff or .npy");
  if (io::formatFromExtension(output) == io::FileFormat::Unknown ||
      io::formatFromExtension(output) == io::FileFormat::Bmp)
    return usageError(kVerb, "output must end in .png, .tif, .tiff or .npy");
  std::optional<cpu::Boundary> boundary = cpu::parseBoundary(boundaryName);
  if (!boundary)
    return usageError(kVerb, "--boundary must be periodic, symmetric or zero");

  // Kernels from specs are parsed before any file is read, so usage errors come first.
  Tensor kernel;
  std::string blurNote;
  if (!blurSpec.empty()) {
    try {
      kernel = io::kernelFromSpec(blurSpec);
    } catch (const std::invalid_argument& e) {
      return usageError(kVerb, e.what());
    }
    blurNote = blurSpec;
  }
  int64_t sh = 256, sw = 256;
  if (!sizeSpec.empty()) {
    std::vector<std::string> p = split(sizeSpec, 'x');
    long long hh = 0, ww = 0;
    if (p.size() != 2 || !parseInt(p[0], 8, 8192, hh) || !parseInt(p[1], 8, 8192, ww))
      return usageError(kVerb, "--size expects HxW with sides in 8..8192, not '" + sizeSpec + "'");
    sh = hh;
    sw = ww;
  }

  try {
    Tensor image;
    if (!synthetic.empty()) {
      try {
        image = io::syntheticImage(synthetic, sh, sw, uint64_t(seed));
      } catch (const std::invalid_argument& e) {
        return usageError(kVerb, e.what());
      }
    } else {
      image = io::readImage(input);
    }
    if (!kernelFile.empty()) {
      kernel = io::readKernel(kernelFile);
      blurNote = "kernel " + kernelFile;
    }
    int factor = int(decimateBy ? decimateBy : bicubicBy);
    if (factor > 1) {
      if (image.shape().h < factor || image.shape().w < factor)
        return dataError(input + ": image is smaller than the factor " + std::to_string(factor));
      image = io::modcrop(image, factor); // SR convention: the HR image is a multiple of s
    }
    if (!gtOut.empty())
      io::writeImage(gtOut, image, int(bits));
    io::Degradation d;
    d.kernel = kernel;
    d.boundary = *boundary;
    d.downscale = decimateBy > 1  ? io::Degradation::Downscale::Decimate
                  : bicubicBy > 1 ? io::Degradation::Downscale::Bicubic
                                  : io::Degradation::Downscale::None;
    d.scale = factor;
    d.noise255 = noise;
    d.seed = uint64_t(seed);
    Tensor out = io::degrade(image, d);
    io::writeImage(output, out, int(bits));
    if (!kernelOut.empty())
      io::writeKernelText(kernelOut, kernel);
    const Shape& s = out.shape();
    std::cout << "wrote " << output << " (" << s.h << "x" << s.w << (s.c == 1 ? ", gray" : ", RGB");
    if (!blurNote.empty())
      std::cout << ", blur " << blurNote << " " << kernel.shape().h << "x" << kernel.shape().w
                << " " << boundaryName;
    if (decimateBy > 1)
      std::cout << ", decimate x" << decimateBy;
    if (bicubicBy > 1)
      std::cout << ", bicubic x" << bicubicBy;
    if (noise > 0)
      std::cout << ", noise sigma " << noise << "/255 seed " << seed;
    std::cout << ")\n";
    return kOk;
  } catch (const io::IoError& e) {
    return dataError(e.what());
  }
}

} // namespace podm::cli
