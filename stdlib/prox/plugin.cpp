// Plugin loading through dlopen. Registration first goes into a scratch registry so that a
// plugin clashing with an existing name (or throwing halfway) leaves the real registry untouched;
// the scratch entries are destroyed before dlclose, since their factories are code in the library.
#include "stdlib/prox/plugin.h"

#include <cstring>
#include <dlfcn.h>
#include <exception>
#include <filesystem>
#include <fstream>

namespace podm::stdlib {

namespace {

using AbiVersionFunction = int (*)();
using RegisterFunction = void (*)(ProxRegistry&);

bool hasElfHeader(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  char magic[4] = {};
  file.read(magic, sizeof magic);
  return file.gcount() == 4 && std::memcmp(magic,
                                           "\x7f"
                                           "ELF",
                                           4) == 0;
}

// Closes the library unless released; plugins that fail to load must not stay mapped.
class LibraryHandle {
public:
  explicit LibraryHandle(void* handle) : handle_(handle) {}
  LibraryHandle(const LibraryHandle&) = delete;
  LibraryHandle& operator=(const LibraryHandle&) = delete;
  ~LibraryHandle() {
    if (handle_)
      dlclose(handle_);
  }
  void* get() const { return handle_; }
  void release() { handle_ = nullptr; }

private:
  void* handle_;
};

void* lookUp(void* handle, const char* symbol) {
  dlerror(); // clear a stale error so that a null symbol value is not mistaken for one
  return dlsym(handle, symbol);
}

} // namespace

bool loadProxPlugin(const std::string& path, ProxRegistry& registry, std::string& error) {
  const std::string prefix = "plugin '" + path + "': ";
  std::error_code filesystemError;
  if (!std::filesystem::exists(path, filesystemError)) {
    error = prefix + "file not found";
    return false;
  }
  if (!std::filesystem::is_regular_file(path, filesystemError) || !hasElfHeader(path)) {
    error = prefix + "not a shared library (no ELF header); build the plugin as a CMake MODULE "
                     "library, see docs/extending.md";
    return false;
  }
  // A path without a slash would make dlopen search the library path instead of this file.
  std::string openPath = path.find('/') == std::string::npos ? "./" + path : path;
  LibraryHandle library(dlopen(openPath.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!library.get()) {
    const char* reason = dlerror();
    error = prefix + "cannot be loaded: " + (reason ? reason : "unknown dlopen error") +
            " (a plugin must be built against this podm, and the host must export its symbols)";
    return false;
  }

  auto abiVersion = reinterpret_cast<AbiVersionFunction>(lookUp(library.get(), kPluginAbiSymbol));
  if (!abiVersion) {
    error = prefix + "does not export " + kPluginAbiSymbol + "(); add PODM_PLUGIN_EXPORT int " +
            kPluginAbiSymbol + "() { return podm::stdlib::kProxPluginAbiVersion; }";
    return false;
  }
  if (int version = abiVersion(); version != kProxPluginAbiVersion) {
    error = prefix + "was built for plugin ABI version " + std::to_string(version) +
            ", this podm expects version " + std::to_string(kProxPluginAbiVersion) +
            "; rebuild the plugin against this podm's headers";
    return false;
  }
  auto registerProxes =
      reinterpret_cast<RegisterFunction>(lookUp(library.get(), kPluginRegisterSymbol));
  if (!registerProxes) {
    error = prefix + "does not export " + kPluginRegisterSymbol +
            "; define PODM_PLUGIN_EXPORT void " + kPluginRegisterSymbol +
            "(podm::stdlib::ProxRegistry&)";
    return false;
  }

  {
    ProxRegistry scratch;
    try {
      registerProxes(scratch);
    } catch (const std::exception& thrown) {
      error = prefix + "registration failed: " + thrown.what();
      return false;
    } catch (...) {
      error = prefix + "registration threw a non-standard exception";
      return false;
    }
    std::vector<const ProxEntry*> added = scratch.all();
    if (added.empty()) {
      error = prefix + "registered no prox function";
      return false;
    }
    for (const ProxEntry* entry : added)
      if (registry.find(entry->name)) {
        error = prefix + "prox '" + entry->name +
                "' is already registered (by the standard library or another plugin); rename it";
        return false;
      }
    for (const ProxEntry* entry : added)
      registry.add(*entry);
  }
  library.release();
  return true;
}

} // namespace podm::stdlib
