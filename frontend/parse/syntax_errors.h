// Turns ANTLR's syntax errors into podm diagnostics with stable, readable wording: "unexpected
// 'x'; expected ')'" rather than the runtime's token-set dumps.
#pragma once

#include "frontend/parse/token_filter.h"

#include <antlr4-runtime.h>

namespace podm::frontend {

class SyntaxErrorListener : public antlr4::BaseErrorListener {
public:
  SyntaxErrorListener(DiagnosticEngine& diags, const LocationMap& locations)
      : diags_(diags), locations_(locations) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line,
                   size_t column, const std::string& message, std::exception_ptr error) override;

private:
  DiagnosticEngine& diags_;
  LocationMap locations_;
};

// How a token type reads in a message: "')'", "a name", "end of line".
std::string describeTokenType(size_t type, const antlr4::dfa::Vocabulary& vocabulary);

} // namespace podm::frontend
