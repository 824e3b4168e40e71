// Expressions back to model-language text, with the parentheses precedence requires and no more.
#include "frontend/ast/ast.h"

namespace podm::ast {
namespace {

int precedence(const Expr& e) {
  switch (e.kind) {
  case ExprKind::Binary:
    switch (e.op) {
    case BinaryOp::Or:
      return 1;
    case BinaryOp::And:
      return 2;
    case BinaryOp::Less:
    case BinaryOp::LessEq:
    case BinaryOp::Greater:
    case BinaryOp::GreaterEq:
      return 3;
    case BinaryOp::Add:
    case BinaryOp::Sub:
      return 4;
    case BinaryOp::Mul:
    case BinaryOp::Div:
      return 5;
    }
    return 5;
  case ExprKind::Apply:
    return 6;
  case ExprKind::Neg:
    return 7;
  case ExprKind::Power:
    return 8;
  case ExprKind::Adjoint:
  case ExprKind::Member:
  case ExprKind::Index:
    return 9;
  default:
    return 10;
  }
}

void emit(const Expr& e, std::string& out);

// Emits `e` in parentheses when it binds more loosely than `minimum` requires.
void operand(const Expr& e, int minimum, std::string& out) {
  bool wrap = precedence(e) < minimum;
  if (wrap)
    out += "(";
  emit(e, out);
  if (wrap)
    out += ")";
}

void emit(const Expr& e, std::string& out) {
  int p = precedence(e);
  switch (e.kind) {
  case ExprKind::Number:
    out += e.text;
    break;
  case ExprKind::Bool:
    out += e.boolean ? "true" : "false";
    break;
  case ExprKind::Name:
    out += e.text;
    break;
  case ExprKind::String:
    out += "\"";
    for (size_t i = 0; i < e.pieces.size(); ++i) {
      out += e.pieces[i];
      if (i < e.operands.size()) {
        out += "{";
        emit(*e.operands[i], out);
        if (i < e.widths.size() && e.widths[i] > 0)
          out += ":0" + std::to_string(e.widths[i]);
        out += "}";
      }
    }
    out += "\"";
    break;
  case ExprKind::Call:
    out += e.text + "(";
    for (size_t i = 0; i < e.args.size(); ++i) {
      out += i ? ", " : "";
      if (!e.args[i].name.empty())
        out += e.args[i].name + " = ";
      emit(*e.args[i].value, out);
    }
    out += ")";
    break;
  case ExprKind::Member:
    operand(e.operand(0), p, out);
    out += "." + e.text;
    break;
  case ExprKind::Index:
    operand(e.operand(0), p, out);
    out += "[";
    emit(e.operand(1), out);
    out += "]";
    break;
  case ExprKind::Adjoint:
    operand(e.operand(0), p, out);
    out += "'";
    break;
  case ExprKind::Power:
    operand(e.operand(0), p + 1, out);
    out += "^";
    operand(e.operand(1), p, out);
    break;
  case ExprKind::Neg:
    out += "-";
    operand(e.operand(0), p, out);
    break;
  case ExprKind::Apply:
    operand(e.operand(0), p, out);
    out += " ";
    operand(e.operand(1), 9, out);
    break;
  case ExprKind::Binary:
    operand(e.operand(0), p, out);
    out += std::string(" ") + spelling(e.op) + " ";
    operand(e.operand(1), p + 1, out);
    break;
  case ExprKind::Norm:
    out += "||";
    emit(e.operand(0), out);
    out += "||";
    if (!e.text.empty())
      out += "_" + e.text;
    break;
  case ExprKind::List:
  case ExprKind::Layers:
    out += e.kind == ExprKind::List ? "[" : "layers { ";
    for (size_t i = 0; i < e.operands.size(); ++i) {
      out += i ? (e.kind == ExprKind::List ? ", " : "; ") : "";
      emit(*e.operands[i], out);
    }
    out += e.kind == ExprKind::List ? "]" : " }";
    break;
  }
}

} // namespace

std::string unparse(const Expr& expr) {
  std::string out;
  emit(expr, out);
  return out;
}

} // namespace podm::ast
