// Runs the real `podm` executable: exit codes (0 ok, 1 model errors, 2 usage), help for every
// verb, the version, and a model that uses a prox from a plugin.
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <array>
#include <cstdio>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace {

using Result = PodmResult;

// The verbs `podm --help` lists (the lines between "verbs:" and the next blank line).
std::vector<std::string> listedVerbs() {
  Result help = runPodm("--help");
  std::istringstream in(help.out.substr(help.out.find("verbs:\n") + 7));
  std::vector<std::string> verbs;
  for (std::string line; std::getline(in, line) && !line.empty();)
    verbs.push_back(line.substr(2, line.find(' ', 2) - 2));
  return verbs;
}

std::string example(const char* name) {
  return std::string(PODM_SOURCE_DIR) + "/examples/" + name;
}

std::string writeFile(const podm::test::ScratchDir& dir, const std::string& name,
                      const std::string& text) {
  std::string path = dir.file(name);
  std::ofstream(path) << text;
  return path;
}

} // namespace

TEST_CASE("version and global help") {
  Result v = runPodm("--version");
  CHECK(v.status == 0);
  CHECK(v.out.rfind("podm ", 0) == 0);
  Result h = runPodm("--help");
  CHECK(h.status == 0);
  CHECK(listedVerbs().size() >= 3);
  CHECK(runPodm("").status == 2);
  CHECK(runPodm("frobnicate").status == 2);
}

TEST_CASE("every verb has --help") {
  for (const std::string& verb : listedVerbs()) {
    CAPTURE(verb);
    Result r = runPodm(verb + " --help");
    CHECK(r.status == 0);
    CHECK(r.out.find("usage: podm " + verb) != std::string::npos);
  }
}

TEST_CASE("check: 0 for valid models, 1 for model errors, 2 for usage errors") {
  Result ok = runPodm("check " + example("sr_lp.podm") + " " + example("deblur_rpodm.podm"));
  CHECK(ok.status == 0);
  CHECK(ok.out.find("sr_lp.podm: ok") != std::string::npos);
  podm::test::ScratchDir dir;
  std::string bad = writeFile(dir, "bad.podm", "model m\ninput o : image\nvar x : image = y\n");
  Result err = runPodm("check " + bad);
  CHECK(err.status == 1);
  CHECK(err.out.find(":3:17: error: unknown name 'y'") != std::string::npos);
  CHECK(err.out.find("  var x : image = y\n                  ^") != std::string::npos);
  CHECK(runPodm("check").status == 2);
  CHECK(runPodm("check --nope " + example("sr_lp.podm")).status == 2);
  CHECK(runPodm("check /nonexistent/model.podm").status == 2);
  // One bad file among good ones still fails the run.
  CHECK(runPodm("check " + example("sr_lp.podm") + " " + bad).status == 1);
}

TEST_CASE("compile --emit=ast prints the tree; unknown stages are usage errors") {
  Result r = runPodm("compile " + example("fista_sr.podm") + " --emit=ast");
  CHECK(r.status == 0);
  CHECK(r.out.rfind("model fista_sr @3:1\n", 0) == 0);
  CHECK(runPodm("compile " + example("fista_sr.podm")).status == 2);
  CHECK(runPodm("compile " + example("fista_sr.podm") + " --emit=nonsense").status == 2);
}

TEST_CASE("compile --emit=plan of a model with networks needs no weight files") {
  // sr_lp's 25 denoisers are not in the repository: the plan is memory and placement only.
  Result r = runPodm("compile " + example("sr_lp.podm") + " --emit=plan --shape o=32x32");
  CHECK(r.status == 0);
  CHECK(r.out.find("// backend: cpu\n") != std::string::npos);
  CHECK(r.out.find("cpu: ") != std::string::npos);
  CHECK(r.out.find("internal error") == std::string::npos);
}

TEST_CASE("a prox from a plugin is usable in a model with --plugin") {
  podm::test::ScratchDir dir;
  std::string model = writeFile(dir, "plugin.podm",
                                "model m\ninput o : image\nvar x : image = o\n"
                                "f(x) = 0.5 * || x - o ||^2\n"
                                "g(x) = 1e-2 * elastic_net(x, ratio = 0.5)\n"
                                "stages 10 proxgrad { gamma = 1 }\n");
  CHECK(runPodm("check " + model).status == 1); // unknown without the plugin
  Result r = runPodm("check --plugin " + std::string(PODM_EXAMPLE_PLUGIN) + " " + model);
  CHECK(r.status == 0);
  CHECK(runPodm("check --plugin /nonexistent.so " + model).status == 2);
  Result t =
      runPodm("test-prox " + std::string(PODM_EXAMPLE_PLUGIN) + " elastic_net --arg ratio=0.5");
  CHECK(t.status == 0);
  CHECK(runPodm("test-prox builtin no_such_prox").status == 2);
}

TEST_CASE("podm test-prox without a prox name lists the built-in or the plugin's proxes") {
  Result b = runPodm("test-prox builtin");
  REQUIRE_MESSAGE(b.status == 0, b.out);
  for (const char* name :
       {"box", "hardthre_box", "l0", "l1", "l21", "lp", "nonneg", "tv_aniso", "tv_iso"})
    CHECK_MESSAGE((b.out.find(std::string("\n  ") + name + " (") != std::string::npos ||
                   b.out.find(std::string("\n  ") + name + "\n") != std::string::npos),
                  std::string(name));
  CHECK(b.out.find("  box (convex, separable, indicator)\n"
                   "    indicator of lo <= u_i <= hi; prox is clamping\n"
                   "    lo: required; lower bound\n") != std::string::npos);
  CHECK(b.out.find("    p: required, in [0, 1]; exponent, 0 < p < 1\n") != std::string::npos);
  CHECK(b.out.find("    iters: default 100, in [1, 1000000]; maximum FGP iterations\n") !=
        std::string::npos);
  CHECK(b.out.find("elastic_net") == std::string::npos);

  Result p = runPodm("test-prox " + std::string(PODM_EXAMPLE_PLUGIN));
  REQUIRE_MESSAGE(p.status == 0, p.out);
  CHECK(p.out.find("  elastic_net (convex, separable)\n") != std::string::npos);
  CHECK(p.out.find("    ratio: default 1, in [0, 1000000]; lambda2 / lambda1") !=
        std::string::npos);
  CHECK(p.out.find("tv_iso") == std::string::npos); // only what the plugin adds

  CHECK(runPodm("test-prox").status == 2);
  CHECK(runPodm("test-prox builtin --arg p=0.5").status == 2);
  CHECK(runPodm("test-prox /nonexistent.so").status == 2);
}

TEST_CASE("hostile files through the command: exit 1 with a diagnostic") {
  podm::test::ScratchDir dir;
  std::string big =
      writeFile(dir, "ident.podm", "model m\nconst " + std::string(1u << 20, 'a') + " = b\n");
  Result r = runPodm("check " + big);
  CHECK(r.status == 1);
  CHECK(r.out.size() < 2000);
  std::string empty = writeFile(dir, "empty.podm", "");
  CHECK(runPodm("check " + empty).status == 1);
}
