// Newline significance, lexical diagnostics and the nesting limit (see token_filter.h).
#include "frontend/parse/token_filter.h"

#include "PodmLexer.h"

#include <cstdio>

namespace podm::frontend {

using Lexer = podm::parser::PodmLexer;

namespace {

// Tokens after which a line cannot end, so a newline there continues the statement.
bool continuesLine(size_t type) {
  switch (type) {
  case Lexer::ASSIGN:
  case Lexer::COMMA:
  case Lexer::COLON:
  case Lexer::PLUS:
  case Lexer::MINUS:
  case Lexer::STAR:
  case Lexer::SLASH:
  case Lexer::CARET:
  case Lexer::LT:
  case Lexer::LE:
  case Lexer::GT:
  case Lexer::GE:
  case Lexer::AND:
  case Lexer::OR:
    return true;
  default:
    return false;
  }
}

std::string describeChar(const std::string& text) {
  unsigned char c = text.empty() ? 0 : static_cast<unsigned char>(text[0]);
  if (c >= 0x21 && c < 0x7f)
    return "'" + text + "'";
  if (c >= 0x80)
    return "'" + text + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", c);
  return buf;
}

} // namespace

SourceLoc LocationMap::of(const antlr4::Token* t) const {
  size_t length = t->getStopIndex() >= t->getStartIndex() && t->getType() != antlr4::Token::EOF
                      ? t->getStopIndex() - t->getStartIndex() + 1
                      : 1;
  return map(t->getLine(), t->getCharPositionInLine(), length);
}

TokenFilter::TokenFilter(antlr4::Lexer& lexer, DiagnosticEngine& diags,
                         const LocationMap& locations, uint32_t maxNesting,
                         size_t maxStatementTokens, size_t maxErrors)
    : lexer_(lexer), diags_(diags), locations_(locations), maxNesting_(maxNesting),
      maxStatementTokens_(maxStatementTokens), maxErrors_(maxErrors), last_(Lexer::NEWLINE) {
}

void TokenFilter::stop() {
  antlr4::CharStream* input = lexer_.getInputStream();
  input->seek(input->size());
}

bool TokenFilter::keepsNewline() const {
  if (!open_.empty() && open_.back() != Lexer::LBRACE) // only blocks keep their newlines
    return false;
  return last_ != Lexer::NEWLINE && !continuesLine(last_);
}

std::unique_ptr<antlr4::Token> TokenFilter::nextToken() {
  for (;;) {
    if (diags_.errorCount() >= maxErrors_)
      stop(); // the lexer returns end of file from here on
    std::unique_ptr<antlr4::Token> token = lexer_.nextToken();
    size_t type = token->getType();

    if (type == Lexer::UNTERMINATED_STRING) {
      diags_.error(locations_.of(token.get()), "unterminated string literal");
      continue;
    }
    if (type == Lexer::BAD_CHAR) {
      diags_.error(locations_.of(token.get()),
                   "unexpected character " + describeChar(token->getText()));
      continue;
    }
    if (type == Lexer::NEWLINE) {
      if (!keepsNewline())
        continue;
    } else if (type == Lexer::LPAREN || type == Lexer::LBRACK || type == Lexer::LBRACE ||
               (type == Lexer::NORM && (open_.empty() || open_.back() != Lexer::NORM))) {
      open_.push_back(type);
      if (open_.size() > maxNesting_) {
        diags_.error(locations_.of(token.get()),
                     "nesting deeper than " + std::to_string(maxNesting_) + " levels");
        stop();
        continue;
      }
    } else if (type == Lexer::RPAREN || type == Lexer::RBRACK || type == Lexer::RBRACE ||
               type == Lexer::NORM) {
      if (!open_.empty())
        open_.pop_back();
    }
    statementTokens_ = type == Lexer::NEWLINE || type == Lexer::SEMI ? 0 : statementTokens_ + 1;
    if (statementTokens_ > maxStatementTokens_ && type != antlr4::Token::EOF) {
      diags_.error(locations_.of(token.get()),
                   "statement longer than " + std::to_string(maxStatementTokens_) + " tokens");
      stop();
      continue;
    }
    last_ = type;
    return token;
  }
}

} // namespace podm::frontend
