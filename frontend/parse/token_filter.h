// Sits between the generated lexer and the parser. It makes newlines significant only where they
// end a statement (not inside (), [] or || ||, not after a binary operator), turns the lexer's
// catch-all tokens into precise diagnostics, and enforces the nesting limit that keeps the
// recursive-descent parser's stack bounded on hostile input.
#pragma once

#include "frontend/ast/diagnostics.h"

#include <antlr4-runtime.h>
#include <vector>

namespace podm::frontend {

// Maps ANTLR (line, 0-based column) to source locations; interpolations are parsed from a
// substring and mapped back into their string literal.
struct LocationMap {
  uint32_t baseLine = 0; // 0: identity mapping
  uint32_t baseCol = 0;
  SourceLoc map(size_t line, size_t col, size_t length) const {
    if (baseLine == 0)
      return {static_cast<uint32_t>(line), static_cast<uint32_t>(col + 1),
              static_cast<uint32_t>(length)};
    return {baseLine, static_cast<uint32_t>(baseCol + col), static_cast<uint32_t>(length)};
  }
  SourceLoc of(const antlr4::Token* t) const;
};

class TokenFilter : public antlr4::TokenSource {
public:
  TokenFilter(antlr4::Lexer& lexer, DiagnosticEngine& diags, const LocationMap& locations,
              uint32_t maxNesting, size_t maxStatementTokens, size_t maxErrors);

  std::unique_ptr<antlr4::Token> nextToken() override;
  size_t getLine() const override { return lexer_.getLine(); }
  size_t getCharPositionInLine() override { return lexer_.getCharPositionInLine(); }
  antlr4::CharStream* getInputStream() override { return lexer_.getInputStream(); }
  std::string getSourceName() override { return lexer_.getSourceName(); }
  antlr4::TokenFactory<antlr4::CommonToken>* getTokenFactory() override {
    return lexer_.getTokenFactory();
  }

  // Skips the rest of the input: the parser sees end of file next.
  void stop();

private:
  bool keepsNewline() const;

  antlr4::Lexer& lexer_;
  DiagnosticEngine& diags_;
  LocationMap locations_;
  uint32_t maxNesting_;
  size_t maxStatementTokens_; // bounds the parser's recursion on chains such as - - - x
  size_t maxErrors_;
  size_t statementTokens_ = 0;
  std::vector<size_t> open_; // token types of the open brackets
  size_t last_;              // type of the last token passed on
};

} // namespace podm::frontend
