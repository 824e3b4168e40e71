// Parsing, checking and printing of fused elementwise programs (fused_program.h).
#include "ir/fused_program.h"

#include "ir/errors.h"

#include <cctype>
#include <charconv>
#include <cstdio>

namespace podm::ir {
namespace {

// One line per operation a program may use.
constexpr FusedOpInfo kFusedOps[] = {
    {"add", 2, false},  {"sub", 2, false},    {"mul", 2, false},   {"div", 2, false},
    {"max", 2, false},  {"min", 2, false},    {"neg", 1, false},   {"abs", 1, false},
    {"sign", 1, false}, {"sqrt", 1, false},   {"exp", 1, false},   {"log", 1, false},
    {"fma", 3, false},  {"axpby", 4, false},  {"clamp", 3, false}, {"sum", 1, true},
    {"dot", 2, true},   {"norm2sq", 1, true}, {"maxabs", 1, true}};

[[noreturn]] void bad(std::string_view text, size_t at, const std::string& message) {
  throw IrError("fused program, at character " + std::to_string(at + 1) + " of '" +
                std::string(text.substr(0, 200)) + "': " + message);
}

struct Cursor {
  std::string_view text;
  size_t pos = 0;
  void skipSpace() {
    while (pos < text.size() && text[pos] == ' ')
      ++pos;
  }
  bool eat(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c))
      bad(text, pos, std::string("expected '") + c + "'");
  }
  std::string_view word() {
    skipSpace();
    size_t start = pos;
    while (pos < text.size() && (std::isalnum(static_cast<unsigned char>(text[pos])) != 0))
      ++pos;
    return text.substr(start, pos - start);
  }
  uint32_t number(std::string_view digits, size_t at) {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty())
      bad(text, at, "expected a number");
    return v;
  }
};

// `return tA, tB, ...` after the last instruction: distinct temps, the first a tensor, every
// reduction among them.
void parseReturns(Cursor& c, FusedProgram& p) {
  const std::string_view text = c.text;
  c.pos += 7;
  std::vector<bool> returned(p.instrs.size(), false);
  do {
    c.skipSpace();
    const size_t at = c.pos;
    std::string_view w = c.word();
    if (w.size() < 2 || w[0] != 't')
      bad(text, at, "expected a temp tN in `return`");
    const uint32_t t = c.number(w.substr(1), at);
    if (t >= p.instrs.size() || returned[t])
      bad(text, at,
          "t" + std::to_string(t) +
              (t >= p.instrs.size() ? " is not computed" : " is returned twice"));
    returned[t] = true;
    p.returns.push_back(t);
  } while (c.eat(','));
  if (kFusedOps[p.instrs[p.returns.front()].op].reduction)
    bad(text, c.pos, "the first result of `return` is the node's value and must be a tensor");
  for (size_t i = 0; i < p.instrs.size(); ++i)
    if (kFusedOps[p.instrs[i].op].reduction && !returned[i])
      bad(text, c.pos, "the reduction t" + std::to_string(i) + " is not returned");
}

} // namespace

std::span<const FusedOpInfo> fusedOps() {
  return kFusedOps;
}

int findFusedOp(std::string_view name) {
  for (size_t i = 0; i < std::size(kFusedOps); ++i)
    if (kFusedOps[i].name == name)
      return static_cast<int>(i);
  return -1;
}

std::vector<uint32_t> FusedProgram::results() const {
  if (!returns.empty())
    return returns;
  return {static_cast<uint32_t>(instrs.size() - 1)};
}

bool FusedProgram::isReduction(uint32_t instr) const {
  return kFusedOps[instrs[instr].op].reduction;
}

bool FusedProgram::reduction() const {
  return !instrs.empty() && isReduction(results().front());
}

uint32_t FusedProgram::inputsUsed() const {
  uint32_t n = 0;
  for (const FusedInstr& in : instrs)
    for (const FusedArg& a : in.args)
      if (a.kind == FusedArg::Kind::Input)
        n = std::max(n, a.index + 1);
  return n;
}

FusedProgram parseFusedProgram(std::string_view text, size_t inputs) {
  FusedProgram p;
  Cursor c{text};
  while (true) {
    c.skipSpace();
    if (c.pos >= text.size())
      break;
    const size_t at = c.pos;
    std::string_view name = c.word();
    // `tK = op(...)`: the destination must be the next temp.
    if (c.eat('=')) {
      if (name.size() < 2 || name[0] != 't' ||
          c.number(name.substr(1), at) != static_cast<uint32_t>(p.instrs.size()))
        bad(text, at,
            "instruction " + std::to_string(p.instrs.size()) + " must be named t" +
                std::to_string(p.instrs.size()));
      name = c.word();
    }
    FusedInstr in;
    in.op = findFusedOp(name);
    if (in.op < 0)
      bad(text, at, "unknown operation '" + std::string(name) + "'");
    c.expect('(');
    while (true) {
      c.skipSpace();
      const size_t argAt = c.pos;
      FusedArg a;
      if (c.pos < text.size() && (text[c.pos] == 'i' || text[c.pos] == 't')) {
        std::string_view w = c.word();
        bool isInput = w.size() > 2 && w.substr(0, 2) == "in";
        bool isTemp = !isInput && w.size() > 1 && w[0] == 't';
        if (!isInput && !isTemp)
          bad(text, argAt, "expected inN, tN or a number, got '" + std::string(w) + "'");
        a.kind = isInput ? FusedArg::Kind::Input : FusedArg::Kind::Temp;
        a.index = c.number(w.substr(isInput ? 2 : 1), argAt);
        if (isInput && a.index >= inputs)
          bad(text, argAt,
              "in" + std::to_string(a.index) + " but the node has " + std::to_string(inputs) +
                  " operand" + (inputs == 1 ? "" : "s"));
        if (isTemp && a.index >= p.instrs.size())
          bad(text, argAt, "t" + std::to_string(a.index) + " is used before it is computed");
        if (isTemp && kFusedOps[p.instrs[a.index].op].reduction)
          bad(text, argAt, "a reduction's scalar result cannot be used inside the program");
      } else {
        size_t end = c.pos;
        while (end < text.size() && text[end] != ',' && text[end] != ')' && text[end] != ' ')
          ++end;
        auto [ptr, ec] = std::from_chars(text.data() + c.pos, text.data() + end, a.literal);
        if (ec != std::errc() || ptr != text.data() + end || end == c.pos)
          bad(text, argAt, "expected inN, tN or a number");
        a.kind = FusedArg::Kind::Literal;
        c.pos = end;
      }
      in.args.push_back(a);
      if (c.eat(')'))
        break;
      c.expect(',');
    }
    const FusedOpInfo& info = kFusedOps[in.op];
    if (static_cast<int>(in.args.size()) != info.arity)
      bad(text, at,
          std::string(info.name) + " takes " + std::to_string(info.arity) + " argument" +
              (info.arity == 1 ? "" : "s") + ", got " + std::to_string(in.args.size()));
    p.instrs.push_back(std::move(in));
    if (!c.eat(';'))
      break;
    c.skipSpace();
    if (text.substr(c.pos, 7) == "return ") {
      parseReturns(c, p);
      break;
    }
  }
  if (p.returns.empty())
    for (size_t i = 0; i + 1 < p.instrs.size(); ++i)
      if (p.isReduction(static_cast<uint32_t>(i)))
        bad(text, 0, "a reduction must be the last instruction (or a result in `return`)");
  c.skipSpace();
  if (c.pos < text.size())
    bad(text, c.pos, "unexpected text after the last instruction");
  if (p.instrs.empty())
    bad(text, 0, "the program is empty");
  return p;
}

std::string printFusedProgram(const FusedProgram& p) {
  std::string s;
  for (size_t i = 0; i < p.instrs.size(); ++i) {
    const FusedInstr& in = p.instrs[i];
    if (i)
      s += "; ";
    if (i + 1 < p.instrs.size() || !p.returns.empty())
      s += "t" + std::to_string(i) + " = ";
    s += std::string(kFusedOps[in.op].name) + "(";
    for (size_t k = 0; k < in.args.size(); ++k) {
      const FusedArg& a = in.args[k];
      if (k)
        s += ", ";
      if (a.kind == FusedArg::Kind::Input) {
        s += "in" + std::to_string(a.index);
      } else if (a.kind == FusedArg::Kind::Temp) {
        s += "t" + std::to_string(a.index);
      } else {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.17g", a.literal);
        s += buf;
      }
    }
    s += ")";
  }
  for (size_t k = 0; k < p.returns.size(); ++k)
    s += (k ? ", t" : "; return t") + std::to_string(p.returns[k]);
  return s;
}

} // namespace podm::ir
