// Plugin loading: the example plugin loads and passes the same property checks as the standard
// library; each way a plugin can be broken gives a clear error and leaves the registry unchanged.
#include "stdlib/prox/plugin.h"
#include "stdlib/prox/property_check.h"
#include "stdlib/prox/prox.h"
#include "tests/stdlib/prox/prox_test_args.h"
#include "tests/support/scratch_dir.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace podm;
using namespace podm::stdlib;

namespace {

ProxRegistry standardRegistry() {
  ProxRegistry registry;
  registerStandardProxes(registry);
  return registry;
}

// Loads a plugin that must be refused; returns the error and checks nothing was registered.
std::string refusal(const std::string& path) {
  ProxRegistry registry = standardRegistry();
  const size_t before = registry.all().size();
  std::string error;
  CHECK_FALSE(loadProxPlugin(path, registry, error));
  CHECK(registry.all().size() == before);
  CHECK_FALSE(error.empty());
  return error;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("the example plugin loads and passes the property checks") {
  ProxRegistry registry = standardRegistry();
  std::string error;
  REQUIRE_MESSAGE(loadProxPlugin(PODM_EXAMPLE_PLUGIN, registry, error), error);
  const ProxEntry* entry = registry.find("elastic_net");
  REQUIRE(entry != nullptr);
  CHECK(entry->traits.convex);
  for (const ProxArgs& args : proxTestArguments("elastic_net")) {
    std::ostringstream log;
    int status = runProxPropertyTests(*entry, args, log);
    INFO(log.str());
    CHECK(status == 0);
  }
  // Default ratio, through the registry like a model file would.
  auto g = registry.make("elastic_net", {});
  Tensor v(Shape{1, 1, 1, 2});
  v.data()[0] = 3.0f;
  v.data()[1] = -0.5f;
  Tensor out(v.shape());
  g->prox(v, 1.0f, out);
  CHECK(out.data()[0] == doctest::Approx(1.0)); // (3 - 1) / (1 + 1)
  CHECK(out.data()[1] == 0.0f);
  CHECK(g->value(v) == doctest::Approx(3.5 + 0.5 * 9.25));
}

TEST_CASE("loading the same plugin twice is refused as a duplicate") {
  ProxRegistry registry = standardRegistry();
  std::string error;
  REQUIRE(loadProxPlugin(PODM_EXAMPLE_PLUGIN, registry, error));
  const size_t before = registry.all().size();
  CHECK_FALSE(loadProxPlugin(PODM_EXAMPLE_PLUGIN, registry, error));
  CHECK(contains(error, "prox 'elastic_net' is already registered"));
  CHECK(registry.all().size() == before);
  CHECK(registry.find("elastic_net") != nullptr); // the first load is untouched
}

TEST_CASE("a valid fixture plugin loads") {
  ProxRegistry registry = standardRegistry();
  std::string error;
  CHECK(loadProxPlugin(PODM_PROX_FIXTURE_VALID, registry, error));
  CHECK(registry.find("fixture_zero") != nullptr);
}

TEST_CASE("plugin errors are clear and leave the registry unchanged") {
  CHECK(contains(refusal("/nonexistent/libnothing.so"), "file not found"));

  test::ScratchDir dir;
  const std::string text = dir.file("not_a_library.so");
  std::ofstream(text) << "this is not a shared library\n";
  CHECK(contains(refusal(text), "not a shared library"));
  CHECK(contains(refusal(dir.path().string()), "not a shared library")); // a directory

  std::string unresolved = refusal(PODM_PROX_FIXTURE_UNDEFINED_SYMBOL);
  CHECK(contains(unresolved, "cannot be loaded"));
  CHECK(contains(unresolved, "podm_fixture_symbol_that_does_not_exist"));

  CHECK(contains(refusal(PODM_PROX_FIXTURE_NO_ABI), "does not export podm_plugin_abi_version"));
  std::string abi = refusal(PODM_PROX_FIXTURE_WRONG_ABI);
  CHECK(contains(abi, "built for plugin ABI version " + std::to_string(kProxPluginAbiVersion + 1)));
  CHECK(contains(abi, "expects version " + std::to_string(kProxPluginAbiVersion)));
  CHECK(contains(refusal(PODM_PROX_FIXTURE_NO_REGISTER),
                 "does not export podm_register_prox_plugin"));

  // All or nothing: the fresh name registered before the clash is not added either.
  std::string duplicate = refusal(PODM_PROX_FIXTURE_DUPLICATE);
  CHECK(contains(duplicate, "prox 'l1' is already registered"));
  std::string thrown = refusal(PODM_PROX_FIXTURE_THROWS);
  CHECK(contains(thrown, "registration failed: fixture refuses to register"));
  CHECK(contains(refusal(PODM_PROX_FIXTURE_EMPTY), "registered no prox function"));
}
