// The `--emit=ast` text form: one declaration per block, expressions as s-expressions with their
// locations, so golden files show both structure and where each node came from.
#include "frontend/ast/ast.h"

#include <cmath>
#include <cstdio>

namespace podm::ast {

const char* spelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::Less:
    return "<";
  case BinaryOp::LessEq:
    return "<=";
  case BinaryOp::Greater:
    return ">";
  case BinaryOp::GreaterEq:
    return ">=";
  case BinaryOp::And:
    return "and";
  case BinaryOp::Or:
    return "or";
  }
  return "?";
}

const char* spelling(DeclKind kind) {
  switch (kind) {
  case DeclKind::Input:
    return "input";
  case DeclKind::Const:
    return "const";
  case DeclKind::Param:
    return "param";
  case DeclKind::Op:
    return "op";
  case DeclKind::Var:
    return "var";
  case DeclKind::Term:
    return "term";
  case DeclKind::Net:
    return "net";
  case DeclKind::Schedule:
    return "schedule";
  case DeclKind::Stages:
    return "stages";
  case DeclKind::Monitor:
    return "monitor";
  case DeclKind::Output:
    return "output";
  }
  return "?";
}

namespace {

std::string at(SourceLoc loc) {
  return "@" + std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

void dumpExpr(const Expr& e, std::string& out) {
  auto children = [&](const char* head) {
    out += "(";
    out += head;
    for (const ExprPtr& child : e.operands) {
      out += " ";
      dumpExpr(*child, out);
    }
    out += ")";
  };
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
    if (e.operands.empty()) {
      out += quoted(e.pieces.empty() ? std::string() : e.pieces[0]);
    } else {
      out += "(format";
      for (size_t i = 0; i < e.pieces.size(); ++i) {
        out += " " + quoted(e.pieces[i]);
        if (i < e.operands.size()) {
          out += " ";
          dumpExpr(*e.operands[i], out);
          if (i < e.widths.size() && e.widths[i] > 0)
            out += " :0" + std::to_string(e.widths[i]);
        }
      }
      out += ")";
    }
    break;
  case ExprKind::Call:
    out += "(call " + e.text;
    for (const Arg& a : e.args) {
      out += " ";
      if (!a.name.empty())
        out += a.name + "=";
      dumpExpr(*a.value, out);
    }
    out += ")";
    break;
  case ExprKind::Member:
    out += "(member ";
    dumpExpr(e.operand(0), out);
    out += " " + e.text + ")";
    break;
  case ExprKind::Index:
    children("index");
    break;
  case ExprKind::Adjoint:
    children("adjoint");
    break;
  case ExprKind::Power:
    children("^");
    break;
  case ExprKind::Neg:
    children("neg");
    break;
  case ExprKind::Apply:
    children("apply");
    break;
  case ExprKind::Binary:
    children(spelling(e.op));
    break;
  case ExprKind::Norm:
    out += e.text.empty() ? "(norm " : "(norm_" + e.text + " ";
    dumpExpr(e.operand(0), out);
    out += ")";
    break;
  case ExprKind::List:
    children("list");
    break;
  case ExprKind::Layers:
    children("layers");
    break;
  }
}

} // namespace

std::string dump(const Expr& expr) {
  std::string out;
  dumpExpr(expr, out);
  return out;
}

std::string dump(const Model& model) {
  std::string out = "model " + model.name + " " + at(model.loc) + "\n";
  for (const Decl& d : model.decls) {
    out += "  " + std::string(spelling(d.kind)) + " ";
    switch (d.kind) {
    case DeclKind::Term: {
      out += d.name + "(";
      for (size_t i = 0; i < d.params.size(); ++i)
        out += (i ? ", " : "") + d.params[i];
      out += ")";
      break;
    }
    case DeclKind::Stages:
      out += d.name;
      break;
    case DeclKind::Monitor:
    case DeclKind::Output:
      break;
    default:
      out += d.name;
      if (!d.index.empty())
        out += "[" + d.index + "]";
    }
    out += " " + at(d.loc) + "\n";
    if (!d.type.name.empty()) {
      out += "    type " + d.type.name;
      for (const ExprPtr& dim : d.type.dims)
        out += " " + dump(*dim);
      out += "\n";
    }
    if (d.optional)
      out += "    optional\n";
    if (d.value) {
      const char* label = d.kind == DeclKind::Stages                            ? "count"
                          : d.kind == DeclKind::Var                             ? "init"
                          : d.kind == DeclKind::Input                           ? "default"
                          : d.kind == DeclKind::Term || d.kind == DeclKind::Net ? "body"
                                                                                : "value";
      out += std::string("    ") + label + " " + dump(*d.value) + "\n";
    }
    if (d.weights)
      out += "    weights " + dump(*d.weights) + "\n";
    if (d.prefix)
      out += "    prefix " + dump(*d.prefix) + "\n";
    for (const Setting& s : d.settings)
      out += "    set " + s.name + " " + dump(*s.value) + " " + at(s.loc) + "\n";
    for (const ExprPtr& item : d.items)
      out += "    item " + dump(*item) + "\n";
  }
  return out;
}

} // namespace podm::ast
