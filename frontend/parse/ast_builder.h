// Builds the AST from ANTLR's parse tree: one visit method per grammar alternative, each attaching
// the source location of its first token. The depth guard keeps the later tree walks bounded.
#pragma once

#include "PodmBaseVisitor.h"
#include "frontend/ast/ast.h"
#include "frontend/parse/token_filter.h"

namespace podm::frontend {

// Parses the expression inside `{...}` of an interpolated string (defined in parse.cpp).
ast::ExprPtr parseInterpolation(const std::string& text, SourceLoc at, DiagnosticEngine& diags);

class AstBuilder : public podm::parser::PodmBaseVisitor {
public:
  AstBuilder(DiagnosticEngine& diags, const LocationMap& locations, uint32_t maxDepth)
      : diags_(diags), locations_(locations), maxDepth_(maxDepth) {}

  ast::Model buildModel(podm::parser::PodmParser::ProgramContext* program);
  ast::ExprPtr buildExpr(podm::parser::PodmParser::ExprContext* expr);

  // Alternatives of `decl`; each returns a heap Decl adopted by buildModel.
  antlrcpp::Any visitInputDecl(podm::parser::PodmParser::InputDeclContext* c) override;
  antlrcpp::Any visitConstDecl(podm::parser::PodmParser::ConstDeclContext* c) override;
  antlrcpp::Any visitParamDecl(podm::parser::PodmParser::ParamDeclContext* c) override;
  antlrcpp::Any visitOpDecl(podm::parser::PodmParser::OpDeclContext* c) override;
  antlrcpp::Any visitVarDecl(podm::parser::PodmParser::VarDeclContext* c) override;
  antlrcpp::Any visitTermDecl(podm::parser::PodmParser::TermDeclContext* c) override;
  antlrcpp::Any visitNetDecl(podm::parser::PodmParser::NetDeclContext* c) override;
  antlrcpp::Any visitScheduleDecl(podm::parser::PodmParser::ScheduleDeclContext* c) override;
  antlrcpp::Any visitStagesDecl(podm::parser::PodmParser::StagesDeclContext* c) override;
  antlrcpp::Any visitMonitorDecl(podm::parser::PodmParser::MonitorDeclContext* c) override;
  antlrcpp::Any visitOutputDecl(podm::parser::PodmParser::OutputDeclContext* c) override;

  // Alternatives of `expr` and `primary`; each returns a heap Expr adopted by buildExpr.
  antlrcpp::Any visitPrimaryExpr(podm::parser::PodmParser::PrimaryExprContext* c) override;
  antlrcpp::Any visitAdjointExpr(podm::parser::PodmParser::AdjointExprContext* c) override;
  antlrcpp::Any visitMemberExpr(podm::parser::PodmParser::MemberExprContext* c) override;
  antlrcpp::Any visitIndexExpr(podm::parser::PodmParser::IndexExprContext* c) override;
  antlrcpp::Any visitPowerExpr(podm::parser::PodmParser::PowerExprContext* c) override;
  antlrcpp::Any visitNegExpr(podm::parser::PodmParser::NegExprContext* c) override;
  antlrcpp::Any visitApplyExpr(podm::parser::PodmParser::ApplyExprContext* c) override;
  antlrcpp::Any visitMulExpr(podm::parser::PodmParser::MulExprContext* c) override;
  antlrcpp::Any visitAddExpr(podm::parser::PodmParser::AddExprContext* c) override;
  antlrcpp::Any visitCompareExpr(podm::parser::PodmParser::CompareExprContext* c) override;
  antlrcpp::Any visitAndExpr(podm::parser::PodmParser::AndExprContext* c) override;
  antlrcpp::Any visitOrExpr(podm::parser::PodmParser::OrExprContext* c) override;
  antlrcpp::Any visitNumberLit(podm::parser::PodmParser::NumberLitContext* c) override;
  antlrcpp::Any visitStringLit(podm::parser::PodmParser::StringLitContext* c) override;
  antlrcpp::Any visitBoolLit(podm::parser::PodmParser::BoolLitContext* c) override;
  antlrcpp::Any visitCallExpr(podm::parser::PodmParser::CallExprContext* c) override;
  antlrcpp::Any visitNameExpr(podm::parser::PodmParser::NameExprContext* c) override;
  antlrcpp::Any visitParenExpr(podm::parser::PodmParser::ParenExprContext* c) override;
  antlrcpp::Any visitNormExpr(podm::parser::PodmParser::NormExprContext* c) override;
  antlrcpp::Any visitListExpr(podm::parser::PodmParser::ListExprContext* c) override;
  antlrcpp::Any visitLayersExpr(podm::parser::PodmParser::LayersExprContext* c) override;

private:
  ast::ExprPtr build(antlr4::ParserRuleContext* c);
  ast::Expr* node(ast::ExprKind kind, antlr4::ParserRuleContext* c);
  ast::Expr* binary(ast::BinaryOp op, podm::parser::PodmParser::ExprContext* lhs,
                    podm::parser::PodmParser::ExprContext* rhs, antlr4::ParserRuleContext* c);
  ast::Decl* decl(ast::DeclKind kind, antlr4::ParserRuleContext* c, antlr4::Token* name);
  SourceLoc loc(antlr4::Token* t) const { return locations_.of(t); }
  SourceLoc loc(antlr4::ParserRuleContext* c) const { return locations_.of(c->getStart()); }
  void decodeString(ast::Expr& e, antlr4::Token* token);

  DiagnosticEngine& diags_;
  LocationMap locations_;
  uint32_t maxDepth_;
  uint32_t depth_ = 0;
  bool depthReported_ = false;
};

} // namespace podm::frontend
