// Hostile input never crashes the front end and never takes long: each case must end with at
// least one diagnostic and no AST. Time is bounded (2 s, the front end's promise to users) only
// in optimised builds without sanitizers, where it is meaningful.
#include "frontend/parse/parse.h"

#include <chrono>
#include <doctest/doctest.h>
#include <random>

namespace {

#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr bool kTimed = false;
#else
constexpr bool kTimed = true;
#endif

// Parses `text` and returns the first diagnostic rendered (empty if none).
std::string rejects(const std::string& name, const std::string& text) {
  podm::SourceFile file(name, text);
  podm::DiagnosticEngine diags(file);
  auto start = std::chrono::steady_clock::now();
  std::optional<podm::ast::Model> model = podm::parseModel(file, diags);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CAPTURE(name);
  CHECK_FALSE(model.has_value());
  REQUIRE(diags.hasErrors());
  if (kTimed)
    CHECK(seconds < 2.0);
  return diags.render(diags.all().front());
}

std::string randomTokens(size_t bytes, unsigned seed) {
  static const char* const kTokens[] = {
      "model", "x", "(",      ")",    "[", "]", "{",  "}",    "+",      "-",  "*",
      "/",     "^", "||",     "=",    ",", ";", "\n", "1.5",  "\"s\"",  "op", "var",
      "f",     "g", "stages", "podm", "'", ".", "<",  "#c\n", "weights"};
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < bytes) {
    out += kTokens[rng() % (sizeof kTokens / sizeof *kTokens)];
    out += ' ';
  }
  return out;
}

} // namespace

TEST_CASE("an empty file") {
  CHECK(rejects("empty.podm", "") ==
        "empty.podm:1:1: error: unexpected end of file; expected 'model', ';' or end of line\n"
        "  \n  ^\n");
}

TEST_CASE("a binary file") {
  std::string bytes;
  for (int i = 0; i < 4096; ++i)
    bytes += static_cast<char>((i * 7919) & 0xFF);
  CHECK(rejects("binary.podm", bytes).find("NUL byte") != std::string::npos);
}

TEST_CASE("10 MB of random tokens") {
  for (unsigned seed : {1u, 2u, 3u})
    rejects("random.podm", randomTokens(10u << 20, seed));
  // Random tokens after a valid header, so the errors come deep inside declarations.
  rejects("random2.podm", "model m\n" + randomTokens(10u << 20, 4));
}

TEST_CASE("10,000 nested parentheses") {
  std::string text =
      "model m\nconst a = " + std::string(10000, '(') + "1" + std::string(10000, ')') + "\n";
  CHECK(rejects("nested.podm", text).find("nesting deeper than 256 levels") != std::string::npos);
  std::string norms = "model m\nconst a = ";
  for (int i = 0; i < 10000; ++i)
    norms += "[";
  rejects("brackets.podm", norms);
}

TEST_CASE("long chains that would recurse deeply") {
  for (const char* piece : {"- ", "1 ^ ", "1 + ", "x ' ", "K "})
    rejects(
        "chain.podm", "model m\nconst a = " + [&] {
          std::string s;
          while (s.size() < (4u << 20))
            s += piece;
          return s;
        }() + "1\n");
}

TEST_CASE("a 1 MB identifier") {
  std::string text = "model m\nconst " + std::string(1u << 20, 'a') + " = b\n";
  podm::SourceFile file("ident.podm", text);
  podm::DiagnosticEngine diags(file);
  // Syntactically valid: the parser accepts it; sema reports it. Here only the front end runs.
  CHECK(podm::parseModel(file, diags).has_value());
  std::string junk = "model m\n" + std::string(1u << 20, 'a') + " junk junk\n";
  std::string first = rejects("ident2.podm", junk);
  CHECK(first.size() < 400); // the excerpt is windowed, not a megabyte of 'a'
}

TEST_CASE("invalid UTF-8") {
  CHECK(rejects("utf8.podm", "model m\nconst a = 1 # caf\xc3\xa9 \xff\n") ==
        "utf8.podm:2:20: error: invalid UTF-8 byte 0xFF; model files must be UTF-8 text\n"
        "  const a = 1 # caf\xc3\xa9 ?\n                     ^\n");
  rejects("overlong.podm", "model m \xc0\xaf\n");
  rejects("surrogate.podm", "model m \xed\xa0\x80\n");
  rejects("truncated.podm", "model m \xe2\x82");
}

TEST_CASE("stray bytes and unterminated strings") {
  CHECK(rejects("ctl.podm", "model m\nconst a = 1 \x01\n").find("unexpected character U+0001") !=
        std::string::npos);
  rejects("string.podm", "model m\nnet A = dilated_cnn() weights \"abc");
}
