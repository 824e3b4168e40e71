// Runs the real `podm` executable for end-to-end tests: exit status plus stdout and stderr
// together. The including suite defines PODM_EXE (the executable's path) in its CMake.
#pragma once

#include <array>
#include <cstdio>
#include <doctest/doctest.h>
#include <string>
#include <sys/wait.h>

struct PodmResult {
  int status = -1;
  std::string out; // stdout and stderr together
};

// `env` ("NAME=VALUE ...", or "") is put before the command: tests of what the environment
// changes (the FFT plan cache) set it there rather than in the test process.
inline PodmResult runPodmWithEnv(const std::string& env, const std::string& args) {
  std::string command = env + " " + std::string(PODM_EXE) + " " + args + " 2>&1";
  PodmResult r;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    r.out.append(buffer.data(), n);
  int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

inline PodmResult runPodm(const std::string& args) {
  return runPodmWithEnv("", args);
}
