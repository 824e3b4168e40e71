// useImageSizedHeapPolicy: glibc's mallopt knobs and huge pages for the heap (allocator_policy.h
// says why).
#include "engine/allocator_policy.h"

#include <cstdint>
#include <cstdlib>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

namespace podm::engine {

void useImageSizedHeapPolicy() {
#if defined(__GLIBC__)
  // Blocks up to 256 MiB come from the heap (reused after free) rather than from their own mmap;
  // the heap is trimmed back to the system only when 1 GiB at its top is free.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  // The heap grows by 256 MiB of address space at once (no memory is used until it is touched),
  // and that range is advised as transparent huge pages: first touches then fault once per 2 MiB
  // instead of once per 4 KiB. Without THP (or with THP "never") the advice is a no-op.
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  constexpr size_t kGrowth = size_t{256} << 20;
  mallopt(M_TOP_PAD, static_cast<int>(kGrowth));
  const auto before = reinterpret_cast<uintptr_t>(sbrk(0));
  void* volatile step = std::malloc(kHuge); // the heap takes its first big step now (volatile:
  std::free(step);                          // a malloc/free pair may otherwise be elided)
  const auto after = reinterpret_cast<uintptr_t>(sbrk(0));
  const uintptr_t start = (before + kHuge - 1) & ~(kHuge - 1);
  if (after > start + kHuge)
    madvise(reinterpret_cast<void*>(start), (after - start) & ~(kHuge - 1), MADV_HUGEPAGE);
#endif
}

} // namespace podm::engine
