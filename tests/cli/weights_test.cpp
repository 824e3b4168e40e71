// `podm weights inspect` as a user runs it: listing a safetensors file, a clear error and exit 1
// on a corrupt one, usage errors with exit 2, and (when the shared data is present) a Keras file.
#include "tests/support/run_podm.h"
#include "tests/support/scratch_dir.h"

#include <array>
#include <cstdio>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

using Run = PodmResult;

std::string writeSafetensors(const podm::test::ScratchDir& dir, const std::string& name,
                             const std::string& header, size_t dataBytes) {
  std::string path = dir.file(name);
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[size_t(i)] = char((header.size() >> (8 * i)) & 0xFF);
  bytes += header + std::string(dataBytes, '\0');
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

} // namespace

TEST_CASE("podm weights inspect lists tensors, dtypes and shapes") {
  podm::test::ScratchDir dir;
  std::string file =
      writeSafetensors(dir, "ok.safetensors",
                       R"({"conv0.weight":{"dtype":"F32","shape":[2,1,3,3],"data_offsets":[0,72]},)"
                       R"("conv0.bias":{"dtype":"BF16","shape":[2],"data_offsets":[72,76]}})",
                       76);
  Run r = runPodm("weights inspect " + file);
  CHECK(r.status == 0);
  CHECK(r.out.find("safetensors, 2 tensors") != std::string::npos);
  CHECK(r.out.find("conv0.weight  F32    [2, 1, 3, 3]") != std::string::npos);
  CHECK(r.out.find("conv0.bias    BF16   [2]") != std::string::npos);

  std::string bad = writeSafetensors(
      dir, "bad.safetensors", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,800]}})", 8);
  Run e = runPodm("weights inspect " + bad);
  CHECK(e.status == 1);
  CHECK(e.out.find("podm weights: error: " + bad +
                   ": tensor 't': data_offsets [0, 800] outside "
                   "the data section of 8 bytes") != std::string::npos);

  CHECK(runPodm("weights").status == 2);
  CHECK(runPodm("weights inspect").status == 2);
  CHECK(runPodm("weights list " + file).status == 2);
}

TEST_CASE("podm weights inspect shows a Keras file's architecture (shared data)") {
  std::string net = std::string(PODM_SOURCE_DIR) + "/../shared/data/podm-official/model/net7.hdf5";
  if (!std::filesystem::exists(net)) {
    MESSAGE("skipped: " << net << " not found");
    return;
  }
  Run r = runPodm("weights inspect " + net);
  CHECK(r.status == 0);
  CHECK(r.out.find("HDF5, 14 datasets") != std::string::npos);
  CHECK(r.out.find("6: conv 64->64 k3 d4") != std::string::npos);
  CHECK(r.out.find("conv6.weight  F32    [1, 64, 3, 3]") != std::string::npos);
}

TEST_CASE("podm does not load libhdf5: Keras files are read by the podm-hdf5-reader program") {
  // What ldd prints: the libraries the dynamic loader maps when podm starts.
  Run loaded = runPodmWithEnv("LD_TRACE_LOADED_OBJECTS=1", "");
  REQUIRE(loaded.out.find("libstdc++") != std::string::npos);
  CHECK(loaded.out.find("hdf5") == std::string::npos);
  CHECK(loaded.out.find("libcurl") == std::string::npos);
}
