// Thread-local growing buffers behind scratch.h.
#include "numerics/scratch.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <new>
#include <sys/mman.h>

namespace podm::numerics {
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
    buffer.memory.reset(allocateBuffer(rounded));
    buffer.bytes = rounded;
  }
  return buffer.memory.get();
}

} // namespace

void* allocateBuffer(size_t bytes, size_t alignment) {
  constexpr size_t kHugePage = size_t{2} << 20;
  const bool huge = bytes >= kHugePage;
  if (huge)
    alignment = std::max(alignment, kHugePage);
  const size_t rounded = (std::max<size_t>(bytes, 1) + alignment - 1) / alignment * alignment;
  void* p = std::aligned_alloc(alignment, rounded);
  if (!p)
    throw std::bad_alloc();
  if (huge)
    madvise(p, rounded, MADV_HUGEPAGE); // advice only: without huge pages it stays 4 KiB pages
  return p;
}

float* scratchFloats(ScratchSlot slot, size_t count) {
  return static_cast<float*>(scratchBytes(slot, count * sizeof(float)));
}

std::complex<float>* scratchComplex(ScratchSlot slot, size_t count) {
  return static_cast<std::complex<float>*>(scratchBytes(slot, count * sizeof(std::complex<float>)));
}

} // namespace podm::numerics
