// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
#include "frontend/parse/input_checks.h"

#include <cstdio>

namespace podm {
namespace {

// Length of the valid UTF-8 sequence at `i`, or 0 when the bytes there are not valid UTF-8.
size_t sequenceLength(const std::string& s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80)
    return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinimum[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

} // namespace

bool checkEncoding(const SourceFile& file, DiagnosticEngine& diags) {
  const std::string& text = file.text();
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\0') {
      diags.error(file.locationOf(i), "file contains a NUL byte; is this a binary file?");
      return false;
    }
    size_t n = sequenceLength(text, i);
    if (n == 0) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[i]));
      diags.error(file.locationOf(i),
                  std::string("invalid UTF-8 byte ") + hex + "; model files must be UTF-8 text");
      return false;
    }
    i += n;
  }
  return true;
}

} // namespace podm
