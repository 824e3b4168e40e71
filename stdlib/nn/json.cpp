// Strict JSON parsing for weight-file headers; see json.h for why it is our own.
#include "stdlib/nn/json.h"

#include <cstdlib>
#include <limits>

namespace podm::nn::json {

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : members)
    if (k == key)
      return &v;
  return nullptr;
}

bool Value::asIndex(int64_t& out) const {
  if (kind != Kind::Number || text.empty() || text[0] == '-')
    return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    int d = c - '0';
    if (v > (std::numeric_limits<int64_t>::max() - d) / 10)
      return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

double Value::asDouble() const {
  return std::strtod(text.c_str(), nullptr);
}

namespace {

class Parser {
public:
  Parser(std::string_view s, int maxDepth) : s_(s), maxDepth_(maxDepth) {}

  Value document() {
    skipWs();
    Value v = value(0);
    skipWs();
    if (pos_ != s_.size())
      fail("unexpected data after the JSON value");
    return v;
  }

private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ParseError("JSON error at byte " + std::to_string(pos_) + ": " + what);
  }
  bool atEnd() const { return pos_ >= s_.size(); }
  char peek() const { return atEnd() ? '\0' : s_[pos_]; }
  void skipWs() {
    while (!atEnd() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c) {
    if (peek() != c || atEnd())
      fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  void literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word)
      fail("invalid literal");
    pos_ += word.size();
  }

  Value value(int depth) {
    if (depth > maxDepth_)
      fail("nesting deeper than " + std::to_string(maxDepth_));
    if (atEnd())
      fail("unexpected end of input");
    Value v;
    char c = peek();
    if (c == '{') {
      v.kind = Value::Kind::Object;
      ++pos_;
      skipWs();
      if (peek() == '}') {
        ++pos_;
        return v;
      }
      for (;;) {
        skipWs();
        if (peek() != '"')
          fail("expected a string key");
        std::string key = string();
        for (const auto& m : v.members)
          if (m.first == key)
            fail("duplicate key '" + key + "'");
        skipWs();
        expect(':');
        skipWs();
        v.members.emplace_back(std::move(key), value(depth + 1));
        skipWs();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = Value::Kind::Array;
      ++pos_;
      skipWs();
      if (peek() == ']') {
        ++pos_;
        return v;
      }
      for (;;) {
        skipWs();
        v.items.push_back(value(depth + 1));
        skipWs();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = Value::Kind::String;
      v.text = string();
      return v;
    }
    if (c == 't') {
      literal("true");
      v.kind = Value::Kind::Bool;
      v.boolean = true;
      return v;
    }
    if (c == 'f') {
      literal("false");
      v.kind = Value::Kind::Bool;
      return v;
    }
    if (c == 'n') {
      literal("null");
      return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = Value::Kind::Number;
      v.text = number();
      return v;
    }
    fail("unexpected character");
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  std::string number() {
    size_t start = pos_;
    if (peek() == '-')
      ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (digit(peek())) {
      while (digit(peek()))
        ++pos_;
    } else {
      fail("invalid number");
    }
    if (peek() == '.') {
      ++pos_;
      if (!digit(peek()))
        fail("invalid number");
      while (digit(peek()))
        ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-')
        ++pos_;
      if (!digit(peek()))
        fail("invalid number");
      while (digit(peek()))
        ++pos_;
    }
    return std::string(s_.substr(start, pos_ - start));
  }

  unsigned hex4() {
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = peek();
      if (atEnd())
        fail("truncated \\u escape");
      ++pos_;
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= unsigned(c - 'A' + 10);
      else
        fail("invalid \\u escape");
    }
    return v;
  }

  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      if (atEnd())
        fail("unterminated string");
      char c = s_[pos_++];
      if (c == '"')
        return out;
      if (static_cast<unsigned char>(c) < 0x20)
        fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (atEnd())
        fail("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        unsigned cp = hex4();
        if (cp >= 0xD800 && cp < 0xDC00) {
          if (peek() != '\\')
            fail("unpaired surrogate");
          ++pos_;
          if (peek() != 'u')
            fail("unpaired surrogate");
          ++pos_;
          unsigned lo = hex4();
          if (lo < 0xDC00 || lo > 0xDFFF)
            fail("unpaired surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp < 0xE000) {
          fail("unpaired surrogate");
        }
        utf8(out, cp);
        break;
      }
      default:
        fail("invalid escape");
      }
    }
  }

  std::string_view s_;
  int maxDepth_;
  size_t pos_ = 0;
};

} // namespace

Value parse(std::string_view text, int maxDepth) {
  return Parser(text, maxDepth).document();
}

} // namespace podm::nn::json
