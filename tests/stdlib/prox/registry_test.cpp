// The registry's table and its diagnostics: the messages a model author sees for a bad prox call.
#include "stdlib/prox/prox.h"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <limits>
#include <string>

using namespace podm;
using namespace podm::stdlib;

namespace {

// The message of the std::invalid_argument that `make` throws; fails the test if none is thrown.
std::string makeError(std::string_view name, const ProxArgs& args) {
  try {
    proxRegistry().make(name, args);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  FAIL("make(" << name << ") did not throw");
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("the standard table lists every prox of the language, sorted, with summaries") {
  std::vector<std::string> names;
  for (const ProxEntry* entry : proxRegistry().all()) {
    names.push_back(entry->name);
    CHECK_FALSE(entry->summary.empty());
    for (const ProxParam& param : entry->params) {
      CHECK_FALSE(param.doc.empty());
      CHECK(param.min <= param.max);
    }
  }
  const std::vector<std::string> expected = {"box", "hardthre_box", "l0",       "l1",    "l21",
                                             "lp",  "nonneg",       "tv_aniso", "tv_iso"};
  CHECK(names == expected);
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(contains(proxRegistry().find("tv_iso")->summary, "1e-5"));
  CHECK(proxRegistry().find("tv_iso")->traits.iterative);
  CHECK(proxRegistry().find("l1")->traits.convex);
  CHECK_FALSE(proxRegistry().find("lp")->traits.convex);
  CHECK(proxRegistry().find("box")->traits.indicator);
  CHECK(proxRegistry().find("missing") == nullptr);
}

TEST_CASE("hardthre_box refines its traits by the variant chosen") {
  const ProxEntry& entry = *proxRegistry().find("hardthre_box");
  auto counted = makeProx(entry, {{"lo", -1}, {"hi", 1}, {"count", 3}});
  auto thresholded = makeProx(entry, {{"lo", -1}, {"hi", 1}, {"threshold", 0.1}});
  CHECK(effectiveTraits(entry, *counted).indicator);
  CHECK_FALSE(effectiveTraits(entry, *counted).separable);
  CHECK(effectiveTraits(entry, *thresholded).separable);
  CHECK_FALSE(effectiveTraits(entry, *thresholded).indicator);
}

TEST_CASE("unknown prox names are reported with a suggestion and the known names") {
  std::string message = makeError("tv-iso", {});
  CHECK(contains(message, "unknown prox function 'tv-iso'"));
  CHECK(contains(message, "did you mean 'tv_iso'?"));
  CHECK(contains(message, "Known: box, hardthre_box, l0, l1, l21, lp, nonneg, tv_aniso, tv_iso"));
  CHECK_FALSE(contains(makeError("frobnicate", {}), "did you mean"));
}

TEST_CASE("argument errors name the prox and the parameter") {
  CHECK(contains(makeError("lp", {}), "prox 'lp': missing required argument 'p'"));
  CHECK(contains(makeError("lp", {{"p", 1.5}}),
                 "prox 'lp': argument p = 1.5 is outside its range [0, 1]"));
  CHECK(contains(makeError("lp", {{"p", 1.0}}), "p must lie strictly between 0 and 1"));
  CHECK(contains(makeError("lp", {{"p", 0.0}}), "p must lie strictly between 0 and 1"));
  CHECK(contains(makeError("lp", {{"p", 0.5}, {"q", 1}}),
                 "unknown parameter 'q'; its parameters: p"));
  CHECK(contains(makeError("l1", {{"p", 0.5}}), "unknown parameter 'p'; it takes no parameters"));
  CHECK(contains(makeError("lp", {{"p", std::numeric_limits<double>::quiet_NaN()}}),
                 "is not a finite number"));
  CHECK(contains(makeError("box", {{"lo", 1}, {"hi", 0}}), "lo = 1 must not exceed hi = 0"));
  CHECK(contains(makeError("box", {{"lo", 1}}), "missing required argument 'hi'"));
  CHECK(contains(makeError("tv_iso", {{"iters", 2.5}}), "iters must be a whole number"));
  CHECK(contains(makeError("tv_iso", {{"iters", 0}}), "outside its range"));
}

TEST_CASE("proxArgumentError gives sema the same messages without throwing") {
  const ProxEntry& lp = *proxRegistry().find("lp");
  CHECK(proxArgumentError(lp, {{"p", 0.8}}).empty());
  CHECK(proxArgumentError(lp, {}) ==
        "prox 'lp': missing required argument 'p' (exponent, 0 < p < 1)");
  CHECK(contains(proxArgumentError(*proxRegistry().find("hardthre_box"), {{"lo", 0}, {"hi", 1}}),
                 "give either count"));
}

TEST_CASE("hardthre_box needs exactly one of count and threshold") {
  CHECK(
      contains(makeError("hardthre_box", {{"lo", 0}, {"hi", 1}, {"count", 3}, {"threshold", 0.1}}),
               "prox 'hardthre_box': give either count or threshold, not both"));
  CHECK(contains(makeError("hardthre_box", {{"lo", 0}, {"hi", 1}}),
                 "give either count (sparsity level) or threshold"));
  CHECK(contains(makeError("hardthre_box", {{"lo", 0}, {"hi", 1}, {"count", 2.5}}),
                 "count must be a whole number"));
  CHECK_NOTHROW(proxRegistry().make("hardthre_box", {{"lo", 0}, {"hi", 1}, {"count", 3}}));
  CHECK_NOTHROW(proxRegistry().make("hardthre_box", {{"lo", 0}, {"hi", 1}, {"threshold", 0.1}}));
}

TEST_CASE("defaults are filled in for optional parameters") {
  auto tv = proxRegistry().make("tv_iso", {});
  CHECK(tv != nullptr);
  ProxArgs seen;
  ProxRegistry registry;
  registry.add({.name = "probe",
                .summary = "records its arguments",
                .params = {{"a", 2.5, false, 0, 10, "has a default"},
                           {"b", std::numeric_limits<double>::quiet_NaN(), false, 0, 10,
                            "optional, no default"}},
                .traits = {},
                .make = [&seen](const ProxArgs& args) -> std::unique_ptr<ProxFunction> {
                  seen = args;
                  return proxRegistry().make("l1", {});
                }});
  registry.make("probe", {});
  CHECK(seen == ProxArgs{{"a", 2.5}});
  registry.make("probe", {{"b", 1}});
  CHECK(seen == ProxArgs{{"a", 2.5}, {"b", 1}});
}

TEST_CASE("the registry refuses duplicates and incomplete entries") {
  ProxRegistry registry;
  registerStandardProxes(registry);
  CHECK(registry.all().size() == proxRegistry().all().size());
  ProxEntry duplicate = *proxRegistry().find("l1");
  try {
    registry.add(duplicate);
    FAIL("duplicate accepted");
  } catch (const std::invalid_argument& error) {
    CHECK(contains(error.what(), "prox 'l1' is already registered"));
  }
  ProxEntry unnamed = duplicate;
  unnamed.name = "";
  CHECK_THROWS_AS(registry.add(unnamed), std::invalid_argument);
  ProxEntry noFactory = duplicate;
  noFactory.name = "no_factory";
  noFactory.make = nullptr;
  CHECK_THROWS_AS(registry.add(noFactory), std::invalid_argument);
  CHECK(registry.find("no_factory") == nullptr);
}
