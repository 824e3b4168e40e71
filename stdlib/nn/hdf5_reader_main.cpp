// podm-hdf5-reader: the one program that links libhdf5. podm starts it (hdf5_isolation.cpp) to
// read Keras files and to list their datasets, for two reasons:
// - libhdf5 1.10 is not memory-safe on every corrupt file (fuzzing found a use-after-free in
//   H5Aopen); whatever it does to a hostile file happens here, where it cannot touch podm;
// - libhdf5 and what it links (curl, TLS, Kerberos, LDAP: 25 libraries) cost about 6 ms at every
//   start of a program that links them, paid by runs that read no HDF5 file at all.
//   podm-hdf5-reader keras FILE...   '\1' + one model or error per file (hdf5_wire.h)
//   podm-hdf5-reader inspect FILE    '\1' + the dataset list, or '\0' + the error
// The result goes to stdout; the program ends with _exit right after writing it, so nothing
// (destructors, a sanitizer's leak report on libhdf5's globals) can change the exit status.
#include "stdlib/nn/hdf5_wire.h"
#include "stdlib/nn/keras_hdf5_impl.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

// Under AddressSanitizer: libhdf5 (not instrumented) sizes some metadata buffers from the file,
// and on corrupt files it can ask malloc for terabytes; it handles a NULL return as a read error.
// ASan would abort instead, so let malloc return NULL above 4 GB. A C++ `new` above that limit
// still aborts, so our own code keeps being checked for over-allocation. (Unused without ASan.)
extern "C" __attribute__((used, visibility("default"))) const char* __asan_default_options() {
  return "allocator_may_return_null=1:max_allocation_size_mb=4096";
}

namespace {

using namespace podm::nn;

std::string readAll(const std::vector<std::string>& paths) {
  std::vector<KerasRead> reads;
  for (const std::string& path : paths) {
    KerasRead read;
    try {
      read.model = readKerasHdf5InProcess(path);
    } catch (const WeightsError& e) {
      read.error = e.what();
    } catch (const std::exception& e) {
      read.error = path + ": " + e.what();
    }
    reads.push_back(std::move(read));
  }
  return wire::encodeKerasReads(reads);
}

std::string inspect(const std::string& path) {
  return wire::encodeTensorInfos(inspectHdf5InProcess(path));
}

void writeAll(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(STDOUT_FILENO, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      _exit(3);
    off += static_cast<size_t>(n);
  }
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2 || (args[0] != "keras" && args[0] != "inspect") ||
      (args[0] == "inspect" && args.size() != 2)) {
    static const char usage[] = "usage: podm-hdf5-reader keras FILE... | inspect FILE\n"
                                "(started by podm to read HDF5 weight files)\n";
    (void)!write(STDERR_FILENO, usage, sizeof usage - 1);
    _exit(2);
  }
  std::vector<std::string> files(args.begin() + 1, args.end());
  std::string out;
  try {
    out = std::string(1, '\1') + (args[0] == "keras" ? readAll(files) : inspect(files[0]));
  } catch (const WeightsError& e) {
    out = std::string(1, '\0') + e.what();
  } catch (const std::exception& e) {
    out = std::string(1, '\0') + files[0] + ": " + e.what();
  }
  writeAll(out);
  _exit(0);
}
