// parseModel: encoding check, lexing through the token filter, parsing with podm's syntax
// messages, AST building. Parsing runs on a thread with a large stack so that no input within the
// nesting limits can overflow it, whatever the platform's default stack size.
#include "frontend/parse/parse.h"

#include "PodmLexer.h"
#include "PodmParser.h"
#include "frontend/parse/ast_builder.h"
#include "frontend/parse/input_checks.h"
#include "frontend/parse/syntax_errors.h"

#include <functional>
#include <pthread.h>

namespace podm {
namespace {

constexpr size_t kParserStackBytes = size_t{512} << 20;

// Runs `work` on a thread with a stack of `bytes` and waits for it.
void runWithStack(size_t bytes, const std::function<void()>& work) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, bytes);
  pthread_t thread;
  auto trampoline = [](void* arg) -> void* {
    (*static_cast<const std::function<void()>*>(arg))();
    return nullptr;
  };
  if (pthread_create(&thread, &attr, trampoline, const_cast<std::function<void()>*>(&work)) != 0) {
    pthread_attr_destroy(&attr);
    work(); // no thread to be had: parse on this one
    return;
  }
  pthread_attr_destroy(&attr);
  pthread_join(thread, nullptr);
}

// Everything ANTLR needs for one parse, wired the same way for files and interpolations.
struct Pipeline {
  antlr4::ANTLRInputStream input;
  parser::PodmLexer lexer;
  frontend::TokenFilter filter;
  antlr4::CommonTokenStream tokens;
  parser::PodmParser parser;
  frontend::SyntaxErrorListener listener;

  Pipeline(const std::string& text, DiagnosticEngine& diags, const frontend::LocationMap& map,
           const ParseLimits& limits)
      : input(text), lexer(&input),
        filter(lexer, diags, map, limits.maxNesting, limits.maxStatementTokens,
               diags.errorCount() + limits.maxSyntaxErrors),
        tokens(&filter), parser(&tokens), listener(diags, map) {
    lexer.removeErrorListeners();
    parser.removeErrorListeners();
    parser.addErrorListener(&listener);
  }
};

} // namespace

namespace frontend {

ast::ExprPtr parseInterpolation(const std::string& text, SourceLoc at, DiagnosticEngine& diags) {
  size_t before = diags.errorCount();
  LocationMap map{at.line, at.col};
  Pipeline p(text, diags, map, ParseLimits{});
  parser::PodmParser::InterpolationContext* tree = p.parser.interpolation();
  if (diags.errorCount() != before)
    return nullptr;
  AstBuilder builder(diags, map, ParseLimits{}.maxExpressionDepth);
  return builder.buildExpr(tree->expr());
}

} // namespace frontend

std::optional<ast::Model> parseModel(const SourceFile& file, DiagnosticEngine& diags,
                                     const ParseLimits& limits) {
  if (!checkEncoding(file, diags))
    return std::nullopt;
  std::optional<ast::Model> model;
  runWithStack(kParserStackBytes, [&] {
    size_t before = diags.errorCount();
    frontend::LocationMap map;
    Pipeline p(file.text(), diags, map, limits);
    parser::PodmParser::ProgramContext* tree = p.parser.program();
    if (diags.errorCount() != before)
      return;
    frontend::AstBuilder builder(diags, map, limits.maxExpressionDepth);
    ast::Model built = builder.buildModel(tree);
    if (diags.errorCount() == before)
      model = std::move(built);
  });
  return model;
}

} // namespace podm
