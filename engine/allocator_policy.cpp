// useImageSizedHeapPolicy: glibc's mallopt knobs (allocator_policy.h says why).
#include "engine/allocator_policy.h"

#include <malloc.h>

namespace podm::engine {

void useImageSizedHeapPolicy() {
#if defined(__GLIBC__)
  // Blocks up to 256 MiB come from the heap (reused after free) rather than from their own mmap;
  // the heap is trimmed back to the system only when 1 GiB at its top is free.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

} // namespace podm::engine
