// podm's side of HDF5: it never calls libhdf5 itself but starts the reader program
// podm-hdf5-reader (hdf5_reader_main.cpp) and decodes what it writes back over a pipe.
// Why a separate program: libhdf5 1.10.8 turns most corruption into error returns, but not all
// of it — fuzzing found a heap use-after-free inside H5Aopen on a mutated file (tests/stdlib/nn,
// under ASan). A weight file is user input, so whatever libhdf5 does with it happens in a process
// that cannot corrupt the compiler; a crash there becomes a WeightsError. And a podm that does
// not link libhdf5 starts about 6 ms sooner (docs/performance.md, start-up). The parent trusts
// nothing it reads back: the stream is size-capped and every count and length is checked while
// decoding (hdf5_wire.cpp).
#include "stdlib/nn/hdf5_wire.h"
#include "stdlib/nn/keras_hdf5.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace podm::nn {

namespace {

constexpr const char* kReaderName = "podm-hdf5-reader";

// Next to the running executable first (an installed or copied podm), then the build tree's copy
// (tests and the Python module run from other folders).
std::filesystem::path readerProgram(const std::string& label) {
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec)
    candidates.push_back(self.parent_path() / kReaderName);
#ifdef PODM_HDF5_READER
  candidates.emplace_back(PODM_HDF5_READER);
#endif
  std::string tried;
  for (const std::filesystem::path& p : candidates) {
    if (::access(p.c_str(), X_OK) == 0)
      return p;
    tried += (tried.empty() ? "" : ", ") + p.string();
  }
  throw WeightsError(label + ": cannot read HDF5 files: the reader program " + kReaderName +
                     " was not found (looked for " + tried + ")");
}

// Runs the reader with `args`; returns its payload or throws its WeightsError (or a crash report
// naming `label`: the file, or the files of a batch). `files` bound the size of a genuine result.
std::string runReader(const std::string& label, const std::vector<std::string>& files,
                      const std::vector<std::string>& args) {
  // A genuine result holds at most the files' values as f32 (f16 doubles) plus names.
  uint64_t cap = 1u << 20;
  for (const std::string& file : files) {
    std::ifstream f(file, std::ios::binary | std::ios::ate);
    if (!f)
      throw WeightsError(file + ": cannot open file");
    cap += 8 * static_cast<uint64_t>(f.tellg()) + (1u << 20);
  }
  const std::string program = readerProgram(label).string();
  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw WeightsError(label + ": cannot create a pipe for the HDF5 reader");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  // libhdf5's or a sanitizer's report about a hostile file is not the user's business.
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (spawned != 0) {
    close(fds[0]);
    throw WeightsError(label + ": cannot start the HDF5 reader " + program + " (" +
                       std::strerror(spawned) + ")");
  }
  std::string buf;
  char chunk[65536];
  bool tooBig = false;
  for (;;) {
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (buf.size() + static_cast<size_t>(n) > cap) {
      tooBig = true;
      kill(pid, SIGKILL);
      break;
    }
    buf.append(chunk, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (tooBig)
    throw WeightsError(label + ": the HDF5 reader produced more data than the file can hold");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || buf.empty())
    throw WeightsError(label +
                       ": libhdf5 crashed while reading the file (corrupt or hostile file)");
  if (buf[0] == '\0')
    throw WeightsError(buf.substr(1));
  return buf.substr(1);
}

// Reads every file in one reader process.
std::vector<KerasRead> readBatch(const std::vector<std::string>& paths) {
  std::string label = paths.size() == 1 ? paths[0] : "the HDF5 files " + paths[0] + ", ...";
  std::vector<std::string> args{"keras"};
  args.insert(args.end(), paths.begin(), paths.end());
  return wire::decodeKerasReads(runReader(label, paths, args), paths.size(), label);
}

} // namespace

bool isHdf5File(const std::string& path) {
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  std::ifstream f(path, std::ios::binary);
  unsigned char head[8] = {};
  f.read(reinterpret_cast<char*>(head), 8);
  return f && std::memcmp(head, sig, 8) == 0;
}

std::vector<KerasRead> readKerasHdf5All(const std::vector<std::string>& paths) {
  if (paths.empty())
    return {};
  try {
    return readBatch(paths);
  } catch (const WeightsError&) {
    if (paths.size() == 1)
      throw;
    // libhdf5 crashed (or the stream was bad) somewhere in the batch: read the files one by one,
    // so the error names the file that did it.
    std::vector<KerasRead> out;
    for (const std::string& path : paths) {
      KerasRead read;
      try {
        read = std::move(readBatch({path})[0]);
      } catch (const WeightsError& e) {
        read.error = e.what();
      }
      out.push_back(std::move(read));
    }
    return out;
  }
}

KerasModel readKerasHdf5(const std::string& path) {
  KerasRead read = std::move(readKerasHdf5All({path})[0]);
  if (!read.model)
    throw WeightsError(read.error);
  return std::move(*read.model);
}

std::vector<TensorInfo> inspectHdf5(const std::string& path) {
  return wire::decodeTensorInfos(runReader(path, {path}, {"inspect", path}), path);
}

} // namespace podm::nn
