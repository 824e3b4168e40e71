// The one exception type of the graph IR. Builders, the verifier and the .pgraph loader throw it
// with a message that names the node (`%12 conv2d`) or the file offset, so a user can act on it.
#pragma once

#include <stdexcept>
#include <string>

namespace podm::ir {

class IrError : public std::runtime_error {
public:
  explicit IrError(const std::string& message) : std::runtime_error(message) {}
};

} // namespace podm::ir
