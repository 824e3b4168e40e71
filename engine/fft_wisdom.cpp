// FftWisdomFile: the FFTW wisdom file in the user's cache folder (see fft_wisdom.h).
#include "engine/fft_wisdom.h"

#include "numerics/fft.h"
#include "runtime/io/atomic_file.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>

namespace podm::engine {
namespace {

namespace fs = std::filesystem;

// The CPU's identity as FFTW's codelets care about it: model and instruction-set flags, hashed
// (FNV-1a) so that the file name stays short.
std::string cpuTag() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model, flags;
  while (std::getline(in, line) && (model.empty() || flags.empty())) {
    if (model.empty() && line.rfind("model name", 0) == 0)
      model = line;
    else if (flags.empty() && line.rfind("flags", 0) == 0)
      flags = line;
  }
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : model + "\n" + flags)
    h = (h ^ ch) * 1099511628211ull;
  char buf[20];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(h & 0xffffffffull));
  return buf;
}

// Characters safe in a file name; the rest become '_'.
std::string fileSafe(std::string s) {
  for (char& ch : s)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_'))
      ch = '_';
  return s;
}

std::string cacheFolder() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/')
    return (fs::path(xdg) / "podm").string();
  if (const char* home = std::getenv("HOME"); home && *home)
    return (fs::path(home) / ".cache" / "podm").string();
  return "";
}

} // namespace

FftWisdomFile::FftWisdomFile(std::string verb, bool enabled) : verb_(std::move(verb)) {
  const char* env = std::getenv("PODM_FFTW_WISDOM");
  if (!enabled || (env && std::string(env) == "off"))
    return;
  const std::string folder = cacheFolder();
  if (folder.empty())
    return; // no home: nowhere to keep it, and nothing worth a note
  path_ = (fs::path(folder) / (fileSafe(numerics::fftWisdomKey()) + "-cpu" + cpuTag() + ".wisdom"))
              .string();
  measuredAtLoad_ = numerics::fftPlanStats().measured;
  std::error_code ec;
  if (!fs::exists(path_, ec))
    return;
  std::ifstream in(path_, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || !numerics::fftImportWisdom(text.str()))
    note("ignoring the FFT plan cache " + path_ + ": it is unreadable or not FFTW wisdom; " +
         "plans are measured again and the file is rewritten");
}

void FftWisdomFile::save() {
  if (path_.empty() || numerics::fftPlanStats().measured == measuredAtLoad_)
    return;
  try {
    // Another process may have saved plans of other sizes since we read the file: merge first.
    std::ifstream in(path_, std::ios::binary);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      numerics::fftImportWisdom(text.str()); // a corrupt file is simply replaced
    }
    std::error_code ec;
    fs::create_directories(fs::path(path_).parent_path(), ec);
    io::writeFileAtomic(path_, numerics::fftExportWisdom());
    measuredAtLoad_ = numerics::fftPlanStats().measured;
  } catch (const std::exception& e) {
    note(std::string("could not save the FFT plan cache: ") + e.what());
    path_.clear(); // one note is enough
  }
}

void FftWisdomFile::note(const std::string& message) const {
  std::cerr << "podm " << verb_ << ": note: " << message << "\n";
}

} // namespace podm::engine
