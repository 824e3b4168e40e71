// Atomic file replacement: content goes to a temporary file in the target's directory, is fsync'ed,
// then renamed over the target (rename is atomic within one file system), and the directory is
// fsync'ed so the new name survives a crash. On any failure the temporary is removed and an
// existing target is left untouched.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace podm::io {

// Calls produce(tmpPath) to write the content into tmpPath (any way it likes: stdio, libtiff...),
// then commits it to `path`. Exceptions from produce propagate after the temporary is removed.
void writeFileAtomic(const std::string& path,
                     const std::function<void(const std::string& tmpPath)>& produce);
// The common case: the bytes are already in memory.
void writeFileAtomic(const std::string& path, std::string_view bytes);

} // namespace podm::io
