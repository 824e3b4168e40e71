// The front end's one entry point: model text in, AST out. The only layer that sees ANTLR; nothing
// it returns mentions tokens or parse trees.
#pragma once

#include "frontend/ast/ast.h"
#include "frontend/ast/diagnostics.h"

#include <optional>

namespace podm {

struct ParseLimits {
  uint32_t maxNesting = 256;         // brackets/norms open at once
  uint32_t maxExpressionDepth = 512; // AST depth of one expression (a + a + ... is deep too)
  size_t maxStatementTokens = 5000;  // tokens in one statement (prediction cost grows with it)
  size_t maxSyntaxErrors = 20;       // then the rest of the file is skipped
};

// Parses a whole model file. Returns the AST when the file is syntactically valid; otherwise
// reports every syntax error found (up to the limit) into `diags` and returns nullopt.
std::optional<ast::Model> parseModel(const SourceFile& file, DiagnosticEngine& diags,
                                     const ParseLimits& limits = {});

} // namespace podm
