// Checks on raw bytes before lexing: the lexer works on code points, so text that is not valid
// UTF-8 or that holds NUL bytes (a binary file) is reported here with a precise location.
#pragma once

#include "frontend/ast/diagnostics.h"

namespace podm {

// Reports the first encoding problem; returns false when the text cannot be lexed.
bool checkEncoding(const SourceFile& file, DiagnosticEngine& diags);

} // namespace podm
