// The abstract syntax tree of a model file. Built by frontend/parse (the only code that sees
// ANTLR), read by sema and the driver. Every node carries the SourceLoc of its first token.
// Expressions are one tagged struct rather than a class hierarchy: the tree is small, and a
// readable dump and a tree walk are each one function.
#pragma once

#include "frontend/ast/source.h"

#include <memory>
#include <string>
#include <vector>

namespace podm::ast {

enum class ExprKind {
  Number,  // 1e-3
  String,  // "nets/net{sched[l]}.h5": pieces + interpolated operands
  Bool,    // true
  Name,    // x
  Call,    // lp(W x, p = 0.8)
  Member,  // o.h
  Index,   // sched[l]
  Adjoint, // K'
  Power,   // a ^ b
  Neg,     // -a
  Apply,   // K x  (application or composition by juxtaposition)
  Binary,  // a + b, a < b, a and b, ...
  Norm,    // || e ||  with optional subscript
  List,    // [a, b, c]
  Layers,  // layers { conv(...) ; relu }
};

enum class BinaryOp { Add, Sub, Mul, Div, Less, LessEq, Greater, GreaterEq, And, Or };
const char* spelling(BinaryOp op);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Arg {
  std::string name; // empty for a positional argument
  SourceLoc nameLoc;
  ExprPtr value;
};

struct Expr {
  ExprKind kind = ExprKind::Number;
  SourceLoc loc;
  double number = 0;    // Number
  bool boolean = false; // Bool
  std::string text;     // Number spelling, Name, Call callee, Member field, Norm subscript
  BinaryOp op = BinaryOp::Add;
  std::vector<ExprPtr> operands;   // children in source order (see ExprKind)
  std::vector<Arg> args;           // Call
  std::vector<std::string> pieces; // String: literal pieces around interpolated operands
  // String: per interpolated operand its zero-padded width (`{idx[l]:02}`: 2), 0 for none.
  std::vector<int> widths;

  Expr(ExprKind k, SourceLoc l) : kind(k), loc(l) {}
  const Expr& operand(size_t i) const { return *operands.at(i); }
};

struct TypeSpec {
  std::string name; // empty when absent
  SourceLoc loc;
  std::vector<ExprPtr> dims;
};

struct Setting {
  std::string name; // "stop" for the stopping rule
  SourceLoc loc;
  ExprPtr value;
};

enum class DeclKind { Input, Const, Param, Op, Var, Term, Net, Schedule, Stages, Monitor, Output };
const char* spelling(DeclKind kind);

struct Decl {
  DeclKind kind = DeclKind::Const;
  SourceLoc loc;    // the keyword (or the term name)
  std::string name; // Stages: the solver (podm, relaxed, fista, ...)
  SourceLoc nameLoc;
  std::string index; // Param, Net: the stage index in `A[l]`
  SourceLoc indexLoc;
  TypeSpec type;                   // Input, Var
  bool optional = false;           // Input
  ExprPtr value;                   // Const/Param/Op/Schedule value, Var init, Term/Net body,
                                   // Input default, Stages count, Output image
  ExprPtr weights;                 // Net: weights file
  ExprPtr prefix;                  // Net: tensor-name prefix inside the file
  std::vector<std::string> params; // Term: f(x), d(x, a)
  std::vector<SourceLoc> paramLocs;
  std::vector<Setting> settings; // Stages
  std::vector<ExprPtr> items;    // Monitor
};

struct Model {
  std::string name;
  SourceLoc loc;
  std::vector<Decl> decls;
};

// A readable, stable dump of the tree (what `podm compile --emit=ast` prints).
std::string dump(const Model& model);
std::string dump(const Expr& expr);
// Source-like text of an expression (`0.5 * ||K x - o||^2`), for summaries and messages.
std::string unparse(const Expr& expr);

} // namespace podm::ast
