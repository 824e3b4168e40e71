// Host memory behind the Backend interface, remembering what is still allocated: stands in for a
// device's memory where CUDA kernel builders are tested on the host (who owns a node's buffers and
// when they are freed), so those tests run without a GPU.
#pragma once

#include "runtime/backend.h"

#include <cstdlib>
#include <cstring>
#include <doctest/doctest.h>
#include <map>

namespace podm::testing {

class RecordingMemory final : public Backend {
public:
  std::map<void*, size_t> live;
  int frees = 0;

  ~RecordingMemory() override {
    for (auto& [p, bytes] : live)
      std::free(p);
  }
  std::string name() const override { return "recording"; }
  bool supports(const ir::Graph&, ir::ValueId, const PrepareContext&) const override {
    return false;
  }
  std::string unsupportedReason(const ir::Graph&, ir::ValueId,
                                const PrepareContext&) const override {
    return "memory only";
  }
  std::unique_ptr<BackendProgram> prepare(const ir::Graph&, std::span<const ir::ValueId>,
                                          const PrepareContext&) override {
    return nullptr;
  }
  void execute(BackendProgram&, size_t, const KernelIO&) override {}
  bool hostAddressable() const override { return true; }
  DevicePtr allocate(size_t bytes) override {
    void* p = std::malloc(bytes == 0 ? 1 : bytes);
    live[p] = bytes;
    return DevicePtr{p};
  }
  void deallocate(DevicePtr p) override {
    REQUIRE(live.count(p.raw) == 1);
    live.erase(p.raw);
    std::free(p.raw);
    ++frees;
  }
  void upload(DevicePtr dst, const void* src, size_t bytes) override {
    std::memcpy(dst.raw, src, bytes);
  }
  void download(void* dst, DevicePtr src, size_t bytes) override {
    std::memcpy(dst, src.raw, bytes);
  }
  void copy(DevicePtr dst, DevicePtr src, size_t bytes) override {
    std::memcpy(dst.raw, src.raw, bytes);
  }
};

} // namespace podm::testing
