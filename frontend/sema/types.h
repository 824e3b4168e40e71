// Sema's static types: what kind of thing an expression denotes and, for images, a shape whose
// dimensions are known symbolically (o.h * 4) as far as the model file determines them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace podm::sema {

// r * sym, or the constant r when sym is empty; unknown when it cannot be tracked statically.
struct Dim {
  bool known = false;
  std::string sym;
  int64_t num = 0, den = 1;

  static Dim unknown() { return {}; }
  static Dim constant(int64_t v) { return {true, "", v, 1}; }
  static Dim symbol(std::string s) { return {true, std::move(s), 1, 1}; }
  Dim scaled(int64_t mul, int64_t div) const;
  bool sameAs(const Dim& other) const; // false when either is unknown
  std::string str() const;
};

struct ImageShape {
  Dim c = Dim::constant(1), h, w;
  bool fullyKnown() const { return c.known && h.known && w.known; }
  std::string str() const; // "o.h*4 x o.w*4"
};

// One factor of an operator's action on shapes: channels scaled by cNum/cDen, h and w by num/den.
struct ShapeStep {
  int64_t cNum = 1, cDen = 1;
  int64_t num = 1, den = 1;
  bool known = true;
};

enum class Kind {
  Error,  // already diagnosed; silences follow-up errors
  Number, // scalar (constant when `value` is set)
  Bool,
  String,
  Image,    // an image-valued expression (input, variable, network output, K x, ...)
  Kernel,   // a blur kernel input
  Operator, // a linear operator
  Prox,     // a prox function applied to an argument (only inside g)
  Net,      // a network
  List,
  Param,  // a learnable parameter
  Term,   // f, g or d, as the argument of L()
  Solver, // an F-step solver choice
};

const char* describe(Kind kind); // "an image", "a linear operator", ...

struct Type {
  Kind kind = Kind::Error;
  std::optional<double> value;   // Number: known at compile time
  ImageShape shape;              // Image
  std::vector<ShapeStep> steps;  // Operator: applied in order
  std::vector<std::string> vars; // Image: the variables (x, a) the expression depends on
  int64_t listSize = -1;         // List
  bool listOfNumbers = true;
  std::vector<double> listValues; // List: the entries, when every one is known when compiling
  bool linear = true;             // Image: linear (affine) in its variables

  static Type error() { return {}; }
  static Type number(std::optional<double> v = std::nullopt) {
    Type t;
    t.kind = Kind::Number;
    t.value = v;
    return t;
  }
  static Type of(Kind k) {
    Type t;
    t.kind = k;
    return t;
  }
  bool is(Kind k) const { return kind == k; }
  bool dependsOn(const std::string& var) const;
};

// Applies operator steps to a shape.
ImageShape applySteps(const std::vector<ShapeStep>& steps, const ImageShape& in);
// The steps of the adjoint (reversed, inverted).
std::vector<ShapeStep> adjointSteps(const std::vector<ShapeStep>& steps);

} // namespace podm::sema
