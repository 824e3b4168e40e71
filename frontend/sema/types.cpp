// Symbolic dimension arithmetic and type descriptions (see types.h).
#include "frontend/sema/types.h"

#include <algorithm>
#include <numeric>

namespace podm::sema {

Dim Dim::scaled(int64_t mul, int64_t div) const {
  if (!known || div == 0)
    return unknown();
  Dim d = *this;
  d.num *= mul;
  d.den *= div;
  int64_t g = std::gcd(d.num, d.den);
  if (g > 1) {
    d.num /= g;
    d.den /= g;
  }
  return d;
}

bool Dim::sameAs(const Dim& o) const {
  return known && o.known && sym == o.sym && num * o.den == o.num * den;
}

std::string Dim::str() const {
  if (!known)
    return "?";
  std::string value = sym;
  if (sym.empty())
    return den == 1 ? std::to_string(num) : std::to_string(num) + "/" + std::to_string(den);
  if (num != 1)
    value += "*" + std::to_string(num);
  if (den != 1)
    value += "/" + std::to_string(den);
  return value;
}

std::string ImageShape::str() const {
  std::string s = h.str() + " x " + w.str();
  if (!c.known || c.sym != "" || c.num != 1)
    s = c.str() + " x " + s;
  return s;
}

const char* describe(Kind kind) {
  switch (kind) {
  case Kind::Error:
    return "an invalid expression";
  case Kind::Number:
    return "a number";
  case Kind::Bool:
    return "a boolean";
  case Kind::String:
    return "a string";
  case Kind::Image:
    return "an image";
  case Kind::Kernel:
    return "a kernel";
  case Kind::Operator:
    return "a linear operator";
  case Kind::Prox:
    return "a prox function";
  case Kind::Net:
    return "a network";
  case Kind::List:
    return "a list";
  case Kind::Param:
    return "a learnable parameter";
  case Kind::Term:
    return "a model term";
  case Kind::Solver:
    return "an F-step solver";
  }
  return "?";
}

bool Type::dependsOn(const std::string& var) const {
  return std::find(vars.begin(), vars.end(), var) != vars.end();
}

ImageShape applySteps(const std::vector<ShapeStep>& steps, const ImageShape& in) {
  ImageShape s = in;
  for (const ShapeStep& step : steps) {
    if (!step.known)
      return ImageShape{Dim::unknown(), Dim::unknown(), Dim::unknown()};
    s.c = s.c.scaled(step.cNum, step.cDen);
    s.h = s.h.scaled(step.num, step.den);
    s.w = s.w.scaled(step.num, step.den);
  }
  return s;
}

std::vector<ShapeStep> adjointSteps(const std::vector<ShapeStep>& steps) {
  std::vector<ShapeStep> out;
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    ShapeStep inv = *it;
    std::swap(inv.num, inv.den);
    std::swap(inv.cNum, inv.cDen); // grad' and filter-bank adjoints sum channels back
    out.push_back(inv);
  }
  return out;
}

} // namespace podm::sema
