// A test's own scratch folder: fresh and uniquely named under the system temp dir (so tests running
// in parallel or side by side never share a path, and TMPDIR is honoured), removed with everything
// in it by the destructor -- also when a REQUIRE fails and unwinds the test -- so the suite leaves
// nothing behind in /tmp.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace podm::test {

class ScratchDir {
public:
  // `prefix` only makes a leftover folder (a crashed test) recognisable.
  explicit ScratchDir(const std::string& prefix = "podm-test") {
    std::string templ = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(templ.data()))
      throw std::runtime_error("cannot create a scratch folder " + templ + ": " +
                               std::strerror(errno));
    path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ec; // a destructor must not throw; a leftover is harmless
    std::filesystem::remove_all(path_, ec);
  }
  // One owner: a copy would remove the folder under the other.
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The path of `name` inside the folder (not created).
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  size_t entryCount() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path_))
      ++n;
    return n;
  }

private:
  std::filesystem::path path_;
};

} // namespace podm::test
