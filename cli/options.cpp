// The options shared by the verbs (options.h) and the usage-error printer (verbs.h).
#include "cli/options.h"

#include "cli/verbs.h"
#include "runtime/io/atomic_file.h"
#include "runtime/io/image.h"
#include "runtime/io/metrics.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace podm::cli {

int usageError(const std::string& verb, const std::string& message) {
  std::cerr << "podm" << (verb.empty() ? "" : " " + verb) << ": error: " << message << "\n"
            << "try 'podm " << (verb.empty() ? "" : verb + " ") << "--help'\n";
  return kUsageError;
}

bool takePluginOptions(const std::string& verb, std::vector<std::string>& args,
                       std::vector<std::string>& plugins) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--plugin") {
      if (i + 1 >= args.size()) {
        std::cerr << "podm " << verb << ": error: --plugin needs the path of a shared library\n";
        return false;
      }
      plugins.push_back(args[++i]);
    } else if (args[i].rfind("--plugin=", 0) == 0) {
      plugins.push_back(args[i].substr(9));
    } else {
      rest.push_back(args[i]);
    }
  }
  args = std::move(rest);
  return true;
}

bool takeSetOptions(const std::string& verb, std::vector<std::string>& args,
                    std::vector<engine::ConstOverride>& overrides) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string spec;
    if (args[i] == "--set") {
      if (i + 1 >= args.size()) {
        usageError(verb, "--set needs NAME=VALUE");
        return false;
      }
      spec = args[++i];
    } else if (args[i].rfind("--set=", 0) == 0) {
      spec = args[i].substr(6);
    } else {
      rest.push_back(args[i]);
      continue;
    }
    const size_t eq = spec.find('=');
    double number = 0;
    if (eq == std::string::npos || eq == 0 || !parseDouble(spec.substr(eq + 1), number)) {
      usageError(verb, "--set " + spec + ": expected NAME=NUMBER (a const of the model)");
      return false;
    }
    overrides.push_back({spec.substr(0, eq), spec.substr(eq + 1)});
  }
  args = std::move(rest);
  return true;
}

namespace {

bool parseNumber(const std::string& s, double& out) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end;
}

bool parseShape(const std::string& s, lower::InputShape& out) {
  size_t x = s.find('x');
  if (x == std::string::npos)
    return false;
  double h, w;
  if (!parseNumber(s.substr(0, x), h) || !parseNumber(s.substr(x + 1), w) || h < 1 || w < 1 ||
      h > (1 << 24) || w > (1 << 24) || h != static_cast<int64_t>(h) ||
      w != static_cast<int64_t>(w))
    return false;
  out = {static_cast<int64_t>(h), static_cast<int64_t>(w)};
  return true;
}

} // namespace

bool takeInputOptions(const std::string& verb, std::vector<std::string>& args,
                      engine::GraphInputs& in, int& status) {
  std::vector<std::string> rest;
  auto fail = [&](int code, const std::string& message) {
    status = code;
    if (code == kUsageError)
      usageError(verb, message);
    else
      std::cerr << "podm " << verb << ": error: " << message << "\n";
    return false;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    std::string opt = args[i], value;
    bool isInput = opt == "--input" || opt.rfind("--input=", 0) == 0;
    bool isShape = opt == "--shape" || opt.rfind("--shape=", 0) == 0;
    if (!isInput && !isShape) {
      rest.push_back(opt);
      continue;
    }
    size_t eq = opt.find('=');
    if (eq != std::string::npos) {
      value = opt.substr(eq + 1);
      opt = opt.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return fail(kUsageError, opt + " needs NAME=" + (isInput ? "FILE" : "HxW"));
    }
    size_t sep = value.find('=');
    if (sep == std::string::npos || sep == 0 || sep + 1 == value.size())
      return fail(kUsageError, opt + " " + value + ": expected NAME=" + (isInput ? "FILE" : "HxW"));
    std::string name = value.substr(0, sep), what = value.substr(sep + 1);
    if (isShape) {
      lower::InputShape s;
      if (!parseShape(what, s))
        return fail(kUsageError, "--shape " + value + ": expected NAME=HxW with whole numbers");
      in.shapes[name] = s;
      continue;
    }
    double number;
    if (parseNumber(what, number)) {
      in.scalars[name] = number;
      continue;
    }
    if (std::string error = engine::readGraphInput(name, what, in); !error.empty())
      return fail(kModelError, error);
  }
  args = std::move(rest);
  return true;
}

bool parseInt(const std::string& s, long long lo, long long hi, long long& out) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || errno || end != s.c_str() + s.size() || v < lo || v > hi)
    return false;
  out = v;
  return true;
}

bool parseDouble(const std::string& s, double& out) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
    return false;
  out = v;
  return true;
}

bool parseAlignStep(const std::string& s, int& subdivisions) {
  double step = 0;
  const std::optional<int> n = parseDouble(s, step) ? io::alignSubdivisions(step) : std::nullopt;
  if (n)
    subdivisions = *n;
  return n.has_value();
}

bool checkOutput(const std::string& verb, const std::string& flag, const std::string& path,
                 OutputKind kind) {
  const std::optional<std::string> problem =
      kind == OutputKind::Image  ? io::imageOutputProblem(path)
      : kind == OutputKind::File ? io::fileOutputProblem(path)
                                 : io::folderOutputProblem(path);
  if (problem)
    std::cerr << "podm " << verb << ": error: " << flag << " " << *problem << "\n";
  return !problem;
}

bool checkNotAnInput(const std::string& verb, const std::string& flag, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& inputs) {
  for (const auto& [what, input] : inputs) {
    std::error_code ec;
    if (input.empty() || !std::filesystem::equivalent(path, input, ec))
      continue; // a missing path (ec set) is no input's
    std::cerr << "podm " << verb << ": error: " << flag << " " << path << " is " << what
              << ": writing there would replace it; choose another name\n";
    return false;
  }
  return true;
}

} // namespace podm::cli
