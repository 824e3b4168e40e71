// Parse tree -> AST (see ast_builder.h). Heap nodes travel through antlrcpp::Any as raw pointers
// and are adopted by a unique_ptr at once; nothing here throws between the two.
#include "frontend/parse/ast_builder.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace podm::frontend {

using P = podm::parser::PodmParser;
using namespace podm::ast;

ExprPtr AstBuilder::build(antlr4::ParserRuleContext* c) {
  if (depth_ >= maxDepth_) {
    if (!depthReported_)
      diags_.error(loc(c), "expression nested too deeply (more than " + std::to_string(maxDepth_) +
                               " levels)");
    depthReported_ = true;
    return std::make_unique<Expr>(ExprKind::Number, loc(c));
  }
  ++depth_;
  Expr* raw = visit(c).as<Expr*>();
  --depth_;
  return ExprPtr(raw);
}

ExprPtr AstBuilder::buildExpr(P::ExprContext* expr) {
  return build(expr);
}

Expr* AstBuilder::node(ExprKind kind, antlr4::ParserRuleContext* c) {
  return new Expr(kind, loc(c));
}

Expr* AstBuilder::binary(BinaryOp op, P::ExprContext* lhs, P::ExprContext* rhs,
                         antlr4::ParserRuleContext* c) {
  Expr* e = node(ExprKind::Binary, c);
  e->op = op;
  e->operands.push_back(build(lhs));
  e->operands.push_back(build(rhs));
  return e;
}

Decl* AstBuilder::decl(DeclKind kind, antlr4::ParserRuleContext* c, antlr4::Token* name) {
  Decl* d = new Decl;
  d->kind = kind;
  d->loc = loc(c);
  if (name) {
    d->name = name->getText();
    d->nameLoc = loc(name);
  }
  return d;
}

namespace {

void readTypeSpec(AstBuilder& b, TypeSpec& spec, P::TypeSpecContext* c, const LocationMap& m) {
  if (!c)
    return;
  spec.name = c->ID()->getText();
  spec.loc = m.of(c->ID()->getSymbol());
  for (P::ExprContext* dim : c->expr())
    spec.dims.push_back(b.buildExpr(dim));
}

void readIndex(Decl& d, P::IndexContext* c, const LocationMap& m) {
  if (!c)
    return;
  d.index = c->ID()->getText();
  d.indexLoc = m.of(c->ID()->getSymbol());
}

} // namespace

// ---------------------------------------------------------------------------------- model --

Model AstBuilder::buildModel(P::ProgramContext* program) {
  Model model;
  P::ModelHeaderContext* header = program->modelHeader();
  if (header && header->name) {
    model.name = header->name->getText();
    model.loc = loc(header);
  }
  for (P::DeclContext* c : program->decl()) {
    antlrcpp::Any result = visit(c);
    if (result.is<Decl*>())
      model.decls.push_back(std::move(*std::unique_ptr<Decl>(result.as<Decl*>())));
  }
  return model;
}

antlrcpp::Any AstBuilder::visitInputDecl(P::InputDeclContext* c) {
  Decl* d = decl(DeclKind::Input, c, c->name);
  readTypeSpec(*this, d->type, c->type, locations_);
  d->optional = c->OPTIONAL() != nullptr;
  if (c->def)
    d->value = build(c->def);
  return d;
}

antlrcpp::Any AstBuilder::visitConstDecl(P::ConstDeclContext* c) {
  Decl* d = decl(DeclKind::Const, c, c->name);
  d->value = build(c->value);
  return d;
}

antlrcpp::Any AstBuilder::visitParamDecl(P::ParamDeclContext* c) {
  Decl* d = decl(DeclKind::Param, c, c->name);
  readIndex(*d, c->index(), locations_);
  d->value = build(c->value);
  return d;
}

antlrcpp::Any AstBuilder::visitOpDecl(P::OpDeclContext* c) {
  Decl* d = decl(DeclKind::Op, c, c->name);
  d->value = build(c->value);
  return d;
}

antlrcpp::Any AstBuilder::visitVarDecl(P::VarDeclContext* c) {
  Decl* d = decl(DeclKind::Var, c, c->name);
  readTypeSpec(*this, d->type, c->type, locations_);
  if (c->init)
    d->value = build(c->init);
  return d;
}

antlrcpp::Any AstBuilder::visitTermDecl(P::TermDeclContext* c) {
  Decl* d = decl(DeclKind::Term, c, c->name);
  for (antlr4::tree::TerminalNode* id : c->params->ID()) {
    d->params.push_back(id->getText());
    d->paramLocs.push_back(loc(id->getSymbol()));
  }
  d->value = build(c->body);
  return d;
}

antlrcpp::Any AstBuilder::visitNetDecl(P::NetDeclContext* c) {
  Decl* d = decl(DeclKind::Net, c, c->name);
  readIndex(*d, c->index(), locations_);
  d->value = build(c->body);
  if (P::NetWeightsContext* w = c->netWeights()) {
    d->weights = build(w->file);
    if (w->prefix)
      d->prefix = build(w->prefix);
  }
  return d;
}

antlrcpp::Any AstBuilder::visitScheduleDecl(P::ScheduleDeclContext* c) {
  Decl* d = decl(DeclKind::Schedule, c, c->name);
  d->value = build(c->value);
  return d;
}

antlrcpp::Any AstBuilder::visitStagesDecl(P::StagesDeclContext* c) {
  Decl* d = decl(DeclKind::Stages, c, c->solver);
  d->value = build(c->count);
  if (P::BlockContext* block = c->block()) {
    for (P::SettingContext* s : block->setting()) {
      Setting setting;
      setting.loc = loc(s);
      if (auto* assign = dynamic_cast<P::AssignSettingContext*>(s)) {
        setting.name = assign->name->getText();
        setting.value = build(assign->value);
      } else if (auto* stop = dynamic_cast<P::StopSettingContext*>(s)) {
        setting.name = "stop";
        setting.value = build(stop->cond);
      }
      if (setting.value)
        d->settings.push_back(std::move(setting));
    }
  }
  return d;
}

antlrcpp::Any AstBuilder::visitMonitorDecl(P::MonitorDeclContext* c) {
  Decl* d = decl(DeclKind::Monitor, c, nullptr);
  for (P::ExprContext* item : c->expr())
    d->items.push_back(build(item));
  return d;
}

antlrcpp::Any AstBuilder::visitOutputDecl(P::OutputDeclContext* c) {
  Decl* d = decl(DeclKind::Output, c, nullptr);
  d->value = build(c->value);
  return d;
}

// ---------------------------------------------------------------------------- expressions --

antlrcpp::Any AstBuilder::visitPrimaryExpr(P::PrimaryExprContext* c) {
  return build(c->primary()).release();
}

antlrcpp::Any AstBuilder::visitAdjointExpr(P::AdjointExprContext* c) {
  Expr* e = node(ExprKind::Adjoint, c);
  e->loc = loc(c->ADJ()->getSymbol());
  e->operands.push_back(build(c->expr()));
  return e;
}

antlrcpp::Any AstBuilder::visitMemberExpr(P::MemberExprContext* c) {
  Expr* e = node(ExprKind::Member, c);
  e->operands.push_back(build(c->expr()));
  e->text = c->ID()->getText();
  return e;
}

antlrcpp::Any AstBuilder::visitIndexExpr(P::IndexExprContext* c) {
  Expr* e = node(ExprKind::Index, c);
  e->operands.push_back(build(c->expr(0)));
  e->operands.push_back(build(c->expr(1)));
  return e;
}

antlrcpp::Any AstBuilder::visitPowerExpr(P::PowerExprContext* c) {
  Expr* e = node(ExprKind::Power, c);
  e->operands.push_back(build(c->expr(0)));
  e->operands.push_back(build(c->expr(1)));
  return e;
}

antlrcpp::Any AstBuilder::visitNegExpr(P::NegExprContext* c) {
  Expr* e = node(ExprKind::Neg, c);
  e->operands.push_back(build(c->expr()));
  return e;
}

antlrcpp::Any AstBuilder::visitApplyExpr(P::ApplyExprContext* c) {
  Expr* e = node(ExprKind::Apply, c);
  e->operands.push_back(build(c->expr()));
  // `K W' x`: the argument is a primary with its own adjoints.
  P::ApplyArgContext* arg = c->applyArg();
  ExprPtr operand = build(arg->primary());
  for (antlr4::tree::TerminalNode* adj : arg->ADJ()) {
    auto wrapped = std::make_unique<Expr>(ExprKind::Adjoint, loc(adj->getSymbol()));
    wrapped->operands.push_back(std::move(operand));
    operand = std::move(wrapped);
  }
  e->operands.push_back(std::move(operand));
  return e;
}

antlrcpp::Any AstBuilder::visitMulExpr(P::MulExprContext* c) {
  BinaryOp op = c->op->getText() == "*" ? BinaryOp::Mul : BinaryOp::Div;
  return binary(op, c->expr(0), c->expr(1), c);
}

antlrcpp::Any AstBuilder::visitAddExpr(P::AddExprContext* c) {
  BinaryOp op = c->op->getText() == "+" ? BinaryOp::Add : BinaryOp::Sub;
  return binary(op, c->expr(0), c->expr(1), c);
}

antlrcpp::Any AstBuilder::visitCompareExpr(P::CompareExprContext* c) {
  std::string text = c->op->getText();
  BinaryOp op = text == "<"    ? BinaryOp::Less
                : text == "<=" ? BinaryOp::LessEq
                : text == ">"  ? BinaryOp::Greater
                               : BinaryOp::GreaterEq;
  return binary(op, c->expr(0), c->expr(1), c);
}

antlrcpp::Any AstBuilder::visitAndExpr(P::AndExprContext* c) {
  return binary(BinaryOp::And, c->expr(0), c->expr(1), c);
}

antlrcpp::Any AstBuilder::visitOrExpr(P::OrExprContext* c) {
  return binary(BinaryOp::Or, c->expr(0), c->expr(1), c);
}

antlrcpp::Any AstBuilder::visitNumberLit(P::NumberLitContext* c) {
  Expr* e = node(ExprKind::Number, c);
  e->text = c->NUMBER()->getText();
  errno = 0;
  e->number = std::strtod(e->text.c_str(), nullptr);
  if (errno == ERANGE && std::isinf(e->number))
    diags_.error(e->loc, "number " + e->text + " is out of range");
  return e;
}

antlrcpp::Any AstBuilder::visitStringLit(P::StringLitContext* c) {
  Expr* e = node(ExprKind::String, c);
  decodeString(*e, c->STRING()->getSymbol());
  return e;
}

antlrcpp::Any AstBuilder::visitBoolLit(P::BoolLitContext* c) {
  Expr* e = node(ExprKind::Bool, c);
  e->boolean = c->TRUE() != nullptr;
  return e;
}

antlrcpp::Any AstBuilder::visitCallExpr(P::CallExprContext* c) {
  Expr* e = node(ExprKind::Call, c);
  e->text = c->ID()->getText();
  for (P::ArgContext* a : c->arg()) {
    Arg arg;
    if (a->name) {
      arg.name = a->name->getText();
      arg.nameLoc = loc(a->name);
    }
    arg.value = build(a->value);
    e->args.push_back(std::move(arg));
  }
  return e;
}

antlrcpp::Any AstBuilder::visitNameExpr(P::NameExprContext* c) {
  Expr* e = node(ExprKind::Name, c);
  e->text = c->ID()->getText();
  e->loc.length = static_cast<uint32_t>(e->text.size());
  return e;
}

antlrcpp::Any AstBuilder::visitParenExpr(P::ParenExprContext* c) {
  return build(c->expr()).release();
}

antlrcpp::Any AstBuilder::visitNormExpr(P::NormExprContext* c) {
  Expr* e = node(ExprKind::Norm, c);
  e->operands.push_back(build(c->expr()));
  if (c->sub)
    e->text = c->sub->getText();
  return e;
}

antlrcpp::Any AstBuilder::visitListExpr(P::ListExprContext* c) {
  Expr* e = node(ExprKind::List, c);
  for (P::ExprContext* item : c->expr())
    e->operands.push_back(build(item));
  return e;
}

antlrcpp::Any AstBuilder::visitLayersExpr(P::LayersExprContext* c) {
  Expr* e = node(ExprKind::Layers, c);
  for (P::ExprContext* item : c->expr())
    e->operands.push_back(build(item));
  return e;
}

// `"nets/net{sched[l]}.h5"`: escapes decoded, `{...}` parsed as expressions, `\\{`/`\\}` literal.
void AstBuilder::decodeString(Expr& e, antlr4::Token* token) {
  std::string raw = token->getText();
  raw = raw.substr(1, raw.size() - 2);
  SourceLoc start = loc(token);
  std::string piece;
  uint32_t col = start.col + 1; // code point column of raw[i]
  for (size_t i = 0; i < raw.size(); ++i, ++col) {
    char ch = raw[i];
    if ((static_cast<unsigned char>(ch) & 0xC0) == 0x80)
      --col; // continuation byte: same code point
    if (ch == '\\' && i + 1 < raw.size()) {
      char next = raw[++i];
      ++col;
      switch (next) {
      case 'n':
        piece += '\n';
        break;
      case 't':
        piece += '\t';
        break;
      case '"':
      case '\\':
      case '{':
      case '}':
        piece += next;
        break;
      default:
        diags_.error({start.line, col - 1, 2}, std::string("unknown escape '\\") + next + "'");
      }
    } else if (ch == '{') {
      size_t close = raw.find('}', i + 1);
      if (close == std::string::npos) {
        diags_.error({start.line, col, 1},
                     "'{' in a string opens an expression that is not closed");
        return;
      }
      std::string inner = raw.substr(i + 1, close - i - 1);
      // `{expr:0N}`: the number zero-padded to N digits (weight files net_07.safetensors).
      int width = 0;
      if (size_t colon = inner.rfind(':'); colon != std::string::npos) {
        const std::string spec = inner.substr(colon + 1);
        const bool ok = spec.size() >= 2 && spec.size() <= 3 && spec[0] == '0' &&
                        std::all_of(spec.begin() + 1, spec.end(), ::isdigit) && spec != "00" &&
                        spec != "000";
        if (!ok) {
          diags_.error({start.line, static_cast<uint32_t>(col + 1 + colon), 1},
                       "unknown format '" + spec +
                           "' in a string; the format is a zero-padded width such as :02");
          return;
        }
        width = std::stoi(spec.substr(1));
        inner = inner.substr(0, colon);
      }
      ExprPtr value = parseInterpolation(inner, {start.line, col + 1, 1}, diags_);
      e.widths.push_back(width);
      e.pieces.push_back(std::move(piece));
      piece.clear();
      e.operands.push_back(value ? std::move(value)
                                 : std::make_unique<Expr>(ExprKind::Number, SourceLoc{}));
      for (size_t k = i + 1; k <= close; ++k)
        if ((static_cast<unsigned char>(raw[k]) & 0xC0) != 0x80)
          ++col;
      i = close;
    } else if (ch == '}') {
      diags_.error({start.line, col, 1}, "'}' in a string without a matching '{' (write \\})");
    } else {
      piece += ch;
    }
  }
  e.pieces.push_back(std::move(piece));
}

} // namespace podm::frontend
