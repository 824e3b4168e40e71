// Diagnostics: every problem in a model file becomes `file:line:col: error: message`, followed by
// the source line and a caret under the spot. Stages report into one engine and keep going.
#pragma once

#include "frontend/ast/source.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace podm {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity = Severity::Error;
  SourceLoc loc;
  std::string message;
};

class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceFile& file, size_t errorLimit = 50)
      : file_(file), errorLimit_(errorLimit) {}

  void error(SourceLoc loc, std::string message);
  void warning(SourceLoc loc, std::string message);
  void note(SourceLoc loc, std::string message);

  size_t errorCount() const { return errors_; }
  bool hasErrors() const { return errors_ > 0; }
  // True once the error limit is reached; stages stop early instead of flooding the user.
  bool saturated() const { return errors_ >= errorLimit_; }
  const std::vector<Diagnostic>& all() const { return diagnostics_; }
  const SourceFile& file() const { return file_; }

  // The full rendering: header line, source line and caret (long lines are windowed).
  std::string render(const Diagnostic& d) const;
  void print(std::ostream& out) const;

private:
  void add(Severity severity, SourceLoc loc, std::string message);

  const SourceFile& file_;
  size_t errorLimit_;
  size_t errors_ = 0;
  bool limitReported_ = false;
  std::vector<Diagnostic> diagnostics_;
};

} // namespace podm
