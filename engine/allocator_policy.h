// The process's heap policy for podm's workloads: image-sized buffers (a 512² plane is 1 MiB)
// are allocated and freed many times while a model is lowered and constant-folded. glibc serves
// such sizes with fresh mmaps by default and hands them back on free, so every allocation paid
// its page faults again (several microseconds per 4 KiB page on virtual machines). Called once,
// first thing, by each front door (the CLI, bench, the Python module).
#pragma once

namespace podm::engine {

// Keeps freed image-sized blocks in the heap for reuse instead of unmapping them, and lets the
// heap grow in large steps backed by transparent huge pages where the kernel offers them (one
// first-touch fault per 2 MiB: a short run's set-up was mostly 4 KiB page faults).
void useImageSizedHeapPolicy();

} // namespace podm::engine
