// examples/plugins builds on its own, as a user builds a plugin outside the podm tree: CMake
// configures that folder alone against this source tree's headers, builds the MODULE library
// in a scratch folder, and the podm under test loads it and passes the prox property checks.
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sstream>

using podm::test::ScratchDir;

TEST_CASE("examples/plugins configures and builds standalone; podm loads the result") {
  ScratchDir tmp("podm-plugin-build");
  const std::string build = tmp.file("build"), log = tmp.file("cmake.log");
  // The compiler of this build: a plugin must share podm's compiler and C++ library.
  const std::string command = std::string("'") + PODM_CMAKE + "' -S '" + PODM_SOURCE_DIR +
                              "/examples/plugins' -B '" + build + "' -DPODM_SOURCE_DIR='" +
                              PODM_SOURCE_DIR + "' -DCMAKE_CXX_COMPILER='" + PODM_CXX_COMPILER +
                              "' > '" + log + "' 2>&1 && '" + PODM_CMAKE + "' --build '" + build +
                              "' >> '" + log + "' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  REQUIRE_MESSAGE(status == 0, text.str());
  const std::string plugin = build + "/libpodm_example_plugin.so";
  REQUIRE(std::filesystem::exists(plugin));
  PodmResult r = runPodm("test-prox '" + plugin + "' elastic_net --arg ratio=0.5");
  CHECK_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("OK: ") != std::string::npos);
}
