// Greedy-by-size arena planning.
#include "runtime/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace podm {
namespace {

size_t peakLive(std::span<const LiveInterval> buffers) {
  // Sweep: +bytes at start, -bytes after end; starts sort before ends at the same position.
  std::vector<std::pair<int64_t, int64_t>> events;
  events.reserve(buffers.size() * 2);
  for (const LiveInterval& b : buffers) {
    events.emplace_back(b.start, static_cast<int64_t>(alignArena(b.bytes)));
    events.emplace_back(int64_t{b.end} + 1, -static_cast<int64_t>(alignArena(b.bytes)));
  }
  std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second < b.second;
  });
  int64_t live = 0, peak = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    live += events[i].second;
    // Evaluate once all events of one position are applied.
    if (i + 1 == events.size() || events[i + 1].first != events[i].first)
      peak = std::max(peak, live);
  }
  return static_cast<size_t>(peak);
}

} // namespace

ArenaPlan planArena(std::span<const LiveInterval> buffers, bool reuse) {
  ArenaPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  for (const LiveInterval& b : buffers)
    plan.naiveBytes += alignArena(b.bytes);
  plan.peakLiveBytes = peakLive(buffers);
  if (!reuse) {
    size_t offset = 0;
    for (size_t i = 0; i < buffers.size(); ++i) {
      plan.offsets[i] = offset;
      offset += alignArena(buffers[i].bytes);
    }
    plan.arenaBytes = offset;
    return plan;
  }

  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes)
      return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].start < buffers[b].start;
  });

  std::vector<size_t> placed;
  std::vector<std::pair<size_t, size_t>> busy; // [offset, end) of overlapping placed buffers
  for (size_t i : order) {
    const size_t size = alignArena(buffers[i].bytes);
    busy.clear();
    for (size_t j : placed)
      if (buffers[j].overlaps(buffers[i]))
        busy.emplace_back(plan.offsets[j], plan.offsets[j] + alignArena(buffers[j].bytes));
    std::sort(busy.begin(), busy.end());
    // Best fit: the smallest gap that holds the buffer; else after the last busy range.
    size_t best = SIZE_MAX, bestGap = SIZE_MAX, cursor = 0;
    for (const auto& [begin, end] : busy) {
      if (begin > cursor && begin - cursor >= size && begin - cursor < bestGap) {
        best = cursor;
        bestGap = begin - cursor;
      }
      cursor = std::max(cursor, end);
    }
    if (best == SIZE_MAX)
      best = cursor;
    plan.offsets[i] = best;
    plan.arenaBytes = std::max(plan.arenaBytes, best + size);
    placed.push_back(i);
  }
  return plan;
}

} // namespace podm
