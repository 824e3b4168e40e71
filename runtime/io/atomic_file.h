// Atomic file replacement: content goes to a temporary file in the target's directory, is fsync'ed,
// then renamed over the target (rename is atomic within one file system), and the directory is
// fsync'ed so the new name survives a crash. On any failure the temporary is removed and an
// existing target is left untouched.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace podm::io {

// Calls produce(tmpPath) to write the content into tmpPath (any way it likes: stdio, libtiff...),
// then commits it to `path`. Exceptions from produce propagate after the temporary is removed.
void writeFileAtomic(const std::string& path,
                     const std::function<void(const std::string& tmpPath)>& produce);
// The common case: the bytes are already in memory.
void writeFileAtomic(const std::string& path, std::string_view bytes);

// Why writeFileAtomic(path) would fail for the place rather than the content, or nullopt: `path`
// names a folder, its folder is missing or not a folder, or no file can be created there (tried
// the way writeFileAtomic does, with a temporary that is removed at once). A command checks its
// outputs with this before hours of work, not after; the final write still reports what changed
// in between.
std::optional<std::string> fileOutputProblem(const std::string& path);
// The same for a folder the command creates if missing (create_directories) and fills: nullopt
// when it is a writable folder, or when its nearest existing ancestor is one.
std::optional<std::string> folderOutputProblem(const std::string& path);

} // namespace podm::io
