// Learnable parameters of a model (paper Sec. 4.2 and 5.2): `param NAME[l] = learned(init = V)`,
// `param NAME[l] = mlp(INPUT, hidden = [..], init = V)` and `op F = dct_filters(learnable = true)`
// become `param` nodes in the Pre region, named `param.<name>.<tensor>` so their trained values
// live in the same safetensors file as the network weights. A per-stage parameter (`[l]`) stacks
// one slice per stage along n and reads its slice in the stage body with `pick_stage`.
//
// The mlp is L = len(hidden) + 1 dense layers on its scalar input s:
//   h_0 = s, h_i = elu(W_i h_{i-1} + b_i) (i < L),  out = init * softplus(W_L h_{L-1} + b_L),
// initialised with W_i uniform in +-sqrt(6 / (fan_in + fan_out)) (Glorot) and b_i = 0 for the
// hidden layers, W_L = 0 and b_L = softplus^-1(1) = log(e - 1): the output starts at exactly `init`
// for every input, stays positive (mu is a weight of H) and every weight receives a gradient once
// W_L moves. The random draws come from a splitmix64 stream seeded with the FNV-1a hash of the
// tensor's name, so the same model always starts from the same weights on every platform.
#include "compiler/lower/context.h"
#include "stdlib/linop/ops.h" // the fixed dct_filters basis a learnable bank starts from

#include <cmath>
#include <numbers>

namespace podm::lower {

using ast::Expr;
using ast::ExprKind;
using ir::Op;

namespace {

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Uniform draws in [-a, a) from splitmix64 (portable, unlike std:: distributions).
std::vector<float> uniform(const std::string& name, size_t count, double a) {
  uint64_t state = fnv1a(name);
  std::vector<float> out(count);
  for (float& v : out) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 11) * 0x1.0p-53;
    v = static_cast<float>((2 * u - 1) * a);
  }
  return out;
}

const stdlib::LinopEntry& dctFilters() {
  return *stdlib::linopRegistry().find("dct_filters");
}

bool learnableFilterCall(const Expr& e) {
  if (e.kind != ExprKind::Call || e.text != "dct_filters")
    return false;
  const Expr* l = declaredArgument(e, dctFilters(), "learnable");
  return l && l->kind == ExprKind::Bool && l->boolean;
}

} // namespace

bool Context::usesParam(const Expr& e) const {
  if (e.kind == ExprKind::Name) {
    auto d = decls.find(e.text);
    if (d != decls.end() && d->second->kind == ast::DeclKind::Param)
      return true;
  }
  for (const auto& o : e.operands)
    if (usesParam(*o))
      return true;
  for (const auto& a : e.args)
    if (a.value && usesParam(*a.value))
      return true;
  return false;
}

void Context::declareParams() {
  const int64_t stages = checked.stages;
  for (const ast::Decl& decl : model.decls) {
    if (decl.kind == ast::DeclKind::Op && decl.value && learnableFilterCall(*decl.value)) {
      const Expr& e = *decl.value;
      int64_t size = 3;
      if (const Expr* s = declaredArgument(e, dctFilters(), "size")) {
        Scalar v = number(*s); // sema checked the declared range
        if (!v.value)
          fail(s->loc, "the filter size must be known when the model is compiled");
        size = static_cast<int64_t>(*v.value);
      }
      if (const Expr* bd = declaredArgument(e, dctFilters(), "boundary");
          bd &&
          !(bd->kind == ExprKind::String && bd->pieces.size() == 1 && bd->pieces[0] == "periodic"))
        fail(bd->loc, "learnable filters are lowered with the periodic boundary only");
      if (size > varType.dims.h || size > varType.dims.w)
        fail(e.loc, "the filters are larger than the image");
      const std::string name = "param." + decl.name + ".filters";
      ir::ValueId p = b.create(
          Op::Param, {},
          ir::Attrs{{"name", name}, {"value", ir::TensorData(numerics::dctBasisFilters(size))}},
          ir::Type::real({1, size * size - 1, size, size}), name);
      learnableFilters[&e] = p;
      continue;
    }
    if (decl.kind != ast::DeclKind::Param)
      continue;
    const Expr& e = *decl.value;
    LearnedParam lp;
    lp.decl = &decl;
    lp.perStage = !decl.index.empty();
    lp.mlp = e.text == "mlp";
    const Expr* initExpr = callArgument(e, lp.mlp ? 2 : 0, "init");
    if (!initExpr)
      fail(e.loc, "param '" + decl.name + "' needs init = V");
    Scalar init = number(*initExpr);
    if (!init.value)
      fail(initExpr->loc, "init must be a number known when the model is compiled");
    lp.init = *init.value;
    const int64_t n = lp.perStage ? stages : 1;
    auto make = [&](const std::string& tensor, int64_t rows, int64_t cols,
                    std::vector<float> slice) {
      const std::string name = "param." + decl.name + "." + tensor;
      std::vector<float> values;
      for (int64_t l = 0; l < n; ++l)
        values.insert(values.end(), slice.begin(), slice.end());
      ir::Type type = !lp.perStage && rows * cols == 1 && !lp.mlp
                          ? ir::Type::scalar()
                          : ir::Type::real({n, 1, rows, cols});
      lp.tensors.push_back(b.create(
          Op::Param, {}, ir::Attrs{{"name", name}, {"value", ir::TensorData(values)}}, type, name));
    };
    if (!lp.mlp) {
      make("value", 1, 1, {static_cast<float>(lp.init)});
    } else {
      if (!(lp.init > 0))
        fail(initExpr->loc, "the mlp's init must be positive (its output is a weight of d)");
      const Expr* in = callArgument(e, 0, "input");
      if (!in || in->kind == ExprKind::List)
        fail(e.loc, "mlp(...) takes one scalar input, such as mlp(sigma, ...)");
      lp.input = node(number(*in));
      std::vector<int64_t> widths{1};
      if (const Expr* hidden = callArgument(e, 1, "hidden")) {
        if (hidden->kind != ExprKind::List)
          fail(hidden->loc, "hidden must be a list of layer widths such as [16, 16]");
        for (const auto& h : hidden->operands) {
          Scalar v = number(*h);
          if (!v.value || *v.value < 1 || *v.value > 4096 || *v.value != std::floor(*v.value))
            fail(h->loc, "a layer width must be a whole number from 1 to 4096");
          widths.push_back(static_cast<int64_t>(*v.value));
        }
      }
      widths.push_back(1);
      const size_t layers = widths.size() - 1;
      for (size_t i = 0; i < layers; ++i) {
        const int64_t fanIn = widths[i], fanOut = widths[i + 1];
        const std::string idx = std::to_string(i + 1);
        const bool last = i + 1 == layers;
        const size_t count = static_cast<size_t>(fanIn * fanOut);
        const double a = std::sqrt(6.0 / static_cast<double>(fanIn + fanOut));
        // Per-stage stacks draw each stage's slice from one stream: stages start different.
        std::vector<float> w = last ? std::vector<float>(count, 0.f)
                                    : uniform("param." + decl.name + ".w" + idx, count, a);
        make("w" + idx, fanOut, fanIn, w);
        const float bias = last ? static_cast<float>(std::log(std::numbers::e - 1.0)) : 0.f;
        make("b" + idx, fanOut, 1, std::vector<float>(static_cast<size_t>(fanOut), bias));
      }
    }
    if (!lp.perStage)
      lp.value = buildParamValue(lp);
    params[decl.name] = std::move(lp);
  }
}

ir::ValueId Context::buildParamValue(const LearnedParam& lp) {
  auto tensor = [&](size_t i) {
    ir::ValueId t = lp.tensors[i];
    return lp.perStage ? b.op(Op::PickStage, {t}) : t;
  };
  const std::string label = lp.decl->name + (lp.perStage ? "[l]" : "");
  if (!lp.mlp) {
    ir::ValueId v = tensor(0);
    return graph.type(v).isScalar() ? v : b.op(Op::Sum, {v}, {}, label);
  }
  ir::ValueId h = lp.input;
  const size_t layers = lp.tensors.size() / 2;
  for (size_t i = 0; i < layers; ++i) {
    ir::ValueId z = b.op(Op::Add, {b.op(Op::Matvec, {tensor(2 * i), h}), tensor(2 * i + 1)});
    h = i + 1 < layers ? b.op(Op::Elu, {z}) : b.op(Op::Softplus, {z});
  }
  return b.op(Op::Scale, {b.op(Op::Sum, {h})}, {{"alpha", lp.init}}, label + " (mlp)");
}

Scalar Context::paramValue(const std::string& name, const Expr* index, SourceLoc use) {
  auto it = params.find(name);
  if (it == params.end())
    fail(use, "internal: param '" + name + "' was not declared");
  LearnedParam& lp = it->second;
  if (!lp.perStage) // m[l] of a param declared without [l]: one value for every stage
    return Scalar::of(*lp.value);
  if (!index)
    fail(use, "'" + name + "' has one value per stage: write " + name + "[l]");
  if (index->kind != ExprKind::Name || index->text != "l")
    fail(index->loc, "a per-stage param is indexed by the stage index: " + name + "[l]");
  if (b.region() != ir::Region::Body)
    fail(use, "per-stage param '" + name + "' is used outside the stage loop");
  if (!lp.value)
    lp.value = buildParamValue(lp);
  return Scalar::of(*lp.value);
}

std::optional<ir::ValueId> Context::learnableFilterBank(const Expr& call) const {
  auto it = learnableFilters.find(&call);
  if (it == learnableFilters.end())
    return std::nullopt;
  return it->second;
}

std::optional<ir::ValueId> Context::filterBankSpectrum(const LinOp& op) {
  if (op.terms.size() != 1 || op.terms[0].prims.size() != 1)
    return std::nullopt;
  const Prim& p = op.terms[0].prims[0];
  if (!p.learnable() || p.adjoint)
    return std::nullopt;
  const double s = op.terms[0].scale;
  ir::ValueId spec =
      b.op(Op::FilterSpectrum, {p.bank}, {{"h", varType.dims.h}, {"w", varType.dims.w}},
           "F-step spectrum of the learnable filters");
  return s == 1 ? spec : b.op(Op::Scale, {spec}, {{"alpha", s * s}});
}

} // namespace podm::lower
