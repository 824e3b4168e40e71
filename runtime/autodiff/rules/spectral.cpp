// Backward rules of the complex-spectrum ops. rfft2 and irfft2 are real-linear maps between R^(hw)
// and the half spectrum C^(h(w/2+1)) seen as R^(2h(w/2+1)), so their adjoints are not the plain
// inverse transforms: with the real pairing sum_k Re(conj(G_k) X_k) over the half spectrum,
//   rfft2^T G   = Re(sum_{k in half} G_k e^{+i theta_kn}) = h w * irfft2(G .* c/2),
//   irfft2^T g  = (c / (h w)) .* rfft2(g),
// where c_u = 1 on the self-conjugate columns (u = 0, and u = w/2 for even w) and 2 on the others
// (irfft2 counts each inner column twice, for itself and its mirror image, and ignores the
// anti-Hermitian part of the self-conjugate columns). The dot-product tests in
// tests/runtime/autodiff/ verify both on random, non-Hermitian spectra.
#include "runtime/autodiff/rules/rules.h"

namespace podm::autodiff::rules {
namespace {

using ir::Op;

// The column weights c_u * factor as an f32 tensor of the spectrum's shape.
Value columnWeights(const ir::Type& spectrum, int64_t width, float selfConj, float inner) {
  ir::Type t = ir::Type::real(spectrum.dims);
  Value w = OpRunner::filled(t, inner);
  const int64_t cols = spectrum.dims.w;
  const int64_t rows = spectrum.dims.n * spectrum.dims.c * spectrum.dims.h;
  float* p = w.tensor.data();
  for (int64_t r = 0; r < rows; ++r) {
    p[r * cols] = selfConj;
    if (width % 2 == 0)
      p[r * cols + cols - 1] = selfConj;
  }
  return w;
}

} // namespace

void conj(const RuleContext& c, std::vector<Value>& d) {
  d[0] = c.ops.run(Op::Conj, {c.dOutput});
}

// The real part moves with the real part only: the cotangent is dOut + 0i.
void real(const RuleContext& c, std::vector<Value>& d) {
  Value one = OpRunner::filled(c.operands[0].type, 1.f, 0.f);
  d[0] = c.ops.run(Op::Mul, {c.dOutput, one});
}

// |a|^2: 2 a dOut, for real and (packed) complex a alike.
void abs2(const RuleContext& c, std::vector<Value>& d) {
  Value g = c.ops.run(Op::Mul, {c.operands[0], c.dOutput});
  d[0] = c.ops.run(Op::Scale, {g}, {{"alpha", 2.0}});
}

void rfft2(const RuleContext& c, std::vector<Value>& d) {
  const ir::Dims& x = c.operands[0].type.dims;
  Value w = columnWeights(c.output.type, x.w, 1.f, 0.5f);
  Value g = c.ops.run(Op::Mul, {c.dOutput, w});
  Value back = c.ops.run(Op::Irfft2, {g}, {{"width", x.w}});
  d[0] = c.ops.run(Op::Scale, {back}, {{"alpha", static_cast<double>(x.h * x.w)}});
}

void irfft2(const RuleContext& c, std::vector<Value>& d) {
  const ir::Dims& y = c.output.type.dims;
  const float n = static_cast<float>(y.h * y.w);
  Value w = columnWeights(c.operands[0].type, y.w, 1.f / n, 2.f / n);
  d[0] = c.ops.run(Op::Mul, {c.ops.run(Op::Rfft2, {c.dOutput}), w});
}

} // namespace podm::autodiff::rules
