// Text form of NetworkSpec (see spec_text.h).
#include "stdlib/nn/spec_text.h"

#include <array>
#include <sstream>
#include <utility>

namespace podm::nn {
namespace {

constexpr std::array<std::pair<LayerKind, const char*>, 8> kKinds = {{
    {LayerKind::Conv2d, "conv"},
    {LayerKind::BatchNorm, "batchnorm"},
    {LayerKind::ReLU, "relu"},
    {LayerKind::ELU, "elu"},
    {LayerKind::LeakyReLU, "leaky_relu"},
    {LayerKind::Upsample, "upsample"},
    {LayerKind::ConcatInput, "concat_input"},
    {LayerKind::Dense, "dense"},
}};

const char* paddingName(Padding p) {
  return p == Padding::Same ? "same" : p == Padding::Valid ? "valid" : "replicate";
}

std::string floatText(float v) {
  std::ostringstream s;
  s.precision(9);
  s << v;
  return s.str();
}

} // namespace

std::string encodeSpec(const NetworkSpec& spec) {
  std::ostringstream out;
  out << "in " << spec.inChannels << "\n";
  if (spec.residual)
    out << "residual\n";
  const Layer defaults;
  for (const Layer& l : spec.layers) {
    for (const auto& [kind, name] : kKinds)
      if (kind == l.kind)
        out << name;
    if (!l.name.empty())
      out << " name=" << l.name;
    if (l.in != defaults.in || l.out != defaults.out)
      out << " in=" << l.in << " out=" << l.out;
    if (l.kind == LayerKind::Conv2d)
      out << " kernel=" << l.kernel << " dilation=" << l.dilation << " stride=" << l.stride
          << " padding=" << paddingName(l.padding);
    if (l.kind == LayerKind::Conv2d || l.kind == LayerKind::Dense)
      out << " bias=" << (l.bias ? 1 : 0);
    if (l.kind == LayerKind::ELU || l.kind == LayerKind::LeakyReLU)
      out << " alpha=" << floatText(l.alpha);
    if (l.kind == LayerKind::BatchNorm)
      out << " eps=" << floatText(l.eps);
    if (l.kind == LayerKind::Upsample)
      out << " factor=" << l.factor;
    out << "\n";
  }
  return out.str();
}

NetworkSpec decodeSpec(const std::string& text) {
  NetworkSpec spec;
  std::istringstream lines(text);
  std::string line;
  int lineNo = 0;
  bool sawIn = false;
  while (std::getline(lines, line)) {
    ++lineNo;
    auto bad = [&](const std::string& why) {
      throw WeightsError("network spec line " + std::to_string(lineNo) + " '" + line + "': " + why);
    };
    std::istringstream words(line);
    std::string kind;
    if (!(words >> kind))
      continue;
    if (kind == "in") {
      if (!(words >> spec.inChannels) || spec.inChannels < 1)
        bad("expected 'in CHANNELS'");
      sawIn = true;
      continue;
    }
    if (kind == "residual") {
      spec.residual = true;
      continue;
    }
    Layer l;
    bool known = false;
    for (const auto& [k, name] : kKinds)
      if (kind == name) {
        l.kind = k;
        known = true;
      }
    if (!known)
      bad("unknown layer kind '" + kind + "'");
    std::string field;
    while (words >> field) {
      size_t eq = field.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == field.size())
        bad("expected key=value, not '" + field + "'");
      std::string key = field.substr(0, eq), value = field.substr(eq + 1);
      try {
        size_t used = value.size();
        if (key == "name") {
          l.name = value;
        } else if (key == "padding") {
          if (value == "same")
            l.padding = Padding::Same;
          else if (value == "valid")
            l.padding = Padding::Valid;
          else if (value == "replicate")
            l.padding = Padding::Replicate;
          else
            bad("unknown padding '" + value + "'");
        } else if (key == "alpha" || key == "eps") {
          (key == "alpha" ? l.alpha : l.eps) = std::stof(value, &used);
        } else if (key == "in" || key == "out" || key == "kernel" || key == "dilation" ||
                   key == "stride" || key == "factor" || key == "bias") {
          long long v = std::stoll(value, &used);
          if (key == "bias")
            l.bias = v != 0;
          else
            (key == "in"         ? l.in
             : key == "out"      ? l.out
             : key == "kernel"   ? l.kernel
             : key == "dilation" ? l.dilation
             : key == "stride"   ? l.stride
                                 : l.factor) = v;
        } else {
          bad("unknown field '" + key + "'");
        }
        if (used != value.size())
          bad("malformed value '" + value + "'");
      } catch (const std::logic_error&) {
        bad("malformed value '" + value + "'");
      }
    }
    spec.layers.push_back(l);
  }
  if (!sawIn)
    throw WeightsError("network spec: no 'in CHANNELS' line");
  return spec;
}

} // namespace podm::nn
