// Syntax error wording (see syntax_errors.h).
#include "frontend/parse/syntax_errors.h"

#include "PodmLexer.h"

namespace podm::frontend {

using Lexer = podm::parser::PodmLexer;

namespace {

constexpr size_t kMaxListedExpectations = 4;

std::string describeToken(const antlr4::Token* token) {
  switch (token->getType()) {
  case antlr4::Token::EOF:
    return "end of file";
  case Lexer::NEWLINE:
    return "end of line";
  default: {
    std::string text = token->getText();
    if (text.size() > 40)
      text = text.substr(0, 37) + "...";
    return "'" + text + "'";
  }
  }
}

} // namespace

std::string describeTokenType(size_t type, const antlr4::dfa::Vocabulary& vocabulary) {
  switch (type) {
  case antlr4::Token::EOF:
    return "end of file";
  case Lexer::NEWLINE:
    return "end of line";
  case Lexer::ID:
    return "a name";
  case Lexer::NUMBER:
    return "a number";
  case Lexer::STRING:
    return "a string";
  default:
    return vocabulary.getLiteralName(type);
  }
}

void SyntaxErrorListener::syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending,
                                      size_t line, size_t column, const std::string& message,
                                      std::exception_ptr) {
  SourceLoc loc = offending ? locations_.of(offending) : locations_.map(line, column, 1);
  if (!offending) {
    diags_.error(loc, "syntax error");
    return;
  }
  // ANTLR's single-token insertion says "missing X at Y": keep that shape, in our words.
  if (message.rfind("missing ", 0) == 0) {
    size_t at = message.rfind(" at ");
    std::string what = message.substr(8, at == std::string::npos ? std::string::npos : at - 8);
    if (what == "ID")
      what = "a name";
    diags_.error(loc, "missing " + what + " before " + describeToken(offending));
    return;
  }
  std::string text = "unexpected " + describeToken(offending);
  if (auto* parser = dynamic_cast<antlr4::Parser*>(recognizer)) {
    antlr4::misc::IntervalSet expected = parser->getExpectedTokens();
    if (!expected.isEmpty() && expected.size() <= kMaxListedExpectations) {
      std::vector<ssize_t> types = expected.toList();
      std::string list;
      for (size_t i = 0; i < types.size(); ++i) {
        if (i > 0)
          list += i + 1 == types.size() ? " or " : ", ";
        list += describeTokenType(static_cast<size_t>(types[i]), parser->getVocabulary());
      }
      text += "; expected " + list;
    }
  }
  diags_.error(loc, text);
}

} // namespace podm::frontend
