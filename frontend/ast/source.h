// A model file held in memory with its line index, and the locations the front end attaches to
// every AST node. Columns count Unicode code points, as ANTLR does, starting at 1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace podm {

struct SourceLoc {
  uint32_t line = 0;   // 1-based; 0 means "no location" (whole-file problems)
  uint32_t col = 0;    // 1-based, in code points
  uint32_t length = 1; // code points to underline
  bool known() const { return line != 0; }
};

class SourceFile {
public:
  SourceFile(std::string path, std::string text);

  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  uint32_t lineCount() const { return static_cast<uint32_t>(lineStarts_.size()); }
  // The text of a 1-based line, without its line terminator.
  std::string_view line(uint32_t line) const;
  // Location of a byte offset (column counted in code points).
  SourceLoc locationOf(size_t byteOffset) const;

private:
  std::string path_;
  std::string text_;
  std::vector<size_t> lineStarts_;
};

// Reads a whole file; returns false and sets `error` when it cannot be read.
bool readFile(const std::string& path, std::string& text, std::string& error);

} // namespace podm
