// Line indexing for diagnostics.
#include "frontend/ast/source.h"

#include <fstream>
#include <sstream>

namespace podm {

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i) {
    char c = text_[i];
    // '\r\n', '\n' and a lone '\r' each end a line, as in the lexer.
    if (c == '\n' || (c == '\r' && (i + 1 >= text_.size() || text_[i + 1] != '\n')))
      lineStarts_.push_back(i + 1);
  }
}

std::string_view SourceFile::line(uint32_t line) const {
  if (line == 0 || line > lineStarts_.size())
    return {};
  size_t begin = lineStarts_[line - 1];
  size_t end = line < lineStarts_.size() ? lineStarts_[line] : text_.size();
  while (end > begin && (text_[end - 1] == '\n' || text_[end - 1] == '\r'))
    --end;
  return std::string_view(text_).substr(begin, end - begin);
}

SourceLoc SourceFile::locationOf(size_t byteOffset) const {
  size_t lo = 0, hi = lineStarts_.size();
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    (lineStarts_[mid] <= byteOffset ? lo : hi) = mid;
  }
  uint32_t col = 1;
  for (size_t i = lineStarts_[lo]; i < byteOffset && i < text_.size(); ++i)
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80)
      ++col;
  return SourceLoc{static_cast<uint32_t>(lo + 1), col, 1};
}

bool readFile(const std::string& path, std::string& text, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "'";
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    error = "cannot read '" + path + "'";
    return false;
  }
  text = buffer.str();
  return true;
}

} // namespace podm
