// Thread-local growing buffers behind scratch.h.
#include "runtime/cpu/kernels/scratch.h"

#include <array>
#include <cstdlib>
#include <memory>
#include <new>

namespace podm::cpu {
namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

struct ScratchBuffer {
  std::unique_ptr<void, FreeDeleter> memory;
  size_t bytes = 0;
};

void* scratchBytes(ScratchSlot slot, size_t bytes) {
  thread_local std::array<ScratchBuffer, static_cast<size_t>(ScratchSlot::Count)> buffers;
  ScratchBuffer& buffer = buffers[static_cast<size_t>(slot)];
  if (buffer.bytes < bytes) {
    // Round up so that a sequence of slightly growing requests does not reallocate every time.
    size_t rounded = (bytes + bytes / 4 + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (!p)
      throw std::bad_alloc();
    buffer.memory.reset(p);
    buffer.bytes = rounded;
  }
  return buffer.memory.get();
}

} // namespace

float* scratchFloats(ScratchSlot slot, size_t count) {
  return static_cast<float*>(scratchBytes(slot, count * sizeof(float)));
}

std::complex<float>* scratchComplex(ScratchSlot slot, size_t count) {
  return static_cast<std::complex<float>*>(scratchBytes(slot, count * sizeof(std::complex<float>)));
}

} // namespace podm::cpu
