// The one exception type of the graph IR. Builders, the verifier and the .pgraph loader throw it
// with a message that names the node (`%12 conv2d`) or the file offset, so a user can act on it.
#pragma once

#include <stdexcept>
#include <string>

namespace podm::ir {

class IrError : public std::runtime_error {
public:
  explicit IrError(const std::string& message) : std::runtime_error(message), detail_(message) {}
  // `who` names the node ("%12 conv2d: "); what() is who + detail, detail() the problem alone, for
  // messages that point at the model's source instead of at IR ids (lowering's diagnostics).
  IrError(const std::string& who, const std::string& detail)
      : std::runtime_error(who + detail), detail_(detail) {}
  const std::string& detail() const { return detail_; }

private:
  std::string detail_;
};

} // namespace podm::ir
