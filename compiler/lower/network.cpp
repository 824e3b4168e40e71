// The learned prior A of a PODM stage: a model's `net` declaration becomes one `network` node.
// The body (the templates dilated_cnn, elu_cnn, residual, a `layers { ... }` block, or the name of
// another net) is expanded here into an nn::NetworkSpec and stored as text (stdlib/nn/spec_text.h);
// the weight path is expanded once per stage (`"nets/net{net_idx[l]}.hdf5"`). Paths are stored as
// written: the CLI resolves relative ones against the model's folder or `--weights-dir`.
#include "compiler/lower/context.h"
#include "ir/attr.h"
#include "stdlib/nn/spec_text.h"

#include <cmath>

namespace podm::lower {

using ast::Expr;
using ast::ExprKind;

int64_t Context::netInteger(const Expr* e, int64_t fallback, SourceLoc use) {
  if (!e)
    return fallback;
  Scalar s = number(*e);
  if (!s.value || *s.value != std::floor(*s.value))
    fail(e ? e->loc : use, "a network size must be a whole number known when compiling");
  return static_cast<int64_t>(*s.value);
}

nn::NetworkSpec Context::netSpec(const Expr& e, int depth) {
  if (depth > 16)
    fail(e.loc, "nets refer to each other in a cycle");
  try {
    if (e.kind == ExprKind::Name) {
      auto d = decls.find(e.text);
      if (d == decls.end() || d->second->kind != ast::DeclKind::Net)
        fail(e.loc, "'" + e.text + "' is not a net");
      return netSpec(*d->second->value, depth + 1);
    }
    if (e.kind == ExprKind::Call && e.text == "residual") {
      const Expr* inner = callArgument(e, 0, "net");
      if (!inner)
        fail(e.loc, "residual(...) needs a network");
      return nn::residual(netSpec(*inner, depth + 1));
    }
    if (e.kind == ExprKind::Call && (e.text == "dilated_cnn" || e.text == "elu_cnn")) {
      int64_t layers = netInteger(callArgument(e, 0, "depth"), 7, e.loc);
      int64_t channels = netInteger(callArgument(e, 1, "channels"), 64, e.loc);
      int64_t in = netInteger(callArgument(e, 3, "in"), 1, e.loc);
      if (e.text == "elu_cnn")
        return nn::eluCnn(layers, channels, in);
      std::vector<int64_t> dilations(static_cast<size_t>(std::max<int64_t>(layers, 0)), 1);
      if (const Expr* list = callArgument(e, 2, "dilations")) {
        if (list->kind != ExprKind::List)
          fail(list->loc, "dilations must be a list such as [1, 2, 3, 2, 1]");
        dilations.clear();
        for (const ast::ExprPtr& item : list->operands)
          dilations.push_back(netInteger(item.get(), 1, list->loc));
      }
      return nn::dilatedCnn(layers, channels, dilations, in);
    }
    if (e.kind == ExprKind::Layers) {
      nn::NetworkSpec spec;
      bool first = true;
      for (const ast::ExprPtr& item : e.operands) {
        const Expr& l = *item;
        const std::string& kind = l.text;
        auto arg = [&](const char* n, size_t pos) { return callArgument(l, pos, n); };
        if (l.kind != ExprKind::Call && l.kind != ExprKind::Name)
          fail(l.loc, "a layer is a call such as conv(in = 1, out = 64) or a name such as relu");
        nn::Layer layer;
        if (kind == "conv") {
          std::string padding = "same";
          if (const Expr* p = arg("padding", 5)) {
            if (p->kind != ExprKind::String || p->pieces.size() != 1)
              fail(p->loc, "padding is \"same\", \"valid\" or \"replicate\"");
            padding = p->pieces[0];
          }
          nn::Padding pad = padding == "valid"       ? nn::Padding::Valid
                            : padding == "replicate" ? nn::Padding::Replicate
                                                     : nn::Padding::Same;
          if (padding != "same" && padding != "valid" && padding != "replicate")
            fail(l.loc, "padding is \"same\", \"valid\" or \"replicate\"");
          const Expr* bias = arg("bias", 6);
          layer = nn::Layer::conv(
              netInteger(arg("in", 0), 0, l.loc), netInteger(arg("out", 1), 0, l.loc),
              netInteger(arg("k", 2), 3, l.loc), netInteger(arg("dilation", 3), 1, l.loc),
              netInteger(arg("stride", 4), 1, l.loc), pad, bias ? bias->boolean : true);
          if (first)
            spec.inChannels = layer.in;
        } else if (kind == "relu") {
          layer = nn::Layer::relu();
        } else if (kind == "elu" || kind == "leaky_relu") {
          const Expr* a = arg(kind == "elu" ? "alpha" : "slope", 0);
          double v = kind == "elu" ? 1.0 : 0.01;
          if (a) {
            Scalar s = number(*a);
            if (!s.value)
              fail(a->loc, "a layer parameter must be known when compiling");
            v = *s.value;
          }
          layer = kind == "elu" ? nn::Layer::elu(static_cast<float>(v))
                                : nn::Layer::leakyRelu(static_cast<float>(v));
        } else if (kind == "batchnorm") {
          double eps = 1e-3;
          if (const Expr* a = arg("eps", 1)) {
            Scalar s = number(*a);
            if (!s.value)
              fail(a->loc, "a layer parameter must be known when compiling");
            eps = *s.value;
          }
          layer = nn::Layer::batchNorm(netInteger(arg("channels", 0), 0, l.loc),
                                       static_cast<float>(eps));
        } else if (kind == "upsample") {
          layer = nn::Layer::upsample(netInteger(arg("factor", 0), 2, l.loc));
        } else {
          fail(l.loc, "layer '" + kind +
                          "' is not lowered (conv, relu, elu, leaky_relu, "
                          "batchnorm, upsample are)");
        }
        first = false;
        spec.layers.push_back(layer);
      }
      return spec;
    }
  } catch (const nn::WeightsError& err) {
    fail(e.loc, err.what());
  }
  fail(e.loc, "this network is not lowered: use dilated_cnn, elu_cnn, residual or layers { ... }");
}

std::string Context::netWeightPath(const ast::Decl& net, int64_t l) {
  const Expr& s = *net.weights;
  if (s.kind != ExprKind::String)
    fail(s.loc, "the weights of a net are a string such as \"nets/net{net_idx[l]}.hdf5\"");
  std::optional<int64_t> savedStage = stage;
  stage = l;
  std::optional<Scalar> savedIndex;
  if (!net.index.empty() && net.index != "l") {
    if (auto it = settings.find(net.index); it != settings.end())
      savedIndex = it->second;
    settings[net.index] = Scalar::constant(static_cast<double>(l));
  }
  std::string path;
  for (size_t i = 0; i < s.pieces.size(); ++i) {
    path += s.pieces[i];
    if (i < s.operands.size()) {
      const Expr& o = s.operand(i);
      Scalar v = number(o);
      if (!v.value)
        fail(o.loc, "a weight path may only interpolate numbers known when compiling");
      double x = *v.value;
      const int width = i < s.widths.size() ? s.widths[i] : 0;
      if (width > 0 && (x != std::floor(x) || x < 0))
        fail(o.loc, "a zero-padded width (:0" + std::to_string(width) +
                        ") needs a whole number >= 0, got " + std::to_string(x) + " at stage " +
                        std::to_string(l + 1));
      if (x == std::floor(x) && std::fabs(x) < 1e15) {
        std::string digits = std::to_string(static_cast<long long>(x));
        if (static_cast<int>(digits.size()) < width)
          digits.insert(0, static_cast<size_t>(width) - digits.size(), '0');
        path += digits;
      } else {
        std::string t = std::to_string(x);
        path += t;
      }
    }
  }
  if (!net.index.empty() && net.index != "l") {
    if (savedIndex)
      settings[net.index] = *savedIndex;
    else
      settings.erase(net.index);
  }
  stage = savedStage;
  return path;
}

ir::ValueId Context::applyNet(const ast::Decl& net, ir::ValueId x) {
  // `stages 0` runs the initial value and the monitors only: the stage body is lowered but never
  // runs, so the network stays out of the graph and no weight file is needed.
  if (checked.stages == 0)
    return x;
  nn::NetworkSpec spec = netSpec(*net.value, 0);
  try {
    nn::Network check(spec); // validates the layer chain (channels, residual shapes)
    Shape in{varType.dims.n, varType.dims.c, varType.dims.h, varType.dims.w};
    if (!(check.outputShape(in) == in))
      fail(net.value->loc, "net '" + net.name + "' maps " + varType.str() +
                               " to another shape; A must keep the variable's shape");
  } catch (const nn::WeightsError& err) {
    fail(net.value->loc, err.what());
  }
  if (!net.weights)
    fail(net.nameLoc, "net '" + net.name + "' needs weights \"FILE\"");
  std::vector<std::string> paths;
  bool perStage =
      usesStageIndex(*net.weights) ||
      (!net.index.empty() && ast::unparse(*net.weights).find(net.index) != std::string::npos);
  for (int64_t l = 0; l < (perStage ? checked.stages : 1); ++l)
    paths.push_back(netWeightPath(net, l));
  ir::Attrs attrs{
      {"net", net.name}, {"spec", nn::encodeSpec(spec)}, {"weights", ir::joinWeightPaths(paths)}};
  if (net.prefix) {
    if (net.prefix->kind != ExprKind::String || net.prefix->pieces.size() != 1)
      fail(net.prefix->loc, "a tensor-name prefix is one plain string: per-stage prefixes are not "
                            "supported; give each stage its own file (weights \"nets/a{l}.st\") "
                            "or let the stages share one network");
    attrs.set("prefix", net.prefix->pieces[0]);
  }
  notes.push_back("A = net " + net.name + " (" + std::to_string(spec.layers.size()) + " layers" +
                  (spec.residual ? ", residual" : "") + "), " + std::to_string(paths.size()) +
                  " weight file" + (paths.size() == 1 ? "" : "s"));
  return b.op(ir::Op::Network, {x}, attrs, "x_A [net " + net.name + "]");
}

} // namespace podm::lower
