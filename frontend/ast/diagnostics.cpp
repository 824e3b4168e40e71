// Rendering of diagnostics with source excerpts. Lines can be megabytes long (hostile input), so
// the excerpt is a window of code points around the column.
#include "frontend/ast/diagnostics.h"

#include <ostream>

namespace podm {
namespace {

constexpr uint32_t kWindow = 60; // code points shown on each side of the caret

const char* severityName(Severity s) {
  switch (s) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

// The code points of `line` with index in [first, last) (invalid bytes count as one point
// each). Only the window is collected: a line can be megabytes long.
std::vector<std::string_view> codePoints(std::string_view line, uint32_t first, uint32_t last,
                                         uint32_t& total) {
  std::vector<std::string_view> points;
  total = 0;
  for (size_t i = 0; i < line.size(); ++total) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + n > line.size())
      n = 1;
    if (total >= first && total < last)
      points.push_back(line.substr(i, n));
    i += n;
  }
  return points;
}

} // namespace

void DiagnosticEngine::add(Severity severity, SourceLoc loc, std::string message) {
  if (severity == Severity::Error) {
    if (errors_ >= errorLimit_) {
      if (!limitReported_) {
        limitReported_ = true;
        diagnostics_.push_back({Severity::Note, {}, "too many errors; stopping here"});
      }
      return;
    }
    ++errors_;
  }
  diagnostics_.push_back({severity, loc, std::move(message)});
}

void DiagnosticEngine::error(SourceLoc loc, std::string message) {
  add(Severity::Error, loc, std::move(message));
}
void DiagnosticEngine::warning(SourceLoc loc, std::string message) {
  add(Severity::Warning, loc, std::move(message));
}
void DiagnosticEngine::note(SourceLoc loc, std::string message) {
  add(Severity::Note, loc, std::move(message));
}

std::string DiagnosticEngine::render(const Diagnostic& d) const {
  std::string out = file_.path();
  if (d.loc.known())
    out += ":" + std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col);
  out += std::string(": ") + severityName(d.severity) + ": " + d.message + "\n";
  if (!d.loc.known())
    return out;
  uint32_t caretIndex = d.loc.col - 1;
  uint32_t first = caretIndex > kWindow ? caretIndex - kWindow : 0;
  uint32_t total = 0;
  auto points = codePoints(file_.line(d.loc.line), first, caretIndex + kWindow, total);
  uint32_t last = first + static_cast<uint32_t>(points.size());
  std::string excerpt = first > 0 ? "..." : "";
  std::string caret(excerpt.size(), ' ');
  for (uint32_t i = first; i < last; ++i) {
    std::string_view p = points[i - first];
    bool printable =
        p.size() > 1 ||
        (static_cast<unsigned char>(p[0]) >= 0x20 && static_cast<unsigned char>(p[0]) < 0x7f) ||
        p[0] == '\t';
    bool validMulti = p.size() > 1 || static_cast<unsigned char>(p[0]) < 0x80;
    excerpt += printable && validMulti ? std::string(p) : std::string("?");
    if (i < caretIndex)
      caret += p[0] == '\t' ? '\t' : ' ';
  }
  if (last < total)
    excerpt += "...";
  uint32_t underline = std::max<uint32_t>(1, std::min<uint32_t>(d.loc.length, kWindow));
  caret += "^";
  if (underline > 1)
    caret += std::string(underline - 1, '~');
  // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&&.
  out.append("  ").append(excerpt).append("\n  ").append(caret).append("\n");
  return out;
}

void DiagnosticEngine::print(std::ostream& out) const {
  for (const Diagnostic& d : diagnostics_)
    out << render(d);
}

} // namespace podm
