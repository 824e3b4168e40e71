// Stable text dump of graphs.
#include "ir/printer.h"

#include <charconv>
#include <cstdio>
#include <ostream>
#include <sstream>

namespace podm::ir {
namespace {

// Constants with more values than this print as a count and a content hash.
constexpr size_t kMaxPrintedValues = 16;

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

template <class T>
std::string shortest(T v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

std::string formatAttr(const AttrValue& v) {
  switch (kindOf(v)) {
  case AttrKind::Int:
    return std::to_string(std::get<int64_t>(v));
  case AttrKind::Float:
    return formatDouble(std::get<double>(v));
  case AttrKind::String:
    return quote(std::get<std::string>(v));
  case AttrKind::Floats: {
    std::string s = "[";
    for (double d : std::get<std::vector<double>>(v))
      s += (s.size() > 1 ? ", " : "") + formatDouble(d);
    return s + "]";
  }
  case AttrKind::Named: {
    std::string s = "{";
    for (const auto& [name, d] : std::get<NamedFloats>(v))
      s += (s.size() > 1 ? ", " : "") + name + "=" + formatDouble(d);
    return s + "}";
  }
  case AttrKind::Data: {
    const TensorData& data = std::get<TensorData>(v);
    if (data.size() > kMaxPrintedValues) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "<%zu floats, fnv1a %016llx>", data.size(),
                    static_cast<unsigned long long>(data.hash()));
      return buf;
    }
    std::string s = "[";
    for (float f : data.values())
      s += (s.size() > 1 ? ", " : "") + formatFloat(f);
    return s + "]";
  }
  }
  return "?";
}

} // namespace

std::string formatFloat(float f) {
  return shortest(f);
}
std::string formatDouble(double d) {
  return shortest(d);
}

std::string formatNode(const Graph& g, ValueId v) {
  const Node& n = g.node(v);
  std::string s = "%" + std::to_string(v.index);
  if (!n.label.empty())
    s += " " + quote(n.label);
  s += " = " + std::string(n.info().name);
  if (!n.operands.empty()) {
    s += "(";
    for (size_t i = 0; i < n.operands.size(); ++i)
      s += (i ? ", %" : "%") + std::to_string(n.operands[i].index);
    s += ")";
  }
  if (n.attrs.size() > 0) {
    s += " {";
    bool first = true;
    for (const Attr& a : n.attrs.all()) {
      s += (first ? "" : ", ") + a.name + "=" + formatAttr(a.value);
      first = false;
    }
    s += "}";
  }
  return s + " : " + n.type.str();
}

void dump(const Graph& g, std::ostream& out) {
  out << "graph " << quote(g.name()) << " {\n";
  auto [bodyBegin, bodyEnd] = g.regionRange(Region::Body);
  auto printLoopHeader = [&] { out << "  loop stages=" << g.loop()->stages << " {\n"; };
  auto printLoopFooter = [&] {
    for (const Carry& c : g.loop()->carries)
      out << "    carry %" << c.state.index << " <- %" << c.next.index << "\n";
    if (g.loop()->stop)
      out << "    stop when %" << g.loop()->stop.index << "\n";
    out << "  }\n";
  };
  const bool emptyBody = bodyBegin == bodyEnd;
  for (uint32_t i = 0; i <= g.size(); ++i) {
    // The loop block opens where the body starts (before the first Post node when it is empty).
    if (g.loop() && i == bodyBegin) {
      printLoopHeader();
      if (emptyBody)
        printLoopFooter();
    }
    if (i == g.size())
      break;
    out << (g.nodes()[i].region == Region::Body ? "    " : "  ") << formatNode(g, ValueId{i})
        << "\n";
    if (g.loop() && !emptyBody && i + 1 == bodyEnd)
      printLoopFooter();
  }
  for (const Output& o : g.outputs())
    out << "  output " << quote(o.name) << " = %" << o.value.index << "\n";
  out << "}\n";
}

std::string dump(const Graph& g) {
  std::ostringstream s;
  dump(g, s);
  return s.str();
}

} // namespace podm::ir
