// A fresh temporary folder for one test: made unique under the system temp folder (mkdtemp) and
// removed with everything in it when the object goes, also when the test fails, so a passing or
// failing suite leaves nothing behind.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

class ScratchDir {
public:
  explicit ScratchDir(const std::string& tag = "podm-test") {
    std::string templ = (std::filesystem::temp_directory_path() / (tag + "-XXXXXX")).string();
    if (!mkdtemp(templ.data()))
      throw std::runtime_error("cannot make a temporary folder from " + templ);
    path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The path of `name` inside the folder, as a string for command lines.
  std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};
