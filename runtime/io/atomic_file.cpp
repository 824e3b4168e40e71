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

// mkstemp next to the target: a unique name on the same file system, so rename is atomic. The
// caller owns (and removes) the file; -1 with errno set when none can be created.
int makeTemporaryBeside(const std::string& path, std::string& tmpPath) {
  std::string templ = path + ".tmp-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  tmpPath = buf.data();
  return fd;
}

bool isFolder(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace

void writeFileAtomic(const std::string& path,
                     const std::function<void(const std::string& tmpPath)>& produce) {
  std::string tmpPath;
  int fd = makeTemporaryBeside(path, tmpPath);
  if (fd < 0)
    fail(path, "cannot create a temporary file in '" + directoryOf(path) + "'");
  ::close(fd);
  TempGuard guard{tmpPath};
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

std::optional<std::string> fileOutputProblem(const std::string& path) {
  if (path.empty())
    return "no file name";
  if (path.back() == '/' || isFolder(path))
    return path + ": names a folder, not a file";
  const std::string folder = directoryOf(path);
  struct stat st;
  if (::stat(folder.c_str(), &st) != 0)
    return path + ": the folder '" + folder + "' " +
           (errno == ENOENT ? std::string("does not exist") : std::strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return path + ": '" + folder + "' is not a folder";
  std::string probe;
  int fd = makeTemporaryBeside(path, probe);
  if (fd < 0)
    return path + ": cannot create a file in '" + folder + "': " + std::strerror(errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return std::nullopt;
}

std::optional<std::string> folderOutputProblem(const std::string& path) {
  if (path.empty())
    return "no folder name";
  // The nearest existing ancestor decides: create_directories makes the rest inside it.
  std::string existing = path;
  while (existing.size() > 1 && existing.back() == '/')
    existing.pop_back();
  while (existing != "/" && existing != "." && ::access(existing.c_str(), F_OK) != 0)
    existing = directoryOf(existing);
  if (!isFolder(existing))
    return path + ": '" + existing + "' is not a folder";
  if (::access(existing.c_str(), W_OK | X_OK) != 0)
    return path + ": cannot create files in '" + existing + "': " + std::strerror(errno);
  return std::nullopt;
}

} // namespace podm::io
