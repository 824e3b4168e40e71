// Arena planning: given the bytes and live range of every buffer a backend needs, assign offsets
// in one arena so that buffers live at the same time never overlap and the arena stays close to
// the peak of live data. The executor builds the live ranges from the graph's schedule (stage loop
// included, see exec_plan.h); this file knows nothing about graphs.
//
// Algorithm: greedy by size (as TFLite's arena planner): buffers in decreasing size, each placed
// in the smallest gap between already-placed buffers whose live ranges overlap its own, or after
// them. Offsets are 64-byte aligned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace podm {

inline constexpr size_t kArenaAlignment = 64;
inline size_t alignArena(size_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

// A buffer live from position `start` to `end`, both inclusive.
struct LiveInterval {
  size_t bytes = 0;
  int32_t start = 0;
  int32_t end = 0;

  bool overlaps(const LiveInterval& o) const { return start <= o.end && o.start <= end; }
};

struct ArenaPlan {
  std::vector<size_t> offsets; // per interval
  size_t arenaBytes = 0;       // what the plan allocates
  size_t naiveBytes = 0;       // one buffer per interval, no reuse
  size_t peakLiveBytes = 0;    // largest total of buffers live at one position (a lower bound)
};

// reuse = false gives every buffer its own bytes (the naive plan; for debugging and tests).
ArenaPlan planArena(std::span<const LiveInterval> buffers, bool reuse = true);

} // namespace podm
