// Atomic writes: temp file next to the target, fsync, rename, fsync of the directory.
#include "runtime/io/atomic_file.h"

#include "runtime/io/image.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace podm::io {
namespace {

std::string directoryOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IoError(path + ": " + what + ": " + std::strerror(errno));
}

// Removes the temporary unless released; keeps the cleanup on every exit path, exceptions included.
struct TempGuard {
  std::string path;
  bool armed = true;
  ~TempGuard() {
    if (armed)
      ::unlink(path.c_str());
  }
};

} // namespace

void writeFileAtomic(const std::string& path,
                     const std::function<void(const std::string& tmpPath)>& produce) {
  // mkstemp in the target's directory: a unique name on the same file system, so rename is atomic.
  std::string templ = path + ".tmp-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  if (fd < 0)
    fail(path, "cannot create a temporary file in '" + directoryOf(path) + "'");
  ::close(fd);
  TempGuard guard{buf.data()};
  produce(guard.path);

  // Reopen to fsync: the producer may have used any API (stdio, libtiff) and closed its handle.
  fd = ::open(guard.path.c_str(), O_RDONLY);
  if (fd < 0)
    fail(path, "cannot reopen temporary file");
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced)
    fail(path, "fsync failed");
  // mkstemp creates mode 0600; give the result the usual permissions (subject to the umask).
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(guard.path.c_str(), 0666 & ~mask);
  if (::rename(guard.path.c_str(), path.c_str()) != 0)
    fail(path, "cannot rename the temporary file onto the target");
  guard.armed = false;
  int dfd = ::open(directoryOf(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd); // best effort: some file systems refuse fsync on directories
    ::close(dfd);
  }
}

void writeFileAtomic(const std::string& path, std::string_view bytes) {
  writeFileAtomic(path, [&](const std::string& tmp) {
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f)
      fail(path, "cannot open temporary file");
    size_t written = std::fwrite(bytes.data(), 1, bytes.size(), f);
    bool ok = written == bytes.size() && std::fflush(f) == 0;
    ok = (std::fclose(f) == 0) && ok;
    if (!ok)
      fail(path, "write failed");
  });
}

} // namespace podm::io
